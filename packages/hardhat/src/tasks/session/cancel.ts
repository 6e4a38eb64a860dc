/**
 * `session cancel --nonce <n>`: voids a signed grant or revocation nobody submitted yet. The owner clear-signs an
 * EIP-712 `NonceCancellation` on the Ledger (the task prints what the device will show and asks first; it refuses,
 * printing the hashes, when the device could not clear-sign it), and anyone carries it on chain:
 * - `--relayer <address>`: that account of the network (not the Ledger) submits it at once;
 * - otherwise it is written to a file for `session submit`.
 * `--by-transaction` sends the owner's call `execute(sessionModule, 0, cancelNonce(n))` instead (a real Ledger signs it
 * with blind signing on): the only way on an ERC-6900 account Leash did not deploy, whose owner cannot sign a
 * cancellation the device shows.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { assertAccountOwner } from "@leashkit/client";
import { InvalidSignedFileError, SignedActionUnsupportedError } from "@leashkit/client";
import { NotConfirmedError, requireOption } from "../input.js";
import { cancelNonceByTransaction } from "@leashkit/client";
import { parseAddress } from "@leashkit/client";
import { signNonceCancellation, type SignedFile } from "@leashkit/client";
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

/** The options of `session cancel`. */
export interface CancelTaskArguments extends CommonTaskArguments {
  account?: string;
  /** On an ERC-6900 account Leash did not deploy: the owner's validation, `<module>:<entityId>` or `built-in`. */
  ownerValidation?: string;
  nonce?: string;
  relayer?: string;
  out?: string;
  /** Send the owner's transaction to the account instead (a real Ledger needs blind signing for it). */
  byTransaction?: boolean;
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
  const byTransaction = args.byTransaction === true;
  const relayer = byTransaction ? undefined : parseRelayer(args.relayer, owner);
  const provider = env.connection.ethers.provider;
  const ownerAccount = await assertAccountOwner(provider, leash.addresses, account, owner, args.ownerValidation);
  if (!byTransaction && !ownerAccount.signedActions.supported) {
    throw new SignedActionUnsupportedError(
      `${ownerAccount.signedActions.reason}. Nothing was signed`,
      "--by-transaction",
    );
  }
  io.progress(
    `Cancel the signed grant or revocation with nonce ${nonce} of account ${account} on chain ${leash.chainId}` +
      (byTransaction ? ", by transaction (a real Ledger needs blind signing for it)" : ""),
  );
  const result: CancelTaskResult = { account, nonce };
  if (byTransaction) {
    if (!args.yes && !(await io.confirm("Sign this cancellation on your Ledger?"))) {
      throw new NotConfirmedError("not confirmed: nothing was signed", "--yes");
    }
    const target = { addresses: leash.addresses, account, ownerValidation: ownerAccount.validation, nonce };
    const sent = await cancelNonceByTransaction({
      signer: await ledgerSigner(env.connection),
      target,
      onProgress: progressTo(io),
    });
    result.transactionHash = sent.transactionHash;
    result.submittedBy = owner;
    if (args.json) {
      printJson(io, {
        chainId: leash.chainId,
        account,
        nonce: nonce.toString(),
        transactionHash: sent.transactionHash,
        submittedBy: owner,
        cancellationFile: null,
      });
    } else {
      io.out(`Nonce ${nonce} of ${account} cancelled in ${sent.transactionHash} (sent by the Ledger)`);
    }
    return result;
  }
  const signer = ownerDevice(env, owner, {
    yes: args.yes,
    question: "Sign this cancellation on your Ledger?",
    onSummary: (lines) => (result.deviceSummary = lines),
  });
  const signed = await signNonceCancellation({
    signer,
    target: { addresses: leash.addresses, account, nonce },
    onProgress: progressTo(io),
  });
  result.signedFile = signed;
  const delivery = await deliverSigned(
    env,
    signed,
    leash.addresses,
    relayer,
    args.out ?? `cancellation-${account}-${nonce}.json`,
  );
  result.cancellationFile = delivery.file;
  result.transactionHash = delivery.transactionHash;
  result.submittedBy = delivery.submittedBy;
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
