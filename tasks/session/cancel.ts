/**
 * `session cancel --nonce <n>`: voids a signed grant or revocation nobody submitted yet. The owner clear-signs an
 * EIP-712 `NonceCancellation` on the Ledger (the task prints what the device will show and asks first; it refuses,
 * printing the hashes, when the device could not clear-sign it), and anyone carries it on chain:
 * - `--relayer <address>`: that account of the network (not the Ledger) submits it at once;
 * - otherwise it is written to a file for `session submit`.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { assertAccountOwner } from "../../client/grant.js";
import { InvalidSignedFileError, requireOption, SignedActionUnsupportedError } from "../../client/inputErrors.js";
import { parseAddress } from "../../client/parse.js";
import { signNonceCancellation, type SignedFile } from "../../client/signed.js";
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
import { deliverSigned, ownerDevice, parseRelayer } from "../ownerDevice.js";

/** The options of `session cancel`. */
export interface CancelTaskArguments extends CommonTaskArguments {
  account?: string;
  /** On an ERC-6900 account Leash did not deploy: the owner's validation, `<module>:<entityId>` or `built-in`. */
  ownerValidation?: string;
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
  const relayer = parseRelayer(args.relayer, owner);
  const provider = env.connection.ethers.provider;
  const ownerAccount = await assertAccountOwner(provider, leash.addresses, account, owner, args.ownerValidation);
  if (!ownerAccount.signedActions.supported) {
    throw new SignedActionUnsupportedError(
      `${ownerAccount.signedActions.reason}; on such an account a signed grant is never written, so there is ` +
        "nothing to cancel. Nothing was signed",
      "--owner-validation",
    );
  }
  io.progress(
    `Cancel the signed grant or revocation with nonce ${nonce} of account ${account} on chain ${leash.chainId}`,
  );
  const result: CancelTaskResult = { account, nonce };
  const signer = ownerDevice(env, owner, {
    yes: args.yes,
    question: "Sign this cancellation on your Ledger?",
    onSummary: (lines) => (result.deviceSummary = lines),
  });
  const signed = await signNonceCancellation(signer, { addresses: leash.addresses, account, nonce }, progressTo(io));
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
