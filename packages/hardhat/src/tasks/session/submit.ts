/** `session submit <file>`: send a signed grant or revocation to the session module (any funded account pays). */
import { readFile } from "node:fs/promises";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { InvalidSignedFileError } from "@leashkit/client";
import { submitSignedFile, parseSignedFile } from "@leashkit/client";
import {
  openLeash,
  printJson,
  progressTo,
  runTask,
  taskEnv,
  type CommonTaskArguments,
  type TaskEnv,
} from "../common.js";

/** The options of `session submit`. */
export interface SubmitTaskArguments extends CommonTaskArguments {
  file: string;
  /** The submitting account (default: the network's first account). */
  from?: string;
}

/** The logic of `session submit`, for the task and for tests. */
export async function runSubmit(args: SubmitTaskArguments, env: TaskEnv) {
  const leash = await openLeash(env, args.addresses);
  let text: string;
  try {
    text = await readFile(args.file, "utf8");
  } catch (error) {
    throw new InvalidSignedFileError(`cannot read ${args.file}: ${(error as Error).message}`, "file");
  }
  const file = parseSignedFile(text, leash.addresses);
  const signer =
    args.from === undefined
      ? (await env.connection.ethers.getSigners())[0]
      : await env.connection.ethers.getSigner(args.from);
  if (signer === undefined) throw new Error("the network has no account to submit from; pass --from");
  const from = await signer.getAddress();
  const onLedger = env.connection.networkConfig.ledgerAccounts.some((a) => a.toLowerCase() === from.toLowerCase());
  env.io.progress(`submitting ${file.kind} from ${from}${onLedger ? " (a Ledger account)" : ""}`);
  const print = progressTo(env.io);
  // Only a Ledger account needs the owner at the device; any other submitter signs with its own key.
  const sent = await submitSignedFile({
    signer,
    file,
    addresses: leash.addresses,
    onProgress: (kind, message) => {
      if (kind !== "prompt" || onLedger) print(kind, message);
    },
  });
  if (args.json) printJson(env.io, { chainId: leash.chainId, kind: file.kind, ...sent });
  else env.io.out(`Submitted ${file.kind} in ${sent.transactionHash}`);
  return { kind: file.kind, ...sent };
}

/** The task action. */
export default async function submitAction(args: SubmitTaskArguments, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(async () => runSubmit(args, await taskEnv(hre, args.json)));
}
