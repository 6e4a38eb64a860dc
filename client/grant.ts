/**
 * Preparing a grant: the owner's input (strings, as typed) checked against the contracts' bounds and the chain, and
 * turned into one {@link GrantPlan}: the {@link SessionDescription} that is summarised, signed and installed, plus
 * the names the summary shows. Nothing here signs; everything that can be refused is refused here (THREATS 19).
 */
import {
  Contract,
  formatUnits,
  getAddress,
  hexlify,
  isError,
  MaxUint256,
  randomBytes,
  toBeHex,
  ZeroAddress,
  type Provider,
} from "ethers";

import { SessionKeyValidationModule__factory } from "./contracts.js";
import { type SessionKeyValidationModule } from "./contracts.js";
import type { LeashChainAddresses } from "./addresses.js";
import {
  InvalidAmountError,
  InvalidScopeError,
  InvalidSessionIdError,
  InvalidTimeError,
  NotAccountOwnerError,
  TokenDecimalsError,
  UnknownTokenError,
  WrongChainError,
} from "./inputErrors.js";
import { resolveOwnerAccount, type OwnerAccount } from "./ownerAccount.js";
import {
  knownSignatureOf,
  MAX_BUDGETS,
  MAX_PAYMASTERS,
  MAX_SCOPE_ENTRIES,
  MAX_VALID_AFTER,
  MAX_VALID_UNTIL,
  MAX_VALUE_CAP,
  parseAddress,
  parseAmount,
  parseBudget,
  parseDuration,
  parseScopeEntry,
  type ParsedArgumentRule,
  parseSessionId,
  parseTime,
  RESERVED_SESSION_ID,
} from "./parse.js";
import {
  isPseudoAsset,
  NATIVE_ASSET,
  OPERATIONS_ASSET,
  PSEUDO_FUNCTION_TEXTS,
  SELECTOR_ANY,
  SELECTOR_NO_CALLDATA,
  SELECTOR_SIGN,
  SPONSORED_FEE_ASSET,
  SPONSORED_GAS_ASSET,
  MAX_RULE_VALUE,
  type ScopeEntry,
  type SessionDescription,
} from "./session.js";

/** Entity id of the owner validation on accounts made by the Leash factory. */
export const OWNER_ENTITY_ID = 0;
/** Symbol and decimals of the native currency. */
export const NATIVE_LABEL = { symbol: "ETH", decimals: 18 } as const;

/** An asset as the summary names it. */
export interface AssetLabel {
  address: string;
  symbol: string;
  decimals: number;
}

/** Everything a grant will do, ready to summarise, sign and send: `session` is the single source of truth. */
export interface GrantPlan {
  session: SessionDescription;
  chainId: bigint;
  /** The Ledger address that owns the account and signs. */
  owner: string;
  addresses: LeashChainAddresses;
  /** How to name each scope entry's function (same order as session.scope). */
  functionNames: string[];
  /** Each budget's asset (same order as session.budgets). */
  budgetAssets: AssetLabel[];
  /** Chain time the plan was made at (unix seconds). */
  now: bigint;
  /** ERC-20 allowances the account already gives to the session's targets: a warning, never a refusal (THREATS 21). */
  standingAllowances: StandingAllowances;
  /** The owner's account: what it is and which validation authorizes the owner's calls on it (`validation`). */
  ownerAccount: OwnerAccount;
}

/** An ERC-20 allowance the account already gives to a target in the session's scope. */
export interface StandingAllowance {
  /** The target in scope that may pull the tokens (the allowance's spender). */
  spender: string;
  token: AssetLabel;
  /** In the token's base units; {@link UNLIMITED_ALLOWANCE} means unlimited. */
  amount: bigint;
}

/** A (token, target) pair whose allowance could not be read: the owner must check it another way. */
export interface UnreadAllowance {
  spender: string;
  token: string;
  /** How the summary names the token (its address book symbol, its label, or its address). */
  symbol: string;
  reason: string;
}

/**
 * The account's allowances to the session's targets, read while the plan is prepared. A target in scope that holds
 * one can pull those tokens when the agent calls it (THREATS 21); the owner sees them before approving the grant.
 */
export interface StandingAllowances {
  /** The ERC-20 tokens checked: every token of the address book and every budgeted one. */
  tokens: string[];
  /** The distinct targets in scope (the spenders checked). */
  spenders: string[];
  /** The non-zero allowances, token by token, in scope order. */
  found: StandingAllowance[];
  unreadable: UnreadAllowance[];
}

