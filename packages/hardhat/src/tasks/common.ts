/**
 * What every Leash task shares: opening the network with its Ledger owner and the Leash address book, printing
 * (human lines, or one JSON document with `--json`), and asking for confirmation. No chain logic lives here.
 */
import { createInterface } from "node:readline/promises";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { NetworkConnection } from "hardhat/types/network";

import { assertLeashDeployed, type LeashChainAddresses } from "@leashkit/client";
import { defaultAddressesFile, loadLeashAddresses } from "@leashkit/client/node";
import { LeashInputError } from "@leashkit/client";
import { LedgerAccountError, NotConfirmedError } from "./input.js";
import type { ProgressListener } from "@leashkit/client";
import { parseAddress } from "@leashkit/client";
import { toJsonSafe } from "./summary.js";

/** Where a task prints and asks. Tests pass their own. */
export interface TaskIO {
  /** One line of the task's result (stdout). */
  out(line: string): void;
  /** A progress line (stdout in human mode, stderr with --json so stdout stays one JSON document). */
  progress(line: string): void;
  /** Asks a yes/no question; resolves true only on an explicit yes. */
  confirm(question: string): Promise<boolean>;
}

/** The environment a task's logic runs in: a network connection, the project root, and its IO. */
export interface TaskEnv {
  connection: NetworkConnection;
  root: string;
  io: TaskIO;
}

/** Options every Leash task takes. */
export interface CommonTaskArguments {
  addresses: string;
  json: boolean;
}

/** The console IO: results to stdout, progress to stdout (stderr with --json), questions on the terminal. */
export function consoleIO(json: boolean): TaskIO {
  return {
    out: (line) => console.log(line),
    progress: (line) => (json ? console.error(line) : console.log(line)),
    async confirm(question) {
      if (!process.stdin.isTTY) {
        throw new NotConfirmedError(
          "cannot ask for confirmation: stdin is not a terminal; read the summary and pass --yes to proceed",
          "--yes",
        );
      }
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        const answer = await rl.question(`${question} [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      } finally {
        rl.close();
      }
    },
  };
}

/** The default task environment from the Hardhat runtime (the network chosen with --network). */
export async function taskEnv(hre: HardhatRuntimeEnvironment, json: boolean): Promise<TaskEnv> {
  return { connection: await hre.network.getOrCreate(), root: hre.config.paths.root, io: consoleIO(json) };
}

/** A connected Leash: chain, addresses (checked deployed), and the provider. */
export interface LeashConnection {
  chainId: bigint;
  addresses: LeashChainAddresses;
  connection: NetworkConnection;
}

/** Loads the address book for the connected chain (`--addresses` or deployments/<chainId>.json) and checks it. */
export async function openLeash(env: TaskEnv, addressesFile: string): Promise<LeashConnection> {
  const { chainId } = await env.connection.ethers.provider.getNetwork();
  const file = addressesFile === "" ? defaultAddressesFile(env.root, chainId) : addressesFile;
  const addresses = await loadLeashAddresses(file, chainId);
  await assertLeashDeployed(env.connection.ethers.provider, addresses);
  return { chainId, addresses, connection: env.connection };
}

/** The network's one Ledger account (`ledgerAccounts` in the network config), checksummed. */
export function ledgerOwner(connection: NetworkConnection): string {
  const accounts = connection.networkConfig.ledgerAccounts;
  if (accounts.length !== 1) {
    throw new LedgerAccountError(
      `network "${connection.networkName}" has ${accounts.length} ledgerAccounts; configure exactly one (the ` +
        "owner's Ledger address) in hardhat.config.ts",
      "ledgerAccounts",
    );
  }
  return parseAddress(accounts[0]!, "ledgerAccounts");
}

/** The ethers signer of the Ledger owner (hardhat-ledger signs its requests on the device). */
export async function ledgerSigner(connection: NetworkConnection): Promise<HardhatEthersSigner> {
  return connection.ethers.getSigner(ledgerOwner(connection));
}

/** A progress listener printing through the task's IO. */
export function progressTo(io: TaskIO): ProgressListener {
  return (_kind, message) => io.progress(message);
}

/** Prints a JSON document (bigints as strings). */
export function printJson(io: TaskIO, value: unknown): void {
  io.out(JSON.stringify(toJsonSafe(value), null, 2));
}

/**
 * Runs a task's logic; refused input (a LeashInputError) is printed as one readable line saying what to fix, with
 * exit code 1 and no stack trace. Other errors propagate unchanged.
 */
export async function runTask(logic: () => Promise<unknown>): Promise<void> {
  try {
    await logic();
  } catch (error) {
    if (!(error instanceof LeashInputError)) throw error;
    console.error(`Refused (${error.name}): ${error.message}`);
    console.error("Nothing was signed.");
    process.exitCode = 1;
  }
}
