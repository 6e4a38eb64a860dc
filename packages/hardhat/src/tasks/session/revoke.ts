/**
 * `session revoke --session <id>` and `session revoke-all` (the kill switch): checked, then signed on the Ledger as
 * an EIP-712 revocation the device clear-signs, and carried on chain by anyone:
 * - `--relayer <address>`: that account of the network (a hot key, the agent, a watchtower; not the Ledger) submits
 *   it at once;
 * - otherwise (or with `--signature-only`) it is written to a file for `session submit`.
 *
 * The Ledger either clear-signs (display rules for the message from Ledger's filter service) or the task refuses
 * before the device shows anything, printing the hashes a blind-signing device would show; it never falls back to
 * hashed signing, and a rejection on the device is reported as one (packages/hardhat/src/ledger/ledgerTypedData.ts).
 * `--by-transaction` keeps the old path, a call to the account, which a real Ledger signs only with blind signing on.
 */
import { readFile } from "node:fs/promises";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { assertAccountOwner } from "@leashkit/client";
import { SignedActionUnsupportedError } from "@leashkit/client";
import { NotConfirmedError, requireOption } from "../input.js";
import { assertSessionExists, revokeAllSessions, revokeSession } from "@leashkit/client";
import { signAllSessionsRevocation, signSessionRevocation, type SignedFile } from "@leashkit/client";
import {
  InvalidSessionIdError,
  parseAddress,
  parseSessionId,
  SessionKeyValidationModule__factory,
  sessionOfPermissionContext,
} from "@leashkit/client";
import { getAddress, ZeroAddress } from "ethers";
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
import { deliverSigned, ownerDevice, parseRelayer } from "../ownerDevice.js";

/** The options of `session revoke-all`. */
export interface RevokeAllTaskArguments extends CommonTaskArguments {
  account?: string;
  /** On an ERC-6900 account Leash did not deploy: the owner's validation, `<module>:<entityId>` or `built-in`. */
  ownerValidation?: string;
  /** Only write the signed revocation to a file (do not submit it, even with --relayer). */
  signatureOnly: boolean;
  /** The account of the network that submits the signed revocation (not the Ledger). */
  relayer?: string;
  /** Send a transaction to the account instead (a real Ledger needs blind signing for it). */
  byTransaction?: boolean;
  out?: string;
  yes: boolean;
}

/** The options of `session revoke`. */
export interface RevokeTaskArguments extends RevokeAllTaskArguments {
  session?: string;
  /**
   * An ERC-7715 `wallet_revokePermissions` request file (`{ "permissionContext": "0x…" }`, or its `params` array, or
   * the grant's response): the session to revoke is the one its context names.
   */
  request?: string;
}

/** What a revocation task did. */
export interface RevokeTaskResult {
  account: string;
  sessionId?: number;
  transactionHash?: string;
  /** Who sent the transaction: the Ledger (`--by-transaction`) or the relayer. */
  submittedBy?: string;
  revocationFile?: string;
  signedFile?: SignedFile;
  /** What the Ledger showed, label by label, as the task printed it before asking. */
  deviceSummary?: [label: string, value: string][];
}

/** The logic of `session revoke`, for the task and tests: `--session` is required. */
export async function runRevoke(args: RevokeTaskArguments, env: TaskEnv): Promise<RevokeTaskResult> {
  if (args.request !== undefined) {
    if (args.session !== undefined) {
      throw new InvalidSessionIdError("--request names the session: drop --session", "--session");
    }
    const chainId = (await env.connection.ethers.provider.getNetwork()).chainId;
    const session = await revocationRequestSession(args.request, chainId);
    if (args.account !== undefined && parseAddress(args.account, "--account") !== session.account) {
      throw new InvalidSessionIdError(
        `--request names a session of ${session.account}, not of --account ${args.account}`,
        "--request",
      );
    }
    // The context is the agent's: revoke only the very grant it names, not whatever session now holds that id.
    const module = SessionKeyValidationModule__factory.connect(session.sessionModule, env.connection.ethers.provider);
    const installed = await module.getSession(session.account, session.sessionId);
    if (
      installed.agent === ZeroAddress ||
      getAddress(installed.agent) !== getAddress(session.agent) ||
      installed.validUntil !== session.validUntil
    ) {
      throw new InvalidSessionIdError(
        `--request names session ${session.sessionId} granted to ${session.agent} until ${session.validUntil}, but ` +
          `the account's session ${session.sessionId} is ${installed.agent === ZeroAddress ? "not installed" : `${installed.agent}'s until ${installed.validUntil}`}: nothing was signed`,
        "--request",
      );
    }
    return revoke({ ...args, account: session.account }, session.sessionId, env);
  }
  const sessionId = parseSessionId(requireOption(args.session, "--session", "1"), "--session");
  return revoke(args, sessionId, env);
}