/** The owner's input for a grant, as strings (task options or an integrator's form). */
export interface GrantInput {
  account: string;
  agent: string;
  /** Duration from validAfter (`24h`); exactly one of ttl / validUntil. */
  ttl?: string;
  /** Absolute expiry (ISO 8601 with zone, or a date). */
  validUntil?: string;
  /** Absolute start (default: now). */
  validAfter?: string;
  /** Scope entries (`<target>:<signature|selector|receive|*>`). */
  allow: string[];
  /** Budgets (`<amount> <asset>/<period>[ cap <amount>]`). */
  budgets: string[];
  /** Most native value one call may carry, in ETH (default: the ETH budget's limit, or 0 without one). */
  perCallCap?: string;
  paymasters?: string[];
  /**
   * With paymasters: the most their sponsored ops may cost per period, `<amount> ETH/<period>` (default
   * {@link DEFAULT_SPONSORED_GAS}). Refused without paymasters.
   */
  sponsoredGas?: string;
  /** With paymasters: the most `maxFeePerGas` a sponsored op may offer, `<n> gwei` (default {@link DEFAULT_MAX_FEE}). */
  maxFee?: string;
  /** The session id (default: the next free one). */
  sessionId?: string;
  /**
   * On an account Leash did not deploy: the validation that authorizes the owner's calls, `<module>:<entityId>` or
   * `built-in` (see {@link parseOwnerValidation}); default: what the account's `accountId()` implies.
   */
  ownerValidation?: string;
}

/** The sponsored-gas budget a grant with paymasters gets unless the owner gives one (THREATS 22). */
export const DEFAULT_SPONSORED_GAS = "0.01 ETH/day";
/** The fee cap of sponsored ops a grant with paymasters gets unless the owner gives one (THREATS 22). */
export const DEFAULT_MAX_FEE = "100 gwei";
/** How the summary names the pseudo-assets of the spend-limit hook. */
export const OPERATIONS_LABEL = { symbol: "ops", decimals: 0 } as const;
export const SPONSORED_GAS_LABEL = { symbol: "ETH of sponsored gas", decimals: 18 } as const;
export const SPONSORED_FEE_LABEL = { symbol: "gwei", decimals: 9 } as const;

/** What {@link prepareGrant} needs. */
export interface PrepareGrantParameters {
  provider: Provider;
  addresses: LeashChainAddresses;
  /** The Ledger address that must own the account. */
  owner: string;
  input: GrantInput;
}

const ERC20_METADATA_ABI = ["function decimals() view returns (uint8)", "function symbol() view returns (string)"];
const ERC20_ALLOWANCE_ABI = ["function allowance(address owner, address spender) view returns (uint256)"];

/** An allowance of the largest uint256 is unlimited: common tokens never decrease it. */
export const UNLIMITED_ALLOWANCE = MaxUint256;

/** Uniswap's Permit2, at the same address on every chain. */
const PERMIT2 = "0x000000000022D473030F116dDEE9F6B43aC78BA3";

/**
 * The wildcard, `multicall(bytes[])`, `multicall(uint256,bytes[])`, `multicall(bytes32,bytes[])` and
 * `batch(bytes[],bool)`: each reaches the contract's own functions with arguments no rule checks.
 */
const RULE_BYPASSING_SELECTORS: readonly string[] = [
  SELECTOR_ANY,
  "0xac9650d8",
  "0x5ae401dc",
  "0x1f0464d1",
  "0xd2423b51",
];

/** The chain's latest block time (what validity and budgets are measured against). */
export async function chainTime(provider: Provider): Promise<bigint> {
  const block = await provider.getBlock("latest");
  if (block === null) throw new Error("the node returned no latest block");
  return BigInt(block.timestamp);
}

/**
 * Refuses an account without code or that `owner` does not own, and returns how the owner acts on it (Leash's owner
 * module on Leash's account; see {@link resolveOwnerAccount} for other ERC-6900 accounts). Throws
 * {@link NotAccountOwnerError}.
 */
export async function assertAccountOwner(
  provider: Provider,
  addresses: LeashChainAddresses,
  account: string,
  owner: string,
  ownerValidation?: string,
): Promise<OwnerAccount> {
  return resolveOwnerAccount({ provider, addresses, account, owner, ownerValidation });
}

/** A symbol the summary may show: printable ASCII without spaces, at most this many characters. */
const DISPLAYABLE_SYMBOL = /^[\x21-\x7e]{1,16}$/;

/**
 * What the summary shows for a token's own `symbol()`: the token chooses it, so anything that could rewrite the
 * summary (newlines, terminal escapes, long text) or pass for something else is replaced by the address.
 */
function displayableSymbol(symbol: string, token: string): string {
  return DISPLAYABLE_SYMBOL.test(symbol) ? symbol : `token ${token} (its symbol() is not printable)`;
}

