/**
 * `session revoke --session <id>` and `session revoke-all` (the kill switch): checked, confirmed, then signed on the
 * Ledger as a transaction to the account, or with --signature-only as an EIP-712 revocation written to a file that a
 * watchtower or relayer submits (`session submit`).
 */
import { writeFile } from "node:fs/promises";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { assertAccountOwner } from "../../client/grant.js";
import { NotConfirmedError, requireOption } from "../../client/inputErrors.js";
import { assertSessionExists, revokeAllSessions, revokeSession } from "../../client/owner.js";
import { signAllSessionsRevocation, signSessionRevocation, type SignedFile } from "../../client/signed.js";
import { parseAddress, parseSessionId } from "../../client/parse.js";
import {
  ledgerOwner,
  ledgerSigner,
  openLeash,
  printJson,
  progressTo,
  runTask,
  taskEnv,
  type CommonTaskArguments,
  type TaskEnv,
} from "../common.js";

/** The options of `session revoke-all`. */
export interface RevokeAllTaskArguments extends CommonTaskArguments {
  account?: string;
  signatureOnly: boolean;
  out?: string;
  yes: boolean;
}

/** The options of `session revoke`. */
export interface RevokeTaskArguments extends RevokeAllTaskArguments {
  session?: string;
}

/** What a revocation task did. */
export interface RevokeTaskResult {
  account: string;
  sessionId?: number;
  transactionHash?: string;
  revocationFile?: string;
  signedFile?: SignedFile;
}

/** The logic of `session revoke`, for the task and tests: `--session` is required. */
export async function runRevoke(args: RevokeTaskArguments, env: TaskEnv): Promise<RevokeTaskResult> {
  const sessionId = parseSessionId(requireOption(args.session, "--session", "1"), "--session");
  return revoke(args, sessionId, env);
}

/** The logic of `session revoke-all` (the kill switch), for the task and tests. */
export async function runRevokeAll(args: RevokeAllTaskArguments, env: TaskEnv): Promise<RevokeTaskResult> {
  return revoke(args, undefined, env);
}

async function revoke(
  args: RevokeAllTaskArguments,
  sessionId: number | undefined,
  env: TaskEnv,
): Promise<RevokeTaskResult> {
  const { io } = env;
  const owner = ledgerOwner(env.connection);
  const leash = await openLeash(env, args.addresses);
  const account = parseAddress(requireOption(args.account, "--account", "0xYourAccount"), "--account");
  const provider = env.connection.ethers.provider;
  await assertAccountOwner(provider, leash.addresses, account, owner);
  if (sessionId !== undefined) await assertSessionExists(provider, leash.addresses, account, sessionId);
  const what =
    sessionId === undefined
      ? `REVOKE EVERY SESSION of account ${account} (kill switch)`
      : `Revoke session ${sessionId} of account ${account}`;
  io.progress(`${what} on chain ${leash.chainId}, ${args.signatureOnly ? "as a signed revocation" : "by transaction"}`);
  if (!args.yes && !(await io.confirm("Sign this revocation on your Ledger?"))) {
    throw new NotConfirmedError("not confirmed: nothing was signed", "--yes");
  }
  const signer = await ledgerSigner(env.connection);
  const target = { addresses: leash.addresses, account };
  const result: RevokeTaskResult = { account, sessionId };
  if (args.signatureOnly) {
    const signed =
      sessionId === undefined
        ? await signAllSessionsRevocation(signer, target, progressTo(io))
        : await signSessionRevocation(signer, { ...target, sessionId }, progressTo(io));
    const file = args.out ?? `revocation-${account}-${sessionId ?? "all"}.json`;
    await writeFile(file, JSON.stringify(signed, null, 2) + "\n", { flag: "wx" });
    result.signedFile = signed;
    result.revocationFile = file;
  } else {
    const sent =
      sessionId === undefined
        ? await revokeAllSessions(signer, target, progressTo(io))
        : await revokeSession(signer, { ...target, sessionId }, progressTo(io));
    result.transactionHash = sent.transactionHash;
  }
  if (args.json) {
    printJson(io, {
      chainId: leash.chainId,
      account,
      sessionId: sessionId ?? null,
      transactionHash: result.transactionHash ?? null,
      revocationFile: result.revocationFile ?? null,
    });
  } else if (result.revocationFile !== undefined) {
    io.out(`Signed revocation written to ${result.revocationFile}; submit it with session submit`);
  } else {
    io.out(
      sessionId === undefined
        ? `Every session of ${account} revoked in ${result.transactionHash}`
        : `Session ${sessionId} of ${account} revoked in ${result.transactionHash}`,
    );
  }
  return result;
}

/** The task action of `session revoke`. */
export default async function revokeAction(args: RevokeTaskArguments, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(async () => runRevoke(args, await taskEnv(hre, args.json)));
}
