/**
 * Where Leash is deployed, per chain: `deployments/<chainId>.json` at the project root (written by
 * {@link saveLeashAddresses}, e.g. after `deployLeashDeterministic`), or any file passed explicitly (the tasks'
 * `--addresses <file>`). Local-chain files (31337) are gitignored; commit the files of public chains.
 *
 * File format (addresses checksummed or lower case; `tokens` and `fromBlock` optional):
 * ```json
 * { "chainId": "11155111", "entryPoint": "0x…", "factory": "0x…", "ownerModule": "0x…", "sessionModule": "0x…",
 *   "spendLimitHook": "0x…", "tokens": { "USDC": "0x…" }, "fromBlock": 5000000 }
 * ```
 * `tokens` names the symbols `--budget` accepts on that chain besides ETH; `fromBlock` is where `session list`
 * starts reading events.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { LeashNotDeployedError, WrongChainError } from "./inputErrors.js";
import { parseAddress } from "./parse.js";

/** The Leash contracts of one chain, and the token symbols known there. */
export interface LeashChainAddresses {
  chainId: bigint;
  entryPoint: string;
  factory: string;
  ownerModule: string;
  sessionModule: string;
  spendLimitHook: string;
  /** Symbol (upper case) → token address. */
  tokens: Record<string, string>;
  /** First block to read Leash events from. */
  fromBlock: number;
}

const CONTRACTS = ["entryPoint", "factory", "ownerModule", "sessionModule", "spendLimitHook"] as const;

/** The default address book file of `chainId` under `root`. */
export function defaultAddressesFile(root: string, chainId: bigint): string {
  return path.join(root, "deployments", `${chainId}.json`);
}

/**
 * Reads and validates an address book. Throws {@link LeashNotDeployedError} if the file is missing or malformed and
 * {@link WrongChainError} if it is for another chain than `chainId`.
 */
export async function loadLeashAddresses(file: string, chainId: bigint): Promise<LeashChainAddresses> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new LeashNotDeployedError(
      `no Leash address book for chain ${chainId} at ${file} (${(error as Error).message}); deploy Leash on this ` +
        "chain and save its addresses there, or pass --addresses <file>",
      "--addresses",
    );
  }
  if (raw === null || typeof raw !== "object") {
    throw new LeashNotDeployedError(`${file} is not a JSON object of Leash addresses`, "--addresses");
  }
  const record = raw as Record<string, unknown>;
  const fileChain = String(record.chainId);
  if (!/^\d+$/.test(fileChain)) {
    throw new LeashNotDeployedError(`${file} has no valid "chainId"`, "--addresses");
  }
  if (BigInt(fileChain) !== chainId) {
    throw new WrongChainError(
      `${file} holds Leash addresses for chain ${fileChain} but the network is chain ${chainId}; choose the ` +
        "right --network or address book",
      "--network",
    );
  }
  const contract = (name: (typeof CONTRACTS)[number]) => {
    const value = record[name];
    if (typeof value !== "string") throw new LeashNotDeployedError(`${file} has no "${name}" address`, "--addresses");
    return parseAddress(value, `${file} ${name}`);
  };
  const tokens: Record<string, string> = {};
  if (record.tokens !== undefined) {
    if (record.tokens === null || typeof record.tokens !== "object") {
      throw new LeashNotDeployedError(`${file}: "tokens" must map symbols to addresses`, "--addresses");
    }
    for (const [symbol, address] of Object.entries(record.tokens as Record<string, unknown>)) {
      tokens[symbol.toUpperCase()] = parseAddress(String(address), `${file} tokens.${symbol}`);
    }
  }
  const fromBlock = record.fromBlock === undefined ? 0 : Number(record.fromBlock);
  if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) {
    throw new LeashNotDeployedError(`${file}: "fromBlock" must be a block number`, "--addresses");
  }
  return {
    chainId,
    entryPoint: contract("entryPoint"),
    factory: contract("factory"),
    ownerModule: contract("ownerModule"),
    sessionModule: contract("sessionModule"),
    spendLimitHook: contract("spendLimitHook"),
    tokens,
    fromBlock,
  };
}

/** Writes an address book (creating its folder); `chainId` as a decimal string. */
export async function saveLeashAddresses(file: string, addresses: LeashChainAddresses): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const { chainId, ...rest } = addresses;
  await writeFile(file, JSON.stringify({ chainId: chainId.toString(), ...rest }, null, 2) + "\n");
}

/** Refuses an address book whose contracts have no code on the connected chain. */
export async function assertLeashDeployed(
  provider: { getCode(address: string): Promise<string> },
  addresses: LeashChainAddresses,
): Promise<void> {
  for (const name of CONTRACTS) {
    if ((await provider.getCode(addresses[name])) === "0x") {
      throw new LeashNotDeployedError(
        `the Leash ${name} is not deployed at ${addresses[name]} on chain ${addresses.chainId}; the address book ` +
          "is stale or for another network",
        "--addresses",
      );
    }
  }
}
