/**
 * Sessions: the plain description integrators and the tasks work with, and everything derived from it — the
 * install call (grant by transaction), the EIP-712 `SessionGrant` / revocation typed data the owner signs (nested
 * the ERC-7739 way so the account's owner validation accepts it and a Ledger still shows every field), and the
 * agent-side nonce key.
 */
import {
  AbiCoder,
  concat,
  FunctionFragment,
  getAddress,
  id,
  keccak256,
  MaxUint256,
  toBeHex,
  toUtf8Bytes,
  TypedDataEncoder,
  ZeroHash,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

import { SessionKeyValidationModule__factory } from "./contracts.js";
import {
  encodeErc1271Signature,
  encodeExecutionHook,
  encodeHookInstall,
  encodeModuleEntity,
  encodeValidationConfig,
  encodeValidationHook,
  type ModuleFunction,
} from "./encoding.js";

/** Pseudo-selector: calls with empty calldata (plain native transfers). */
export const SELECTOR_NO_CALLDATA = "0x00000000";
/** Pseudo-selector: any call to the target, except the standard value-moving functions (name those explicitly). */
export const SELECTOR_ANY = "0xffffffff";
/** Pseudo-selector: the session may sign EIP-712 messages whose domain's verifyingContract is the target. */
export const SELECTOR_SIGN = "0xfffffffe";
/** Asset id of native currency in budgets. */
export const NATIVE_ASSET = "0x0000000000000000000000000000000000000000";
/** Pseudo-asset of the op-count budget (a rate limit): every op of the session spends 1 of it. */
export const OPERATIONS_ASSET = "0x0000000000000000000000000000000000000001";
/**
 * Pseudo-asset of the budget of paymaster-sponsored gas (wei): every sponsored op spends its maximum gas cost. A
 * session that may use a paymaster needs it, and {@link SPONSORED_FEE_ASSET}.
 */
export const SPONSORED_GAS_ASSET = "0x0000000000000000000000000000000000000002";
/** Pseudo-asset of the fee cap of sponsored ops: its limit is the most `maxFeePerGas` (wei) they may offer. */
export const SPONSORED_FEE_ASSET = "0x0000000000000000000000000000000000000003";

/** Whether a budget's asset is native currency or a counter of the spend-limit hook (0x…00 to 0x…03), not a token. */
export function isPseudoAsset(asset: string): boolean {
  return BigInt(asset) <= BigInt(SPONSORED_FEE_ASSET);
}

/** Selectors of the account's `execute` and `executeBatch`, the only ones a session is installed for. */
export const SESSION_SELECTORS = ["0xb61d27f6", "0x34fcd5be"] as const;

/** A rule on one static argument of a scoped function (THREATS 27). */
export interface ArgumentRule {
  /** The argument's position (0 = the first), counted in 32-byte words of the ABI head. */
  argument: number;
  /** `eq`: the argument equals `value` (several `eq` on one argument: it equals one of them); `le` / `ge`: at most /
   * at least `value`. */
  op: "eq" | "le" | "ge";
  /** The whole 32-byte word compared, below 2^232 (an address as a number, an amount in base units). */
  value: bigint;
}

/** One (target, selector) pair of a session's scope. */
export interface ScopeEntry {
  target: string;
  /** A 4-byte selector, or SELECTOR_NO_CALLDATA / SELECTOR_ANY / SELECTOR_SIGN. */
  selector: string;
  /**
   * The function's signature text, e.g. `transfer(address,uint256)`: what the owner's Ledger shows for a signed
   * grant, and what the session module hashes to the selector it enforces. Required to sign a grant for an exact
   * selector; pseudo-selectors have fixed texts ({@link scopeFunctionText}).
   */
  function?: string;
  /** Rules on the call's static arguments (exact selectors only). */
  rules?: ArgumentRule[];
}

/** Argument rule ops as the session module numbers them (RULE_EQ, RULE_LE, RULE_GE). */
const RULE_OPS = { eq: 1n, le: 2n, ge: 3n } as const;
/** Largest value an argument rule holds (232 bits). */
export const MAX_RULE_VALUE = (1n << 232n) - 1n;

/**
 * The session module's `argumentRules` words of a scope: entry (8) ‖ argument (8) ‖ op (8) ‖ value (232), sorted
 * ascending as the module requires.
 */
export function encodeArgumentRules(scope: ScopeEntry[]): bigint[] {
  return scope
    .flatMap((entry, index) =>
      (entry.rules ?? []).map(
        (rule) => (BigInt(index) << 248n) | (BigInt(rule.argument) << 240n) | (RULE_OPS[rule.op] << 232n) | rule.value,
      ),
    )
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** One budget the spend-limit hook enforces. */
export interface BudgetEntry {
  /** Token address, or NATIVE_ASSET. */
  asset: string;
  /** Most spent per period, in the asset's base units. */
  limit: bigint;
  /** Period in seconds; 0 = lifetime. */
  period: bigint;
  /** Most one op may spend; 0 = no cap. */
  perCallCap: bigint;
}

/** Everything a session grant says, in plain values. The single source of what is shown, signed and installed. */
export interface SessionDescription {
  account: string;
  sessionId: number;
  agent: string;
  validAfter: bigint;
  validUntil: bigint;
  valueCapPerCall: bigint;
  canSignMessages: boolean;
  scope: ScopeEntry[];
  budgets: BudgetEntry[];
  paymasters: string[];
  /** The account's revocation epoch when the grant is signed (signed grants only; a kill switch voids it). */
  epoch: number;
  /** Unused nonce of the account (signed grants only; shared with signed revocations). */
  nonce: bigint;
}

/** Where the Leash contracts are, for one chain. */
export interface LeashAddresses {
  chainId: bigint;
  sessionModule: string;
  spendLimitHook: string;
  ownerModule: string;
}

/**
 * The EIP-712 types of a SessionGrant, designed to be read on a Ledger (the app shows fields in this order): each
 * budget with its period in words and amounts with their token, each (target, function) pair of the scope, a
 * target's pairs together, then each argument rule naming its target and function: rules on addresses (shown as
 * addresses), then rules on numbers (amounts in base units, bools as 0 or 1).
 */
export const SESSION_GRANT_TYPES: Record<string, TypedDataField[]> = {
  SessionGrant: [
    { name: "account", type: "address" },
    { name: "agent", type: "address" },
    { name: "sessionId", type: "uint32" },
    { name: "validAfter", type: "uint48" },
    { name: "validUntil", type: "uint48" },
    { name: "budgets", type: "GrantBudget[]" },
    { name: "valueCapPerCall", type: "GrantAmount" },
    { name: "scope", type: "GrantScope[]" },
    { name: "addressRules", type: "GrantAddressRule[]" },
    { name: "numberRules", type: "GrantNumberRule[]" },
    { name: "canSignMessages", type: "bool" },
    { name: "paymasters", type: "address[]" },
    { name: "epoch", type: "uint32" },
    { name: "nonce", type: "uint256" },
  ],
  GrantAmount: [
    { name: "token", type: "address" },
    { name: "amount", type: "uint256" },
  ],
  GrantBudget: [
    { name: "limit", type: "GrantAmount" },
    { name: "period", type: "string" },
    { name: "perCallCap", type: "GrantAmount" },
  ],
  GrantScope: [
    { name: "target", type: "address" },
    { name: "signature", type: "string" },
  ],
  GrantAddressRule: [
    { name: "target", type: "address" },
    { name: "signature", type: "string" },
    { name: "argument", type: "uint8" },
    { name: "condition", type: "string" },
    { name: "value", type: "address" },
  ],
  GrantNumberRule: [
    { name: "target", type: "address" },
    { name: "signature", type: "string" },
    { name: "argument", type: "uint8" },
    { name: "condition", type: "string" },
    { name: "value", type: "uint256" },
  ],
};

/** The largest per-call value cap (uint128). */
const UINT128_MAX = (1n << 128n) - 1n;

/** The texts a signed grant uses for the pseudo-selectors (SessionGrantLib). */
export const PSEUDO_FUNCTION_TEXTS: Readonly<Record<string, string>> = {
  [SELECTOR_NO_CALLDATA]: "(plain transfer)",
  [SELECTOR_ANY]: "(any function)",
  [SELECTOR_SIGN]: "(sign typed data)",
};

/** The texts of the argument rule conditions in a signed grant. */
export const RULE_CONDITION_TEXTS = { eq: "equals", le: "at most", ge: "at least" } as const;

/** A scope entry that cannot be written into a signed grant the device shows. */
export class GrantFunctionTextError extends Error {
  constructor(entry: ScopeEntry, reason: string) {
    super(
      `scope entry ${entry.target} ${entry.selector}: ${reason}. A signed grant names each function by its ` +
        'signature text, which the Ledger shows and the chain hashes: give it as "name(type,...)", e.g. ' +
        '"transfer(address,uint256)"',
    );
    this.name = "GrantFunctionTextError";
  }
}

/** The text a signed grant shows for a scope entry's function: its signature, or a pseudo-function's text. */
export function scopeFunctionText(entry: ScopeEntry): string {
  const pseudo = PSEUDO_FUNCTION_TEXTS[entry.selector.toLowerCase()];
  if (pseudo !== undefined) {
    if (entry.function !== undefined && entry.function !== pseudo) {
      throw new GrantFunctionTextError(entry, `a pseudo-selector's text is "${pseudo}", not "${entry.function}"`);
    }
    return pseudo;
  }
  if (entry.function === undefined) throw new GrantFunctionTextError(entry, "the function has no signature text");
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*\([a-z0-9,[\]()]*\)$/.test(entry.function)) {
    throw new GrantFunctionTextError(entry, `"${entry.function}" is not a canonical signature (no spaces, no names)`);
  }
  const selector = id(entry.function).slice(0, 10);
  if (selector !== entry.selector.toLowerCase()) {
    throw new GrantFunctionTextError(entry, `"${entry.function}" hashes to ${selector}, not to the selector`);
  }
  return entry.function;
}

const PERIOD_UNITS = [
  [604800n, "week"],
  [86400n, "day"],
  [3600n, "hour"],
  [60n, "minute"],
  [1n, "second"],
] as const;

/** A budget period as a signed grant writes it: "lifetime" for 0, else "<n> <unit>" in the largest whole unit. */
export function grantPeriodText(seconds: bigint): string {
  if (seconds === 0n) return "lifetime";
  for (const [size, unit] of PERIOD_UNITS) {
    if (seconds % size === 0n) {
      const count = seconds / size;
      return `${count} ${unit}${count === 1n ? "" : "s"}`;
    }
  }
  throw new Error("unreachable: every period is a whole number of seconds");
}

/**
 * A scope grouped by target, in the order targets first appear, each target's entries in their order: the order of
 * a signed grant's targets and functions, and so of the scope the session module installs from it.
 */
export function groupScope(scope: readonly ScopeEntry[]): ScopeEntry[] {
  const groups = new Map<string, ScopeEntry[]>();
  for (const entry of scope) {
    const key = entry.target.toLowerCase();
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [entry]);
    else group.push(entry);
  }
  return [...groups.values()].flat();
}