/** The session a `wallet_revokePermissions` request file names by its context. */
async function revocationRequestSession(file: string, chainId: bigint) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new InvalidSessionIdError(
      `--request: cannot read ${file} as JSON (${(error as Error).message})`,
      "--request",
    );
  }
  const items = (Array.isArray(parsed) ? parsed : [parsed]) as { permissionContext?: unknown; context?: unknown }[];
  const contexts = [...new Set(items.map((item) => item?.permissionContext ?? item?.context))];
  if (contexts.length !== 1 || typeof contexts[0] !== "string") {
    throw new InvalidSessionIdError(
      `--request: ${file} must hold one { "permissionContext": "0x…" } (wallet_revokePermissions) or one grant's response`,
      "--request",
    );
  }
  return sessionOfPermissionContext(contexts[0], chainId);
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
  const ownerAccount = await assertAccountOwner(provider, leash.addresses, account, owner, args.ownerValidation);
  if (args.byTransaction !== true && !ownerAccount.signedActions.supported) {
    throw new SignedActionUnsupportedError(
      `${ownerAccount.signedActions.reason}. Nothing was signed`,
      "--by-transaction",
    );
  }
  if (sessionId !== undefined) await assertSessionExists({ provider, addresses: leash.addresses, account, sessionId });
  const what =
    sessionId === undefined
      ? `REVOKE EVERY SESSION of account ${account} (kill switch)`
      : `Revoke session ${sessionId} of account ${account}`;
  const byTransaction = args.byTransaction === true;
  const relayer = args.signatureOnly ? undefined : parseRelayer(args.relayer, owner);
  const how = byTransaction
    ? "by transaction (a real Ledger needs blind signing for it)"
    : relayer === undefined
      ? "as a signed revocation written to a file"
      : `as a signed revocation submitted by ${relayer}`;
  io.progress(`${what} on chain ${leash.chainId}, ${how}`);
  const target = { addresses: leash.addresses, account, ownerValidation: ownerAccount.validation };
  const result: RevokeTaskResult = { account, sessionId };
  if (!byTransaction) {
    const signer = ownerDevice(env, owner, {
      yes: args.yes,
      question: "Sign this revocation on your Ledger?",
      onSummary: (lines) => (result.deviceSummary = lines),
    });
    const signed =
      sessionId === undefined
        ? await signAllSessionsRevocation({ signer, target, onProgress: progressTo(io) })
        : await signSessionRevocation({ signer, target: { ...target, sessionId }, onProgress: progressTo(io) });
    result.signedFile = signed;
    const file = args.out ?? `revocation-${account}-${sessionId ?? "all"}.json`;
    const delivery = await deliverSigned(env, signed, leash.addresses, relayer, file);
    result.revocationFile = delivery.file;
    result.transactionHash = delivery.transactionHash;
    result.submittedBy = delivery.submittedBy;
  } else {
    if (!args.yes && !(await io.confirm("Sign this revocation on your Ledger?"))) {
      throw new NotConfirmedError("not confirmed: nothing was signed", "--yes");
    }
    const signer = await ledgerSigner(env.connection);
    const sent =
      sessionId === undefined
        ? await revokeAllSessions({ signer, target, onProgress: progressTo(io) })
        : await revokeSession({ signer, target: { ...target, sessionId }, onProgress: progressTo(io) });
    result.transactionHash = sent.transactionHash;
    result.submittedBy = owner;
  }
  if (args.json) {
    printJson(io, {
      chainId: leash.chainId,
      account,
      sessionId: sessionId ?? null,
      transactionHash: result.transactionHash ?? null,
      submittedBy: result.submittedBy ?? null,
      revocationFile: result.revocationFile ?? null,
    });
  } else if (result.revocationFile !== undefined) {
    io.out(`Signed revocation written to ${result.revocationFile}; submit it with session submit`);
  } else {
    const by = result.submittedBy === owner ? "" : ` (submitted by ${result.submittedBy})`;
    io.out(
      sessionId === undefined
        ? `Every session of ${account} revoked in ${result.transactionHash}${by}`
        : `Session ${sessionId} of ${account} revoked in ${result.transactionHash}${by}`,
    );
  }
  return result;
}

/** The task action of `session revoke`. */
export default async function revokeAction(args: RevokeTaskArguments, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(async () => runRevoke(args, await taskEnv(hre, args.json)));
}