/** Reads a token's decimals and symbol; throws {@link TokenDecimalsError} if it has no code or no `decimals()`. */
export async function readTokenLabel(parameters: {
  provider: Provider;
  token: string;
  /** The option or field the token came from, for the error's message. */
  field: string;
}): Promise<AssetLabel> {
  const { provider, token, field } = parameters;
  if ((await provider.getCode(token)) === "0x") {
    throw new TokenDecimalsError(
      `${field}: no contract at ${token} on this chain, so its decimals are unknown; check the token address`,
      field,
    );
  }
  const contract = new Contract(token, ERC20_METADATA_ABI, provider);
  let decimals: number;
  try {
    decimals = Number(await contract.getFunction("decimals")());
  } catch {
    throw new TokenDecimalsError(
      `${field}: ${token} answers no decimals(), so amounts cannot be scaled; is it an ERC-20 token?`,
      field,
    );
  }
  if (!Number.isInteger(decimals) || decimals > 36) {
    throw new TokenDecimalsError(`${field}: ${token} reports ${decimals} decimals, which is not plausible`, field);
  }
  let symbol = `token ${token}`;
  try {
    symbol = displayableSymbol(String(await contract.getFunction("symbol")()), token);
  } catch {
    // A token without symbol() is still usable; the summary names it by address.
  }
  return { address: token, symbol, decimals };
}

async function resolveAsset(
  provider: Provider,
  addresses: LeashChainAddresses,
  asset: string,
  field: string,
): Promise<AssetLabel> {
  if (asset === "ETH") return { address: NATIVE_ASSET, ...NATIVE_LABEL };
  if (asset === "OPS") return { address: OPERATIONS_ASSET, ...OPERATIONS_LABEL };
  if (asset.startsWith("0x")) {
    if (asset === NATIVE_ASSET) return { address: NATIVE_ASSET, ...NATIVE_LABEL };
    return readTokenLabel({ provider, token: asset, field });
  }
  const address = addresses.tokens[asset];
  if (address === undefined) {
    const known = ["ETH", ...Object.keys(addresses.tokens)].join(", ");
    throw new UnknownTokenError(
      `${field}: unknown token symbol "${asset}" on chain ${addresses.chainId} (known: ${known}); give the ` +
        "token's address instead, or add the symbol to the address book's tokens",
      field,
    );
  }
  const label = await readTokenLabel({ provider, token: address, field });
  return { ...label, symbol: asset };
}

async function pickSessionId(
  module: SessionKeyValidationModule,
  account: string,
  requested: string | undefined,
): Promise<number> {
  const exists = async (id: number) => (await module.getSession(account, id)).agent !== NATIVE_ASSET;
  if (requested !== undefined) {
    const id = parseSessionId(requested, "--session-id");
    if (await exists(id)) {
      throw new InvalidSessionIdError(
        `--session-id: account ${account} already has a session ${id}; omit --session-id to take the next free one`,
        "--session-id",
      );
    }
    return id;
  }
  let id = Number(await module.grantCountOf(account)) + 1;
  while (id < RESERVED_SESSION_ID && (await exists(id))) id++;
  return id;
}

/** A random nonce `account` has not used (signed grants and revocations share the space). */
export async function unusedNonce(module: SessionKeyValidationModule, account: string): Promise<bigint> {
  for (;;) {
    const nonce = BigInt(hexlify(randomBytes(8)));
    if (!(await module.isNonceUsed(account, nonce))) return nonce;
  }
}

/** The token whose decimals scale a target's uint rule values: the target itself if it is a budgeted or book token. */
async function ruleToken(
  provider: Provider,
  addresses: LeashChainAddresses,
  budgetAssets: AssetLabel[],
  target: string,
): Promise<AssetLabel | undefined> {
  const budgeted = budgetAssets.find((asset) => asset.address === target);
  if (budgeted !== undefined) return budgeted;
  const symbol = Object.entries(addresses.tokens).find(([, address]) => getAddress(address) === target)?.[0];
  if (symbol === undefined) return undefined;
  return { ...(await readTokenLabel({ provider, token: target, field: `--allow ${symbol}` })), symbol };
}

