/**
 * Where Leash is deployed, per chain: `deployments/<chainId>.json` at the project root (written by
 * `saveLeashAddresses` of client/node.ts, e.g. after `deployLeashDeterministic`), or any file passed explicitly (the
 * tasks' `--addresses <file>`). Local-chain files (31337) are gitignored; commit the files of public chains. This
 * module reads no file (it runs in browsers too): client/node.ts loads and saves the files.
 *
 * File format (addresses checksummed or lower case; `tokens` and `fromBlock` optional):
 * ```json
 * { "chainId": "11155111", "entryPoint": "0x…", "factory": "0x…", "ownerModule": "0x…", "sessionModule": "0x…",
 *   "spendLimitHook": "0x…", "tokens": { "USDC": "0x…" }, "fromBlock": 5000000 }
 * ```
 * `tokens` names the symbols `--budget` accepts on that chain besides ETH; `fromBlock` is where `session list`
 * starts reading events.
 */
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

/**
 * Validates an address book read from `source` (a file name, for messages) as parsed JSON. Throws
 * {@link LeashNotDeployedError} if it is malformed and {@link WrongChainError} if it is for another chain than
 * `chainId`.
 */
export function parseLeashAddresses(raw: unknown, chainId: bigint, source: string): LeashChainAddresses {
  const file = source;
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

/** An address book as its file holds it (`chainId` as a decimal string). */
export function leashAddressesToJson(addresses: LeashChainAddresses): Record<string, unknown> {
  const { chainId, ...rest } = addresses;
  return { chainId: chainId.toString(), ...rest };
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
