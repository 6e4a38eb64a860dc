/**
 * Sessions: the plain description integrators and the tasks work with, and everything derived from it — the
 * install call (grant by transaction), the EIP-712 `SessionGrant` / revocation typed data the owner signs (nested
 * the ERC-7739 way so the account's owner validation accepts it and a Ledger still shows every field), and the
 * agent-side nonce key.
 */
import {
  AbiCoder,
  concat,
  getAddress,
  keccak256,
  toBeHex,
  toUtf8Bytes,
  TypedDataEncoder,
  ZeroHash,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

import { SessionKeyValidationModule__factory } from "../typechain-types/index.js";
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

/** The EIP-712 type of a SessionGrant (flat fields, readable on a Ledger). */
export const SESSION_GRANT_TYPES: Record<string, TypedDataField[]> = {
  SessionGrant: [
    { name: "account", type: "address" },
    { name: "sessionId", type: "uint32" },
    { name: "agent", type: "address" },
    { name: "validAfter", type: "uint48" },
    { name: "validUntil", type: "uint48" },
    { name: "valueCapPerCall", type: "uint128" },
    { name: "canSignMessages", type: "bool" },
    { name: "targets", type: "address[]" },
    { name: "selectors", type: "bytes4[]" },
    { name: "argumentRules", type: "uint256[]" },
    { name: "budgetAssets", type: "address[]" },
    { name: "budgetLimits", type: "uint256[]" },
    { name: "budgetPeriods", type: "uint48[]" },
    { name: "budgetPerCallCaps", type: "uint256[]" },
    { name: "paymasters", type: "address[]" },
    { name: "epoch", type: "uint32" },
    { name: "nonce", type: "uint256" },
  ],
};

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

/** The session module's EIP-712 domain. */
export function sessionModuleDomain(addresses: LeashAddresses): TypedDataDomain {
  return {
    name: "Leash Session Keys",
    version: "1",
    chainId: addresses.chainId,
    verifyingContract: addresses.sessionModule,
  };
}

/** The `SessionGrant` message (the struct the contract hashes) of a description. */
export function sessionGrantMessage(session: SessionDescription) {
  return {
    account: getAddress(session.account),
    sessionId: session.sessionId,
    agent: getAddress(session.agent),
    validAfter: session.validAfter,
    validUntil: session.validUntil,
    valueCapPerCall: session.valueCapPerCall,
    canSignMessages: session.canSignMessages,
    targets: session.scope.map((entry) => getAddress(entry.target)),
    selectors: session.scope.map((entry) => entry.selector),
    argumentRules: encodeArgumentRules(session.scope),
    budgetAssets: session.budgets.map((budget) => getAddress(budget.asset)),
    budgetLimits: session.budgets.map((budget) => budget.limit),
    budgetPeriods: session.budgets.map((budget) => budget.period),
    budgetPerCallCaps: session.budgets.map((budget) => budget.perCallCap),
    paymasters: session.paymasters.map((paymaster) => getAddress(paymaster)),
    epoch: session.epoch,
    nonce: session.nonce,
  };
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
  const contentsDescr = toUtf8Bytes(encoder.encodeType(app.primaryType));
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

/** The user op nonce key a session must use: its ModuleEntity (module ‖ session id) as a uint192. */
export function sessionNonceKey(sessionModule: string, sessionId: number): bigint {
  return BigInt(encodeModuleEntity({ module: sessionModule, entityId: sessionId }));
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