/** A rule value as the module compares it: an address, a bool, or a uint (scaled by the target token's decimals). */
function parseRuleValue(value: string, rule: ParsedArgumentRule, token: AssetLabel | undefined): bigint {
  const field = `--allow rule ${rule.text}`;
  let word: bigint;
  if (rule.type === "address") {
    word = BigInt(parseAddress(value, field));
  } else if (rule.type === "bool") {
    if (value !== "true" && value !== "false")
      throw new InvalidScopeError(`${field}: a bool is true or false`, "--allow");
    word = value === "true" ? 1n : 0n;
  } else {
    const bits = BigInt(rule.type.slice(4));
    const max = (1n << bits) - 1n < MAX_RULE_VALUE ? (1n << bits) - 1n : MAX_RULE_VALUE;
    if (token !== undefined) {
      word = parseAmount(value, token.decimals, field, max);
    } else if (/^\d+$/.test(value)) {
      word = BigInt(value);
    } else {
      throw new InvalidScopeError(
        `${field}: "${value}" is not a whole number (the target is no known token, so amounts are in base units)`,
        "--allow",
      );
    }
    if (word > max)
      throw new InvalidScopeError(`${field}: ${value} is beyond what ${rule.type} or a rule holds`, "--allow");
  }
  return word;
}

/** How the summary writes an entry's rules: `to = 0xA or 0xB, amount ≤ 50.0 USDC`. */
function describeRules(entry: ScopeEntry, parsed: ParsedArgumentRule[], token: AssetLabel | undefined): string {
  return parsed
    .map((rule) => {
      const values = (entry.rules ?? []).filter((r) => r.argument === rule.argument && r.op === rule.op);
      const show = (value: bigint) =>
        rule.type === "address"
          ? getAddress(toBeHex(value, 20))
          : rule.type === "bool"
            ? String(value === 1n)
            : token !== undefined
              ? formatAmount(value, token)
              : value.toString();
      const sign = rule.op === "eq" ? "=" : rule.op === "le" ? "≤" : "≥";
      return `${rule.name} ${sign} ${values.map((r) => show(r.value)).join(" or ")}`;
    })
    .join(", ");
}

function describeFunction(
  selector: string,
  signature: string | undefined,
  entry?: ScopeEntry,
  rules?: ParsedArgumentRule[],
  token?: AssetLabel,
): string {
  if (rules !== undefined && entry !== undefined && signature !== undefined) {
    return `${signature} where ${describeRules(entry, rules, token)}`;
  }
  if (selector === SELECTOR_ANY) return "ANY function (wildcard; standard transfers and approvals excluded)";
  if (selector === SELECTOR_SIGN) return "SIGN EIP-712 messages for this contract (ERC-1271)";
  if (selector === SELECTOR_NO_CALLDATA) return "plain native transfers (empty calldata)";
  if (signature !== undefined) return signature;
  const known = knownSignatureOf(selector);
  return known === undefined ? `unknown function ${selector}` : known;
}

/** The latest time a JavaScript Date (hence the summary) can show, in unix seconds. */
const MAX_DATE_SECONDS = 8_640_000_000_000n;

/**
 * How far before the chain's time a grant starts when no `--valid-after` is given, in seconds: a session is valid
 * strictly after its start by the clock of whoever asks, and a bundler whose clock lags the chain's would otherwise
 * refuse the agent's first op. `--ttl` counts from that start.
 */
export const DEFAULT_START_SKEW = 60n;

/** Parses the times of a grant against chain time `now`. */
export function parseGrantTimes(
  input: Pick<GrantInput, "ttl" | "validUntil" | "validAfter">,
  now: bigint,
): { validAfter: bigint; validUntil: bigint } {
  const validAfter =
    input.validAfter === undefined
      ? now > DEFAULT_START_SKEW
        ? now - DEFAULT_START_SKEW
        : 0n
      : parseTime(input.validAfter, "--valid-after", now);
  if (validAfter > MAX_VALID_AFTER) {
    throw new InvalidTimeError(
      `--valid-after: ${input.validAfter} is beyond the latest start budgets can be anchored at (unix ` +
        `${MAX_VALID_AFTER}); give a nearer date`,
      "--valid-after",
    );
  }
  if ((input.ttl === undefined) === (input.validUntil === undefined)) {
    throw new InvalidTimeError(
      "give exactly one of --ttl (e.g. 24h) or --valid-until (e.g. 2026-12-01T18:00:00Z): a session must expire",
      "--ttl",
    );
  }
  const field = input.ttl !== undefined ? "--ttl" : "--valid-until";
  const validUntil =
    input.ttl !== undefined
      ? validAfter + parseDuration(input.ttl, "--ttl")
      : parseTime(input.validUntil!, "--valid-until", now);
  if (validUntil <= now) {
    const skew =
      input.validAfter === undefined && input.ttl !== undefined
        ? ` (a session starts ${DEFAULT_START_SKEW} s before the chain's time unless --valid-after says otherwise, ` +
          "and --ttl counts from that start)"
        : "";
    throw new InvalidTimeError(
      `${field}: the session would expire at ${new Date(Number(validUntil) * 1000).toISOString()}, which is not ` +
        `after the chain's current time ${new Date(Number(now) * 1000).toISOString()}${skew}; give a future expiry`,
      field,
    );
  }
  if (validUntil <= validAfter) {
    throw new InvalidTimeError(`${field}: the session must expire after it starts (--valid-after)`, field);
  }
  if (validUntil > MAX_VALID_UNTIL || validUntil > MAX_DATE_SECONDS) {
    throw new InvalidTimeError(
      `${field}: the expiry is beyond what a session can hold (unix ${MAX_VALID_UNTIL}, a uint48) or a date can ` +
        "show; give a nearer one",
      field,
    );
  }
  return { validAfter, validUntil };
}