/** The EIP-712 type of a signed single-session revocation. */
export const SESSION_REVOCATION_TYPES: Record<string, TypedDataField[]> = {
  SessionRevocation: [
    { name: "account", type: "address" },
    { name: "sessionId", type: "uint32" },
    { name: "grantId", type: "uint64" },
    { name: "nonce", type: "uint256" },
  ],
};

/** The EIP-712 type of a signed kill switch. */
export const ALL_SESSIONS_REVOCATION_TYPES: Record<string, TypedDataField[]> = {
  AllSessionsRevocation: [
    { name: "account", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
};

/** The EIP-712 type of a signed cancellation: voids the pending grant or revocation that has this nonce. */
export const NONCE_CANCELLATION_TYPES: Record<string, TypedDataField[]> = {
  NonceCancellation: [
    { name: "account", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
};

/**
 * The EIP-712 type a signing session's agent signs for an ERC-1271 signature: the account- and session-bound
 * `SessionMessage` of the typed data's digest, in the session module's domain ({@link sessionModuleDomain}).
 */
export const SESSION_MESSAGE_TYPES: Record<string, TypedDataField[]> = {
  SessionMessage: [
    { name: "account", type: "address" },
    { name: "sessionId", type: "uint32" },
    { name: "hash", type: "bytes32" },
  ],
};

/** The session module's EIP-712 domain. */
export function sessionModuleDomain(addresses: Pick<LeashAddresses, "chainId" | "sessionModule">): TypedDataDomain {
  return {
    name: "Leash Session Keys",
    version: "1",
    chainId: addresses.chainId,
    verifyingContract: addresses.sessionModule,
  };
}

/** The `SessionGrant` message (the struct the contract hashes) of a description. */
export function sessionGrantMessage(session: SessionDescription) {
  const scope: { target: string; signature: string }[] = [];
  const addressRules: GrantRuleMessage<string>[] = [];
  const numberRules: GrantRuleMessage<bigint>[] = [];
  for (const entry of groupScope(session.scope)) {
    const target = getAddress(entry.target);
    const signature = scopeFunctionText(entry);
    scope.push({ target, signature });
    // Each list in the module's order: by entry (the grouped scope), then argument, op and value.
    const sorted = [...(entry.rules ?? [])].sort(
      (a, b) => a.argument - b.argument || Number(RULE_OPS[a.op] - RULE_OPS[b.op]) || (a.value < b.value ? -1 : 1),
    );
    // Rules exist only on exact functions, whose text is a signature: its parameters' types, as ethers parses them.
    const types = sorted.length === 0 ? [] : FunctionFragment.from(signature).inputs.map((input) => input.type);
    for (const rule of sorted) {
      const head = { target, signature, argument: rule.argument + 1, condition: RULE_CONDITION_TEXTS[rule.op] };
      if (types[rule.argument] === "address") {
        addressRules.push({ ...head, value: getAddress(toBeHex(rule.value, 20)) });
      } else {
        // A uintN or bool (the chain refuses anything else, as the client's dry run tells before signing).
        numberRules.push({ ...head, value: rule.value });
      }
    }
  }
  return {
    account: getAddress(session.account),
    agent: getAddress(session.agent),
    sessionId: session.sessionId,
    validAfter: session.validAfter,
    validUntil: session.validUntil,
    budgets: session.budgets.map((budget) => ({
      limit: { token: getAddress(budget.asset), amount: budget.limit },
      period: grantPeriodText(budget.period),
      // No cap (0 in the hook) reads "Unlimited" on the device; the chain maps it back.
      perCallCap: {
        token: getAddress(budget.asset),
        amount: budget.perCallCap === 0n ? MaxUint256 : budget.perCallCap,
      },
    })),
    valueCapPerCall: {
      token: NATIVE_ASSET,
      // The largest cap (uint128) reads "Unlimited" (the maximum uint256); the chain maps it back.
      amount: session.valueCapPerCall === UINT128_MAX ? MaxUint256 : session.valueCapPerCall,
    },
    scope,
    addressRules,
    numberRules,
    canSignMessages: session.canSignMessages,
    paymasters: session.paymasters.map((paymaster) => getAddress(paymaster)),
    epoch: session.epoch,
    nonce: session.nonce,
  };
}

/** One argument rule as a signed grant writes it (argument counted from 1), naming its target and function. */
export interface GrantRuleMessage<Value> {
  target: string;
  signature: string;
  argument: number;
  condition: string;
  value: Value;
}

/** Typed data ready for `eth_signTypedData_v4` / ethers' `signTypedData`. */
export interface TypedDataRequest {
  domain: TypedDataDomain;
  types: Record<string, TypedDataField[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

/** The owner validation's account-bound domain fields nested signatures use (ERC-7739). */
export const OWNER_NESTED_DOMAIN = { name: "Leash Owner", version: "1" } as const;

/**
 * Wraps typed data the ERC-7739 way for the account's owner validation: the owner signs
 * `TypedDataSign(contents, name, version, chainId, verifyingContract = account, salt = 0)` in the app's domain, so
 * the signature is bound to the account and chain while the device still shows every field of `contents`.
 */
export function nestOwnerTypedData(
  app: { domain: TypedDataDomain; types: Record<string, TypedDataField[]>; primaryType: string },
  contents: Record<string, unknown>,
  account: string,
  chainId: bigint,
): TypedDataRequest {
  return {
    domain: app.domain,
    types: {
      TypedDataSign: [
        { name: "contents", type: app.primaryType },
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
        { name: "verifyingContract", type: "address" },
        { name: "salt", type: "bytes32" },
      ],
      ...app.types,
    },
    primaryType: "TypedDataSign",
    message: {
      contents,
      name: OWNER_NESTED_DOMAIN.name,
      version: OWNER_NESTED_DOMAIN.version,
      chainId,
      verifyingContract: getAddress(account),
      salt: ZeroHash,
    },
  };
}

/**
 * ERC-7739's `contentsDescr` for contents of `primaryType`: its type and every type it references, in EIP-712's
 * order (sorted by name), as a device hashing the whole `TypedDataSign` message encodes them. Implicit mode (that
 * string alone) when the contents' type sorts first, explicit mode (the string, then the contents' name) otherwise,
 * e.g. a `SessionGrant` referencing `GrantBudget`.
 */
export function erc7739ContentsDescr(types: Record<string, TypedDataField[]>, primaryType: string): string {
  const encoder = TypedDataEncoder.from(types);
  const own = encoder.encodeType(primaryType);
  // encodeType puts the primary type first, then the types it references, sorted.
  const first = own.slice(0, own.indexOf(")") + 1);
  const parts = [first, ...(own.slice(first.length).match(/[A-Za-z0-9_$]+\([^)]*\)/g) ?? [])].sort((a, b) =>
    a.slice(0, a.indexOf("(")) < b.slice(0, b.indexOf("(")) ? -1 : 1,
  );
  const sorted = parts.join("");
  return parts[0] === first ? sorted : sorted + primaryType;
}

/**
 * Turns the owner's ECDSA signature of nested typed data into the account's ERC-1271 signature:
 * `ModuleEntity(owner validation) ‖ 0xFF ‖ ecdsa ‖ appSeparator ‖ contentsHash ‖ contentsDescr ‖ uint16(len)`.
 */
export function encodeOwnerNestedSignature(
  ownerValidation: ModuleFunction,
  ecdsaSignature: string,
  app: { domain: TypedDataDomain; types: Record<string, TypedDataField[]>; primaryType: string },
  contents: Record<string, unknown>,
): string {
  const encoder = TypedDataEncoder.from(app.types);
  const contentsHash = encoder.hashStruct(app.primaryType, contents);
  const appSeparator = TypedDataEncoder.hashDomain(app.domain);
  const contentsDescr = toUtf8Bytes(erc7739ContentsDescr(app.types, app.primaryType));
  const nested = concat([ecdsaSignature, appSeparator, contentsHash, contentsDescr, toBeHex(contentsDescr.length, 2)]);
  return encodeErc1271Signature(ownerValidation, nested);
}

/** The typed data of a SessionGrant, in the session module's domain. */
export function sessionGrantTypedData(session: SessionDescription, addresses: LeashAddresses) {
  return {
    domain: sessionModuleDomain(addresses),
    types: SESSION_GRANT_TYPES,
    primaryType: "SessionGrant",
    message: sessionGrantMessage(session),
  };
}

/** The `onInstall` data of the session module for a description (grant by transaction). */
export function encodeSessionConfig(session: SessionDescription): string {
  return AbiCoder.defaultAbiCoder().encode(
    ["tuple(uint32,address,uint48,uint48,uint128,bool,address[],bytes4[],uint256[])"],
    [
      [
        session.sessionId,
        session.agent,
        session.validAfter,
        session.validUntil,
        session.valueCapPerCall,
        session.canSignMessages,
        session.scope.map((entry) => entry.target),
        session.scope.map((entry) => entry.selector),
        encodeArgumentRules(session.scope),
      ],
    ],
  );
}

/** The spend-limit hook's `onInstall` data for a description (periods anchored at validAfter). */
export function encodeSpendLimitInstall(session: SessionDescription): string {
  return AbiCoder.defaultAbiCoder().encode(
    ["uint32", "uint48", "address[]", "uint256[]", "uint48[]", "uint256[]", "address[]"],
    [
      session.sessionId,
      session.validAfter,
      session.budgets.map((budget) => budget.asset),
      session.budgets.map((budget) => budget.limit),
      session.budgets.map((budget) => budget.period),
      session.budgets.map((budget) => budget.perCallCap),
      session.paymasters,
    ],
  );
}

/** The arguments of the account's `installValidation` that grant a session by transaction. */
export function sessionInstallArgs(
  session: SessionDescription,
  addresses: Pick<LeashAddresses, "sessionModule" | "spendLimitHook">,
): [string, string[], string, string[]] {
  const validation = { module: addresses.sessionModule, entityId: session.sessionId };
  const config = encodeValidationConfig(validation, {
    isGlobal: false,
    isSignatureValidation: session.canSignMessages,
    isUserOpValidation: true,
  });
  const hook = { module: addresses.spendLimitHook, entityId: session.sessionId };
  // The hook validates (gas, early refusals) and measures the execution (what leaves the account): the same
  // install, so its onInstall runs once, with the first item.
  const hooks = [
    encodeHookInstall(encodeValidationHook(hook), encodeSpendLimitInstall(session)),
    encodeHookInstall(encodeExecutionHook(hook, { pre: true, post: true })),
  ];
  return [config, [...SESSION_SELECTORS], encodeSessionConfig(session), hooks];
}

/**
 * The arguments of the account's `uninstallValidation` that remove a session and erase its record and budgets:
 * the session's validation, its id as the module's uninstall data, and one uninstall item per hook of
 * {@link sessionInstallArgs} (the spend-limit hook's onUninstall runs once, for its validation-hook item).
 */
export function sessionUninstallArgs(
  sessionId: number,
  addresses: Pick<LeashAddresses, "sessionModule">,
): [string, string, string[]] {
  const data = AbiCoder.defaultAbiCoder().encode(["uint32"], [sessionId]);
  return [encodeModuleEntity({ module: addresses.sessionModule, entityId: sessionId }), data, [data, "0x"]];
}

/**
 * The deferred-install data for an owner-signed grant (`abi.encode(SessionGrant, ownerSignature)`), to enable the
 * session inside the agent's first user op: `{ installer: sessionModule, data }` in the op's selection.
 */
export function encodeDeferredGrant(session: SessionDescription, ownerSignature: string): string {
  const call = SessionKeyValidationModule__factory.createInterface().encodeFunctionData("grantWithSignature", [
    sessionGrantMessage(session),
    ownerSignature,
  ]);
  // grantWithSignature's arguments, without its selector: exactly abi.encode(grant, signature).
  return "0x" + call.slice(10);
}

/** How many nonce lanes a session has: its ops in different lanes are independent nonce sequences. */
export const SESSION_NONCE_LANES = 65_536;
/** Where the lane sits in a session's nonce key: XORed into the module address's low 16 bits. */
const LANE_SHIFT = 32n;

/**
 * The user op nonce key of a session's `lane` (default 0): its ModuleEntity (module ‖ session id) as a uint192, with
 * the lane XORed into the module address's low 16 bits (the module accepts those bits only). Each lane is its own
 * nonce sequence, so ops in different lanes can be in flight at once (a bundler keeps one op per sender and key).
 */
export function sessionNonceKey(sessionModule: string, sessionId: number, lane = 0): bigint {
  if (!Number.isInteger(lane) || lane < 0 || lane >= SESSION_NONCE_LANES) {
    throw new RangeError(`nonce lane ${lane} is not a whole number from 0 to ${SESSION_NONCE_LANES - 1}`);
  }
  return BigInt(encodeModuleEntity({ module: sessionModule, entityId: sessionId })) ^ (BigInt(lane) << LANE_SHIFT);
}

/** The lane of `nonceKey` if it is one of the session's nonce keys, else undefined. */
export function sessionNonceLane(nonceKey: bigint, sessionModule: string, sessionId: number): number | undefined {
  const difference = nonceKey ^ sessionNonceKey(sessionModule, sessionId);
  const lane = difference >> LANE_SHIFT;
  return (difference & ((1n << LANE_SHIFT) - 1n)) === 0n && lane < BigInt(SESSION_NONCE_LANES)
    ? Number(lane)
    : undefined;
}

/** The spend-limit hook's data for a user op: the unix time the op expects to run at (uint40). */
export function encodeTimeHint(timestamp: bigint): string {
  return toBeHex(timestamp, 5);
}

/** The EIP-712 domain fields present in typed data, as the session module's signature format numbers them. */
const DOMAIN_FIELD_BITS = { name: 1, version: 2, chainId: 4, verifyingContract: 8, salt: 16 } as const;

/**
 * The validation data of a signing session's ERC-1271 signature of typed data (THREATS 25): the typed data's domain
 * and struct hash, from which the module recomputes the digest and reads the verifying contract it must have been
 * granted, and the agent's signature of the account- and session-bound `SessionMessage` of that digest. Wrap it
 * with `encodeErc1271Signature` for the account.
 */
export function encodeSessionTypedDataSignature(
  typed: { domain: TypedDataDomain; types: Record<string, TypedDataField[]>; primaryType: string },
  message: Record<string, unknown>,
  agentSignature: string,
): string {
  const { domain } = typed;
  if (domain.verifyingContract === undefined || domain.verifyingContract === null) {
    throw new Error("a session signs only typed data whose domain names its verifyingContract");
  }
  let fields = DOMAIN_FIELD_BITS.verifyingContract;
  if (domain.name !== undefined && domain.name !== null) fields |= DOMAIN_FIELD_BITS.name;
  if (domain.version !== undefined && domain.version !== null) fields |= DOMAIN_FIELD_BITS.version;
  if (domain.chainId !== undefined && domain.chainId !== null) fields |= DOMAIN_FIELD_BITS.chainId;
  if (domain.salt !== undefined && domain.salt !== null) fields |= DOMAIN_FIELD_BITS.salt;
  const structHash = TypedDataEncoder.from(typed.types).hashStruct(typed.primaryType, message);
  return AbiCoder.defaultAbiCoder().encode(
    ["uint8", "bytes32", "bytes32", "uint256", "address", "bytes32", "bytes32", "bytes"],
    [
      fields,
      domain.name === undefined || domain.name === null ? ZeroHash : keccak256(toUtf8Bytes(domain.name)),
      domain.version === undefined || domain.version === null ? ZeroHash : keccak256(toUtf8Bytes(domain.version)),
      domain.chainId ?? 0n,
      getAddress(domain.verifyingContract),
      domain.salt ?? ZeroHash,
      structHash,
      agentSignature,
    ],
  );
}
