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
 *   "canSignMessages": false,
 *   "scope": [{ "target": "0x…", "selector": "0xa9059cbb", "function": "transfer(address,uint256)",
 *               "rules": [{ "argument": 0, "op": "eq", "value": "1234…" }] }],
 *   "budgets": [{ "asset": "0x…", "symbol": "USDC", "decimals": 6, "limit": "100000000", "period": "86400",
 *                 "perCallCap": "0" }],
 *   "paymasters": [] }
 * ```
 */
import { getAddress, toUtf8String } from "ethers";

import type { GrantPlan } from "./grant.js";
import type { ArgumentRule } from "./session.js";

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
  canSignMessages: boolean;
  scope: {
    target: string;
    selector: string;
    function?: string;
    /** Rules on the call's static arguments (argument from 0, `eq` / `le` / `ge`, the 32-byte word compared). */
    rules: ArgumentRule[];
  }[];
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
    canSignMessages: session.canSignMessages,
    scope: session.scope.map((entry) => ({
      target: entry.target,
      selector: entry.selector,
      ...(entry.function === undefined ? {} : { function: entry.function }),
      rules: (entry.rules ?? []).map((rule) => ({ ...rule })),
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

const FIELDS = [
  "kind",
  "version",
  "chainId",
  "account",
  "sessionId",
  "agent",
  "entryPoint",
  "sessionModule",
  "spendLimitHook",
  "validAfter",
  "validUntil",
  "valueCapPerCall",
  "canSignMessages",
  "scope",
  "budgets",
  "paymasters",
];

/**
 * Reads a session file's JSON (`source` names it in messages). Refuses anything else: another kind or version, a
 * field it does not know (a session file never holds a key or anything else secret), a malformed value; and, when
 * `chainId` is given, a file for another chain.
 */
export function parseSessionFile(text: string, source: string, chainId?: bigint): SessionFile {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${source} is not JSON (${(error as Error).message}): give the session file session grant wrote`);
  }
  // An ERC-7715 permission response (client/permissions.ts): its context carries the session file.
  const contexts = (Array.isArray(raw) ? raw : [raw]).map((item) => (item as { context?: unknown } | null)?.context);
  if (contexts.length !== 0 && contexts.every((context) => typeof context === "string")) {
    if (new Set(contexts).size !== 1) {
      throw new Error(`${source} is a permission response naming several sessions; give one session's response`);
    }
    let inner: string;
    try {
      inner = toUtf8String(contexts[0] as string);
    } catch {
      throw new Error(`${source}: its permission context is not a Leash context (not hex of UTF-8 JSON)`);
    }
    return parseSessionFile(inner, `${source} (its permission context)`, chainId);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw) || raw.kind !== SESSION_FILE_KIND) {
    throw new Error(`${source} is not a Leash session file (its "kind" is not "${SESSION_FILE_KIND}")`);
  }
  if (raw.version !== SESSION_FILE_VERSION) {
    throw new Error(`${source} is a session file of version ${String(raw.version)}; this client reads version 1`);
  }
  const unknown = Object.keys(raw).filter((key) => !FIELDS.includes(key));
  if (unknown.length > 0) {
    throw new Error(
      `${source} holds ${unknown.map((key) => `"${key}"`).join(", ")}, which a session file never does (keys stay ` +
        "in their own 0600 file); it was not written by session grant",
    );
  }
  const fail = (name: string, what: string): never => {
    throw new Error(`${source}: "${name}" is missing or not ${what}`);
  };
  const address = (name: string, value: unknown = raw[name]): string =>
    typeof value === "string" && /^0x[0-9a-fA-F]{40}$/.test(value) ? getAddress(value) : fail(name, "an address");
  const integer = (name: string, value: unknown = raw[name]): bigint =>
    typeof value === "string" && /^\d{1,78}$/.test(value) ? BigInt(value) : fail(name, "a decimal string");
  const list = (name: string): Record<string, unknown>[] =>
    Array.isArray(raw[name]) ? (raw[name] as Record<string, unknown>[]) : fail(name, "a list");
  const sessionId = raw.sessionId;
  if (typeof sessionId !== "number" || !Number.isInteger(sessionId) || sessionId < 0 || sessionId >= 0xffffffff) {
    return fail("sessionId", "a session id (0 to 4294967294)");
  }
  if (typeof raw.canSignMessages !== "boolean") return fail("canSignMessages", "true or false");
  const file: SessionFile = {
    kind: SESSION_FILE_KIND,
    version: SESSION_FILE_VERSION,
    chainId: integer("chainId"),
    account: address("account"),
    sessionId,
    agent: address("agent"),
    entryPoint: address("entryPoint"),
    sessionModule: address("sessionModule"),
    spendLimitHook: address("spendLimitHook"),
    validAfter: integer("validAfter"),
    validUntil: integer("validUntil"),
    valueCapPerCall: integer("valueCapPerCall"),
    canSignMessages: raw.canSignMessages,
    scope: list("scope").map((entry, i) => {
      const selector = entry.selector;
      if (typeof selector !== "string" || !/^0x[0-9a-fA-F]{8}$/.test(selector)) {
        return fail(`scope[${i}].selector`, "a 4-byte selector");
      }
      if (entry.function !== undefined && typeof entry.function !== "string") {
        return fail(`scope[${i}].function`, "a function text");
      }
      const rules = Array.isArray(entry.rules) ? (entry.rules as Record<string, unknown>[]) : [];
      return {
        target: address(`scope[${i}].target`, entry.target),
        // One spelling, so that every comparison (wildcard, sign, the function's own selector) sees the same.
        selector: selector.toLowerCase(),
        ...(typeof entry.function === "string" ? { function: entry.function } : {}),
        rules: rules.map((rule, r) => {
          const where = `scope[${i}].rules[${r}]`;
          const op = rule.op;
          if (op !== "eq" && op !== "le" && op !== "ge") return fail(`${where}.op`, '"eq", "le" or "ge"');
          if (typeof rule.argument !== "number" || !Number.isInteger(rule.argument) || rule.argument < 0) {
            return fail(`${where}.argument`, "an argument position");
          }
          return { argument: rule.argument, op, value: integer(`${where}.value`, rule.value) };
        }),
      };
    }),
    budgets: list("budgets").map((budget, i) => {
      const { symbol, decimals } = budget;
      if (typeof symbol !== "string" || symbol.length === 0) return fail(`budgets[${i}].symbol`, "a symbol");
      if (typeof decimals !== "number" || !Number.isInteger(decimals) || decimals < 0 || decimals > 255) {
        return fail(`budgets[${i}].decimals`, "a number of decimals");
      }
      return {
        asset: address(`budgets[${i}].asset`, budget.asset),
        symbol,
        decimals,
        limit: integer(`budgets[${i}].limit`, budget.limit),
        period: integer(`budgets[${i}].period`, budget.period),
        perCallCap: integer(`budgets[${i}].perCallCap`, budget.perCallCap),
      };
    }),
    paymasters: list("paymasters").map((value, i) => address(`paymasters[${i}]`, value)),
  };
  if (file.validUntil <= file.validAfter) fail("validUntil", "after validAfter");
  if (chainId !== undefined && file.chainId !== chainId) {
    throw new Error(`${source} is a session on chain ${file.chainId}, not on this chain (${chainId})`);
  }
  return file;
}