/** What {@link readStandingAllowances} needs. */
export interface ReadStandingAllowancesParameters {
  provider: Provider;
  addresses: LeashChainAddresses;
  account: string;
  /** The targets in scope and the allowed paymasters (an ERC-20 paymaster pulls its fees); duplicates read once. */
  targets: string[];
  /** The grant's budget assets, already read (native ones are skipped). */
  budgetAssets: AssetLabel[];
}

/**
 * Reads the account's allowance to every target, for every token of the address book and every budgeted token
 * (THREATS 21). Never throws: a token without code or decimals, or whose `allowance()` reverts, is reported in
 * `unreadable` for each target. Reads the chain only.
 */
export async function readStandingAllowances(
  parameters: ReadStandingAllowancesParameters,
): Promise<StandingAllowances> {
  const { provider, addresses, account } = parameters;
  const spenders = [...new Map(parameters.targets.map((target) => [target.toLowerCase(), target])).values()];
  const tokens = new Map<string, { address: string; label?: AssetLabel; bookSymbol?: string }>();
  for (const asset of parameters.budgetAssets) {
    if (!isPseudoAsset(asset.address)) {
      tokens.set(asset.address.toLowerCase(), { address: asset.address, label: asset });
    }
  }
  for (const [symbol, address] of Object.entries(addresses.tokens)) {
    if (!tokens.has(address.toLowerCase())) tokens.set(address.toLowerCase(), { address, bookSymbol: symbol });
  }
  const result: StandingAllowances = {
    tokens: [...tokens.values()].map((t) => t.address),
    spenders,
    found: [],
    unreadable: [],
  };
  for (const token of tokens.values()) {
    let label: AssetLabel;
    try {
      label =
        token.label ??
        (await resolveAsset(provider, addresses, token.bookSymbol!, `address book token ${token.bookSymbol}`));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const symbol = token.bookSymbol ?? `token ${token.address}`;
      for (const spender of spenders) result.unreadable.push({ spender, token: token.address, symbol, reason });
      continue;
    }
    const allowanceOf = new Contract(label.address, ERC20_ALLOWANCE_ABI, provider).getFunction("allowance");
    const amounts = await Promise.all(
      spenders.map(async (spender) => {
        try {
          return BigInt(await allowanceOf(account, spender));
        } catch {
          return undefined;
        }
      }),
    );
    spenders.forEach((spender, i) => {
      const amount = amounts[i];
      if (amount === undefined) {
        result.unreadable.push({
          spender,
          token: label.address,
          symbol: label.symbol,
          reason: "allowance() reverted or answered no number; is it an ERC-20 token?",
        });
      } else if (amount > 0n) {
        result.found.push({ spender, token: label, amount });
      }
    });
  }
  return result;
}

/**
 * ERC-6900's module interfaces and their ERC-165 ids (`type(I).interfaceId`), in the order the chain asks them
 * (`ForbiddenInterfaceLib`).
 */
export const ERC6900_MODULE_INTERFACES: readonly { readonly name: string; readonly interfaceId: string }[] = [
  { name: "IModule", interfaceId: "0x46c0c1b4" },
  { name: "IValidationModule", interfaceId: "0xab3e34c1" },
  { name: "IValidationHookModule", interfaceId: "0x28171ad0" },
  { name: "IExecutionModule", interfaceId: "0xae5628c6" },
  { name: "IExecutionHookModule", interfaceId: "0xb02cc192" },
];

/** ERC-4337's `IStakeManager` and its ERC-165 id (the same in EntryPoint v0.7 and v0.8): an EntryPoint reports it. */
export const STAKE_MANAGER_INTERFACE = { name: "IStakeManager", interfaceId: "0xcf28ef97" } as const;

