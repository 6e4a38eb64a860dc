/**
 * The agent's session file: what the owner's `session grant` hands the agent about the session it was granted, and
 * nothing secret (the agent made its key itself and gave the owner only its address). It holds the coordinates the
 * agent signs and sends with (chain, account, session id, EntryPoint, modules) and the session as granted (validity,
 * scope with function texts, budgets with their tokens' symbols and decimals), so an agent, or a tool built for it,
 * knows what it may do without reading the chain first; the chain remains the authority.
 *
 * JSON, bigints as decimal strings:
 * ```json
 * { "kind": "leash.session", "version": 1, "chainId": "11155111", "account": "0x…", "sessionId": 1,
 *   "agent": "0x…", "entryPoint": "0x…", "sessionModule": "0x…", "spendLimitHook": "0x…",
 *   "validAfter": "1767250740", "validUntil": "1767337140", "valueCapPerCall": "50000000000000000",
 *   "scope": [{ "target": "0x…", "selector": "0xa9059cbb", "function": "transfer(address,uint256)" }],
 *   "budgets": [{ "asset": "0x…", "symbol": "USDC", "decimals": 6, "limit": "100000000", "period": "86400",
 *                 "perCallCap": "0" }],
 *   "paymasters": [] }
 * ```
 */
import { getAddress } from "ethers";

import type { GrantPlan } from "./grant.js";

/** The `kind` of a session file. */
export const SESSION_FILE_KIND = "leash.session";
/** The session file format's version. */
export const SESSION_FILE_VERSION = 1;

/** A session file's contents (see the module's documentation for its JSON form). */
export interface SessionFile {
  kind: typeof SESSION_FILE_KIND;
  version: typeof SESSION_FILE_VERSION;
  chainId: bigint;
  account: string;
  sessionId: number;
  agent: string;
  entryPoint: string;
  sessionModule: string;
  spendLimitHook: string;
  validAfter: bigint;
  validUntil: bigint;
  valueCapPerCall: bigint;
  scope: { target: string; selector: string; function?: string }[];
  budgets: {
    asset: string;
    symbol: string;
    decimals: number;
    limit: bigint;
    period: bigint;
    perCallCap: bigint;
  }[];
  paymasters: string[];
}

/** The session file of a granted plan. */
export function sessionFileOf(plan: GrantPlan): SessionFile {
  const { session, addresses } = plan;
  return {
    kind: SESSION_FILE_KIND,
    version: SESSION_FILE_VERSION,
    chainId: plan.chainId,
    account: session.account,
    sessionId: session.sessionId,
    agent: session.agent,
    entryPoint: addresses.entryPoint,
    sessionModule: addresses.sessionModule,
    spendLimitHook: addresses.spendLimitHook,
    validAfter: session.validAfter,
    validUntil: session.validUntil,
    valueCapPerCall: session.valueCapPerCall,
    scope: session.scope.map((entry) => ({
      target: entry.target,
      selector: entry.selector,
      ...(entry.function === undefined ? {} : { function: entry.function }),
    })),
    budgets: session.budgets.map((budget, i) => ({
      asset: budget.asset,
      symbol: plan.budgetAssets[i]!.symbol,
      decimals: plan.budgetAssets[i]!.decimals,
      limit: budget.limit,
      period: budget.period,
      perCallCap: budget.perCallCap,
    })),
    paymasters: [...session.paymasters],
  };
}

/** A session file as JSON text (bigints as decimal strings). */
export function sessionFileToJson(file: SessionFile): string {
  return (
    JSON.stringify(file, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), 2) + "\n"
  );
}

/** Reads a session file's JSON (`source` names it in messages); refuses anything else, and any file with a key in it. */
export function parseSessionFile(text: string, source: string): SessionFile {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${source} is not JSON (${(error as Error).message}): give the session file session grant wrote`);
  }
  if (raw === null || typeof raw !== "object" || raw.kind !== SESSION_FILE_KIND) {
    throw new Error(`${source} is not a Leash session file (its "kind" is not "${SESSION_FILE_KIND}")`);
  }
  if (raw.version !== SESSION_FILE_VERSION) {
    throw new Error(`${source} is a session file of version ${String(raw.version)}; this client reads version 1`);
  }
  if ("privateKey" in raw) {
    throw new Error(`${source} holds a private key, which a session file never does: keep keys in their own 0600 file`);
  }
  const address = (name: string, value: unknown = raw[name]): string => {
    if (typeof value !== "string") throw new Error(`${source}: "${name}" is missing or not an address`);
    return getAddress(value);
  };
  const integer = (name: string, value: unknown = raw[name]): bigint => {
    if (typeof value !== "string" || !/^\d+$/.test(value)) {
      throw new Error(`${source}: "${name}" is missing or not a decimal string`);
    }
    return BigInt(value);
  };
  const list = (name: string): Record<string, unknown>[] => {
    const value = raw[name];
    if (!Array.isArray(value)) throw new Error(`${source}: "${name}" is missing or not a list`);
    return value as Record<string, unknown>[];
  };
  if (typeof raw.sessionId !== "number" || !Number.isInteger(raw.sessionId)) {
    throw new Error(`${source}: "sessionId" is missing or not a number`);
  }
  return {
    kind: SESSION_FILE_KIND,
    version: SESSION_FILE_VERSION,
    chainId: integer("chainId"),
    account: address("account"),
    sessionId: raw.sessionId,
    agent: address("agent"),
    entryPoint: address("entryPoint"),
    sessionModule: address("sessionModule"),
    spendLimitHook: address("spendLimitHook"),
    validAfter: integer("validAfter"),
    validUntil: integer("validUntil"),
    valueCapPerCall: integer("valueCapPerCall"),
    scope: list("scope").map((entry, i) => ({
      target: address(`scope[${i}].target`, entry.target),
      selector: String(entry.selector),
      ...(typeof entry.function === "string" ? { function: entry.function } : {}),
    })),
    budgets: list("budgets").map((budget, i) => ({
      asset: address(`budgets[${i}].asset`, budget.asset),
      symbol: String(budget.symbol),
      decimals: Number(budget.decimals),
      limit: integer(`budgets[${i}].limit`, budget.limit),
      period: integer(`budgets[${i}].period`, budget.period),
      perCallCap: integer(`budgets[${i}].perCallCap`, budget.perCallCap),
    })),
    paymasters: list("paymasters").map((value, i) => address(`paymasters[${i}]`, value)),
  };
}
