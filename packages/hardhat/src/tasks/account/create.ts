/**
 * `account create`: print the owner's counterfactual account address, have the owner check their address on the
 * Ledger's screen ("Verify Ethereum address"), and deploy the account through the Leash factory with that address as
 * owner. The factory call needs no signature of the owner, so a relayer sends it (`--relayer`, default: the first
 * account of the network that is not the Ledger); the Ledger signs nothing. `--by-transaction` has the Ledger send it
 * instead, a call a real Ledger signs only with blind signing on.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { InvalidSessionIdError } from "@leashkit/client";
import { LedgerAccountError } from "../input.js";
import { LedgerClearSigner } from "../../ledger/ledgerTypedData.js";
import { createAccount, getAccountAddress } from "@leashkit/client";
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
import { parseRelayer } from "../ownerDevice.js";

/** The options of `account create`. */
export interface CreateAccountTaskArguments extends CommonTaskArguments {
  salt: string;
  /** The account of the network that sends the factory call (not the Ledger). */
  relayer?: string;
  /** Have the Ledger send the factory call (a real Ledger needs blind signing for it). */
  byTransaction?: boolean;
}

/** What `account create` did. */
export interface CreateAccountTaskResult {
  account: string;
  owner: string;
  salt: bigint;
  /** Undefined if the account already existed. */
  transactionHash?: string;
  /** Who sent the factory call: the relayer, or the Ledger (`--by-transaction`). */
  submittedBy?: string;
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
  const { account, deployed } = await getAccountAddress({ provider, addresses: leash.addresses, owner, salt });
  io.progress(`account of ${owner} (salt ${salt}) on chain ${leash.chainId}: ${account}`);
  const result: CreateAccountTaskResult = { account, owner, salt };
  if (deployed) {
    io.progress("already deployed: nothing to sign");
  } else if (args.byTransaction === true) {
    const sent = await createAccount({
      signer: await ledgerSigner(env.connection),
      addresses: leash.addresses,
      salt,
      onProgress: progressTo(io),
    });
    result.transactionHash = sent.transactionHash;
    result.submittedBy = owner;
  } else {
    const relayer = await relayerOf(env, args.relayer, owner);
    io.progress(`check on your Ledger that it shows ${owner}, the account's owner; ${relayer} sends the factory call`);
    const device = new LedgerClearSigner(owner, provider, {
      derivationFunction: env.connection.networkConfig.ledgerOptions?.derivationFunction,
    });
    await device.verifyAddressOnDevice();
    const sender = await env.connection.ethers.getSigner(relayer);
    const sent = await createAccount({
      signer: sender,
      addresses: leash.addresses,
      salt,
      onProgress: (kind, message) => {
        if (kind !== "prompt") io.progress(message); // the relayer signs, not the Ledger
      },
      owner,
    });
    result.transactionHash = sent.transactionHash;
    result.submittedBy = relayer;
  }
  if (args.json) {
    printJson(io, {
      ...result,
      chainId: leash.chainId,
      transactionHash: result.transactionHash ?? null,
      submittedBy: result.submittedBy ?? null,
    });
  } else {
    io.out(
      result.transactionHash === undefined
        ? `Account ${account} exists (owner ${owner})`
        : `Account ${account} created (owner ${owner}) in ${result.transactionHash}; fund it before granting sessions`,
    );
  }
  return result;
}

/** The relayer: `--relayer`, else the network's first account that is not the Ledger. */
async function relayerOf(env: TaskEnv, relayer: string | undefined, owner: string): Promise<string> {
  const explicit = parseRelayer(relayer, owner);
  if (explicit !== undefined) return explicit;
  const accounts = (await env.connection.ethers.getSigners()).map((signer) => signer.address);
  const first = accounts.find((address) => address !== owner);
  if (first === undefined) {
    throw new LedgerAccountError(
      "no account of the network but the Ledger to send the factory call: give --relayer <address> (a funded " +
        "account the network config holds), or --by-transaction to have the Ledger send it with blind signing on",
      "--relayer",
    );
  }
  return first;
}

/** The task action. */
export default async function createAccountAction(
  args: CreateAccountTaskArguments,
  hre: HardhatRuntimeEnvironment,
): Promise<void> {
  await runTask(async () => runCreateAccount(args, await taskEnv(hre, args.json)));
}