/**
 * The name of the interface that makes `target` one no session may call, as it reports it through ERC-165, or
 * undefined: an ERC-6900 module interface, or `IStakeManager` (an EntryPoint, which holds the account's deposit). The
 * question the session module asks at grant and the spend-limit hook before every op's calls
 * (`ForbiddenInterfaceLib`). An address without code, a contract without `supportsInterface` or one that reverts
 * reports nothing; an error of the provider itself is thrown.
 */
export async function forbiddenInterfaceOf(provider: Provider, target: string): Promise<string | undefined> {
  const erc165 = new Contract(target, ["function supportsInterface(bytes4) view returns (bool)"], provider);
  const reports = async (interfaceId: string): Promise<boolean> => {
    try {
      return (await erc165.getFunction("supportsInterface").staticCall(interfaceId)) === true;
    } catch (error) {
      // A revert (ethers' CALL_EXCEPTION; an in-process Hardhat network throws its own "reverted" error) or an
      // answer that is not a bool: no such interface.
      if (isError(error, "CALL_EXCEPTION") || isError(error, "BAD_DATA")) return false;
      if (error instanceof Error && /revert/i.test(error.message)) return false;
      throw error;
    }
  };
  if (!(await reports("0x01ffc9a7"))) return undefined;
  for (const { name, interfaceId } of [...ERC6900_MODULE_INTERFACES, STAKE_MANAGER_INTERFACE]) {
    if (await reports(interfaceId)) return name;
  }
  return undefined;
}

/**
 * Checks the owner's input against the contracts' bounds and the chain, and builds the {@link GrantPlan}. Throws a
 * {@link LeashInputError} subclass that says what to fix; reads the chain only (nothing is signed).
 */
