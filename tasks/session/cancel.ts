/**
 * `session cancel --nonce <n>`: voids a signed grant or revocation nobody submitted yet. The owner clear-signs an
 * EIP-712 `NonceCancellation` on the Ledger (the task prints what the device will show and asks first; it refuses,
 * printing the hashes, when the device could not clear-sign it), and anyone carries it on chain:
 * - `--relayer <address>`: that account of the network (not the Ledger) submits it at once;
 * - otherwise it is written to a file for `session submit`.
 */
import { writeFile } from "node:fs/promises";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { assertAccountOwner } from "../../client/grant.js";
import {
  InvalidSignedFileError,
  LedgerAccountError,
  NotConfirmedError,
  requireOption,
} from "../../client/inputErrors.js";
import { LedgerClearSigner } from "../../client/ledgerTypedData.js";
import { parseAddress } from "../../client/parse.js";
import { signNonceCancellation, type SignedFile } from "../../client/signed.js";
import { submitSignedFile } from "../../client/submit.js";
import {
  ledgerOwner,
  openLeash,
  printJson,
  progressTo,
  runTask,
  taskEnv,
  type CommonTaskArguments,
  type TaskEnv,
} from "../common.js";
import { deviceSummaryLines } from "./revoke.js";

/** The options of `session cancel`. */
export interface CancelTaskArguments extends CommonTaskArguments {
  account?: string;
  nonce?: string;
  relayer?: string;
  out?: string;
  yes: boolean;
}

/** What `session cancel` did. */
export interface CancelTaskResult {
  account: string;
  nonce: bigint;
  transactionHash?: string;
  submittedBy?: string;
  cancellationFile?: string;
  signedFile?: SignedFile;
  /** What the Ledger showed, label by label, as the task printed it before asking. */
  deviceSummary?: [label: string, value: string][];
}

function parseNonce(text: string): bigint {
  if (!/^\d{1,78}$/.test(text) || BigInt(text) >= 1n << 256n) {
    throw new InvalidSignedFileError(
      `--nonce: "${text}" is not a nonce (a decimal number below 2^256, as in the grant or revocation file)`,
      "--nonce",
    );
  }
  return BigInt(text);
}

/** The logic of `session cancel`, for the task and tests. */
export async function runCancel(args: CancelTaskArguments, env: TaskEnv): Promise<CancelTaskResult> {
  const { io } = env;
  const owner = ledgerOwner(env.connection);
  const leash = await openLeash(env, args.addresses);
  const account = parseAddress(requireOption(args.account, "--account", "0xYourAccount"), "--account");
  const nonce = parseNonce(requireOption(args.nonce, "--nonce", "1234"));
  const relayer = args.relayer === undefined ? undefined : parseAddress(args.relayer, "--relayer");
  if (relayer !== undefined && relayer === owner) {
    throw new LedgerAccountError(
      "--relayer is the Ledger account; pick another account of the network (a hot key, the agent, a watchtower)",
      "--relayer",
    );
  }
  const provider = env.connection.ethers.provider;
  await assertAccountOwner(provider, leash.addresses, account, owner);
  io.progress(
    `Cancel the signed grant or revocation with nonce ${nonce} of account ${account} on chain ${leash.chainId}`,
  );
  const result: CancelTaskResult = { account, nonce };
  const signer = new LedgerClearSigner(owner, provider, {
    derivationFunction: env.connection.networkConfig.ledgerOptions?.derivationFunction,
    async onClearSignable(preview) {
      result.deviceSummary = deviceSummaryLines(preview);
      io.progress("Your Ledger will show:");
      for (const [label, value] of result.deviceSummary) io.progress(`  ${label}: ${value}`);
      if (!args.yes && !(await io.confirm("Sign this cancellation on your Ledger?"))) {
        throw new NotConfirmedError("not confirmed: nothing was signed", "--yes");
      }
    },
  });
  const signed = await signNonceCancellation(signer, { addresses: leash.addresses, account, nonce }, progressTo(io));
  result.signedFile = signed;
  if (relayer === undefined) {
    const file = args.out ?? `cancellation-${account}-${nonce}.json`;
    await writeFile(file, JSON.stringify(signed, null, 2) + "\n", { flag: "wx" });
    result.cancellationFile = file;
  } else {
    const submitter = await env.connection.ethers.getSigner(relayer);
    const sent = await submitSignedFile(submitter, signed, leash.addresses, (kind, message) => {
      if (kind !== "prompt") io.progress(message);
    });
    result.transactionHash = sent.transactionHash;
    result.submittedBy = relayer;
  }
  if (args.json) {
    printJson(io, {
      chainId: leash.chainId,
      account,
      nonce: nonce.toString(),
      transactionHash: result.transactionHash ?? null,
      submittedBy: result.submittedBy ?? null,
      cancellationFile: result.cancellationFile ?? null,
    });
  } else if (result.cancellationFile !== undefined) {
    io.out(`Signed cancellation written to ${result.cancellationFile}; submit it with session submit`);
  } else {
    io.out(`Nonce ${nonce} of ${account} cancelled in ${result.transactionHash} (submitted by ${result.submittedBy})`);
  }
  return result;
}

/** The task action of `session cancel`. */
export default async function cancelAction(args: CancelTaskArguments, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(async () => runCancel(args, await taskEnv(hre, args.json)));
}
