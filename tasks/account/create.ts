/**
 * `account create`: print the owner's counterfactual account address and deploy it through the Leash factory, the
 * Ledger address as owner (the Ledger signs the factory call).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { InvalidSessionIdError } from "../../client/inputErrors.js";
import { createAccount, getAccountAddress } from "../../client/owner.js";
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

/** The options of `account create`. */
export interface CreateAccountTaskArguments extends CommonTaskArguments {
  salt: string;
}

/** What `account create` did. */
export interface CreateAccountTaskResult {
  account: string;
  owner: string;
  salt: bigint;
  /** Undefined if the account already existed. */
  transactionHash?: string;
}

/** The logic of `account create`, for the task and for tests. */
export async function runCreateAccount(
  args: CreateAccountTaskArguments,
  env: TaskEnv,
): Promise<CreateAccountTaskResult> {
  const { io } = env;
  const owner = ledgerOwner(env.connection);
  const leash = await openLeash(env, args.addresses);
  if (!/^\d+$/.test(args.salt.trim()) || BigInt(args.salt) >= 1n << 256n) {
    throw new InvalidSessionIdError(`--salt: "${args.salt}" is not a uint256 (a whole number)`, "--salt");
  }
  const salt = BigInt(args.salt);
  const provider = env.connection.ethers.provider;
  const { account, deployed } = await getAccountAddress(provider, leash.addresses, owner, salt);
  io.progress(`account of ${owner} (salt ${salt}) on chain ${leash.chainId}: ${account}`);
  const result: CreateAccountTaskResult = { account, owner, salt };
  if (deployed) {
    io.progress("already deployed: nothing to sign");
  } else {
    const sent = await createAccount(await ledgerSigner(env.connection), leash.addresses, salt, progressTo(io));
    result.transactionHash = sent.transactionHash;
  }
  if (args.json) {
    printJson(io, { ...result, chainId: leash.chainId, transactionHash: result.transactionHash ?? null });
  } else {
    io.out(
      result.transactionHash === undefined
        ? `Account ${account} exists (owner ${owner})`
        : `Account ${account} created (owner ${owner}) in ${result.transactionHash}; fund it before granting sessions`,
    );
  }
  return result;
}

/** The task action. */
export default async function createAccountAction(
  args: CreateAccountTaskArguments,
  hre: HardhatRuntimeEnvironment,
): Promise<void> {
  await runTask(async () => runCreateAccount(args, await taskEnv(hre, args.json)));
}