export async function prepareGrant(parameters: PrepareGrantParameters): Promise<GrantPlan> {
  const { provider, addresses, input } = parameters;
  // Pure checks first: a typo is reported before any network round trip.
  const account = parseAddress(input.account, "--account");
  const owner = parseAddress(parameters.owner, "ledgerAccounts");
  const agent = parseAddress(input.agent, "--agent");
  const scope = input.allow.map((entry) => parseScopeEntry(entry));
  const budgets = input.budgets.map((entry) => parseBudget(entry));
  const paymasters = (input.paymasters ?? []).map((entry) => parseAddress(entry, "--paymaster"));
  if (scope.length === 0 || scope.length > MAX_SCOPE_ENTRIES) {
    throw new InvalidScopeError(
      `--allow: a session needs 1 to ${MAX_SCOPE_ENTRIES} scope entries, got ${scope.length}; say what the agent ` +
        "may call, e.g. --allow 0x…:transfer(address,uint256)",
      "--allow",
    );
  }
  const forbidden = new Map<string, string>([
    [account, "the account itself"],
    [addresses.sessionModule, "the session module"],
    [addresses.spendLimitHook, "the spend-limit hook"],
    [addresses.entryPoint, "the EntryPoint (it holds the account's deposit)"],
    [addresses.ownerModule, "the owner module"],
    [agent, "the agent's own address"],
  ]);
  const seen = new Set<string>();
  for (const entry of scope) {
    const why = forbidden.get(entry.target);
    if (why !== undefined) {
      throw new InvalidScopeError(`--allow: ${entry.target} is ${why}; a session may never call it`, "--allow");
    }
    const key = `${entry.target}:${entry.selector}`;
    if (seen.has(key)) throw new InvalidScopeError(`--allow: ${key} is listed twice`, "--allow");
    seen.add(key);
  }
  for (const ruled of scope.filter((entry) => entry.rules !== undefined)) {
    const batch = scope.find(
      (entry) => entry.target === ruled.target && RULE_BYPASSING_SELECTORS.includes(entry.selector),
    );
    if (batch !== undefined) {
      const what = batch.selector === SELECTOR_ANY ? "the wildcard" : `its batch function ${batch.selector}`;
      throw new InvalidScopeError(
        `--allow: ${ruled.target} has argument rules, but ${what} would reach the ruled function with arguments ` +
          "no rule checks; drop that entry or the rules",
        "--allow",
      );
    }
  }
  if (budgets.length > MAX_BUDGETS) {
    throw new InvalidAmountError(`--budget: at most ${MAX_BUDGETS} budgets, got ${budgets.length}`, "--budget");
  }
  if (paymasters.length > MAX_PAYMASTERS) {
    throw new InvalidAmountError(`--paymaster: at most ${MAX_PAYMASTERS} paymasters`, "--paymaster");
  }

  const now = await chainTime(provider);
  const { validAfter, validUntil } = parseGrantTimes(input, now);

  const { chainId } = await provider.getNetwork();
  if (chainId !== addresses.chainId) {
    throw new WrongChainError(
      `the network is chain ${chainId} but the Leash address book is for chain ${addresses.chainId}`,
      "--network",
    );
  }
  const ownerAccount = await assertAccountOwner(provider, addresses, account, owner, input.ownerValidation);
  const ownerModule = ownerAccount.validation.module;
  if (ownerModule !== ZeroAddress && ownerModule !== addresses.ownerModule) {
    const entry = scope.find((candidate) => candidate.target === ownerModule);
    if (entry !== undefined) {
      throw new InvalidScopeError(
        `--allow: ${ownerModule} is the owner's validation module; a session may never call it`,
        "--allow",
      );
    }
  }
  for (const target of new Set(scope.map((entry) => entry.target))) {
    const reported = await forbiddenInterfaceOf(provider, target);
    if (reported !== undefined) {
      const what = reported === STAKE_MANAGER_INTERFACE.name ? "an EntryPoint" : "an ERC-6900 module";
      throw new InvalidScopeError(
        `--allow: ${target} is ${what} (it reports ${reported} through ERC-165); a session may never call a ` +
          "module or an EntryPoint, of this account or any other (the chain refuses it: SessionTargetForbidden); " +
          "drop it",
        "--allow",
      );
    }
  }

  const budgetAssets: AssetLabel[] = [];
  const budgetEntries: SessionDescription["budgets"] = [];
  for (const budget of budgets) {
    const field = `--budget "${budget.text}"`;
    const label = await resolveAsset(provider, addresses, budget.asset, field);
    if (budgetAssets.some((other) => other.address === label.address)) {
      throw new InvalidAmountError(`${field}: a second budget for ${label.symbol}; give one per asset`, "--budget");
    }
    const limit = parseAmount(budget.amount, label.decimals, field);
    const perCallCap = budget.cap === undefined ? 0n : parseAmount(budget.cap, label.decimals, `${field} cap`);
    if (perCallCap > limit) {
      throw new InvalidAmountError(`${field}: the per-call cap is above the budget itself`, "--budget");
    }
    budgetAssets.push(label);
    budgetEntries.push({ asset: label.address, limit, period: budget.period, perCallCap });
  }
  if (paymasters.length === 0 && (input.sponsoredGas !== undefined || input.maxFee !== undefined)) {
    throw new InvalidAmountError(
      "--sponsored-gas / --max-fee: they bound what paymasters pay for the agent; give --paymaster too, or drop them",
      "--sponsored-gas",
    );
  }
  if (paymasters.length > 0) {
    // Whenever a paymaster may pay, its sponsored ops are bounded: a budget of their maximum cost and a fee cap.
    const sponsoredText = input.sponsoredGas ?? DEFAULT_SPONSORED_GAS;
    const sponsored = parseBudget(sponsoredText, "--sponsored-gas");
    if (sponsored.asset !== "ETH" || sponsored.cap !== undefined) {
      throw new InvalidAmountError(
        `--sponsored-gas: "${sponsoredText}" must be "<amount> ETH/<period>", e.g. "${DEFAULT_SPONSORED_GAS}"`,
        "--sponsored-gas",
      );
    }
    const feeText = input.maxFee ?? DEFAULT_MAX_FEE;
    const fee = /^(\S+)\s*gwei$/i.exec(feeText.trim());
    if (fee === null) {
      throw new InvalidAmountError(`--max-fee: "${feeText}" is not "<n> gwei", e.g. "${DEFAULT_MAX_FEE}"`, "--max-fee");
    }
    budgetAssets.push({ address: SPONSORED_GAS_ASSET, ...SPONSORED_GAS_LABEL });
    budgetEntries.push({
      asset: SPONSORED_GAS_ASSET,
      limit: parseAmount(sponsored.amount, NATIVE_LABEL.decimals, "--sponsored-gas"),
      period: sponsored.period,
      perCallCap: 0n,
    });
    budgetAssets.push({ address: SPONSORED_FEE_ASSET, ...SPONSORED_FEE_LABEL });
    budgetEntries.push({
      asset: SPONSORED_FEE_ASSET,
      limit: parseAmount(fee[1]!, SPONSORED_FEE_LABEL.decimals, "--max-fee"),
      period: 0n,
      perCallCap: 0n,
    });
  }
  const signedToken = scope.find(
    (entry) => entry.selector === SELECTOR_SIGN && budgetAssets.some((asset) => asset.address === entry.target),
  );
  const permit2Signing = scope.some((entry) => entry.selector === SELECTOR_SIGN && entry.target === PERMIT2);
  if (permit2Signing && budgetAssets.some((asset) => !isPseudoAsset(asset.address) && asset.address !== NATIVE_ASSET)) {
    throw new InvalidScopeError(
      `--allow: ${PERMIT2}:sign lets the session sign Permit2 transfers of any token the account approved to Permit2, ` +
        "budgeted ones included, which whoever submits them spends outside any session op; leave Permit2 out of signing",
      "--allow",
    );
  }
  if (signedToken !== undefined) {
    throw new InvalidScopeError(
      `--allow: ${signedToken.target}:sign lets the session sign that token's permits, and what a permit moves is ` +
        "spent by whoever submits it, outside any session op and its budget; sign for other contracts only",
      "--allow",
    );
  }
  if (budgetEntries.length > MAX_BUDGETS) {
    throw new InvalidAmountError(
      `--budget: at most ${MAX_BUDGETS} budgets with the sponsored-gas budget and fee cap, got ${budgetEntries.length}`,
      "--budget",
    );
  }
  const scopeEntries: ScopeEntry[] = [];
  const ruleTokens: (AssetLabel | undefined)[] = [];
  for (const entry of scope) {
    const resolved: ScopeEntry = { target: entry.target, selector: entry.selector };
    // The text a signed grant shows: the signature written, or the one known to hash to a bare selector.
    const text =
      entry.signature !== undefined && entry.signature.includes("(")
        ? entry.signature
        : knownSignatureOf(entry.selector);
    if (text !== undefined && PSEUDO_FUNCTION_TEXTS[entry.selector] === undefined) resolved.function = text;
    ruleTokens.push(undefined);
    if (entry.rules !== undefined) {
      const token = await ruleToken(provider, addresses, budgetAssets, entry.target);
      ruleTokens[ruleTokens.length - 1] = token;
      resolved.rules = entry.rules.flatMap((rule) =>
        rule.values.map((value) => ({
          argument: rule.argument,
          op: rule.op,
          value: parseRuleValue(value, rule, token),
        })),
      );
    }
    scopeEntries.push(resolved);
  }
  const nativeBudget = budgetEntries.find((budget) => budget.asset === NATIVE_ASSET);
  if (nativeBudget === undefined && paymasters.length === 0) {
    throw new InvalidAmountError(
      "--budget: without a paymaster the account pays the agent's gas from an ETH budget; add one, e.g. " +
        '--budget "0.05 ETH/day", or allow a paymaster',
      "--budget",
    );
  }
  const valueCapPerCall =
    input.perCallCap === undefined
      ? (nativeBudget?.limit ?? 0n)
      : parseAmount(input.perCallCap, NATIVE_LABEL.decimals, "--per-call-cap", MAX_VALUE_CAP);

  // A warning only: whatever it finds or fails to read, the grant goes on to the summary.
  const standingAllowances = await readStandingAllowances({
    provider,
    addresses,
    account,
    targets: [...scope.map((entry) => entry.target), ...paymasters],
    budgetAssets,
  });

  const module = SessionKeyValidationModule__factory.connect(addresses.sessionModule, provider);
  const sessionId = await pickSessionId(module, account, input.sessionId);
  const session: SessionDescription = {
    account,
    sessionId,
    agent,
    validAfter,
    validUntil,
    valueCapPerCall,
    // A session may sign only if its scope names the contracts it may sign for (THREATS 25).
    canSignMessages: scope.some((entry) => entry.selector === SELECTOR_SIGN),
    scope: scopeEntries,
    budgets: budgetEntries,
    paymasters,
    epoch: Number(await module.epochOf(account)),
    nonce: await unusedNonce(module, account),
  };
  return {
    session,
    chainId,
    owner,
    addresses,
    functionNames: scope.map((entry, i) =>
      describeFunction(
        entry.selector,
        entry.namedSignature ?? entry.signature,
        scopeEntries[i]!,
        entry.rules,
        ruleTokens[i],
      ),
    ),
    budgetAssets,
    now,
    standingAllowances,
    ownerAccount,
  };
}

/** An amount with its decimals and symbol (`100.0 USDC`). */
export function formatAmount(amount: bigint, asset: Pick<AssetLabel, "symbol" | "decimals">): string {
  return `${formatUnits(amount, asset.decimals)} ${asset.symbol}`;
}

/** An allowance as {@link formatAmount} shows it, or `unlimited USDC` for {@link UNLIMITED_ALLOWANCE}. */
export function formatAllowance(amount: bigint, asset: Pick<AssetLabel, "symbol" | "decimals">): string {
  return amount === UNLIMITED_ALLOWANCE ? `unlimited ${asset.symbol}` : formatAmount(amount, asset);
}
