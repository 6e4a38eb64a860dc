/**
 * Typed errors for refused user operations: an agent learns *why* the EntryPoint or a bundler refused its op
 * (out of scope, over budget and by how much, expired, revoked, bad signature) instead of an opaque revert.
 *
 * `decodeUserOpRefusal(error)` takes what `EntryPoint.handleOps` (or a bundler) threw and returns one of the
 * classes below, or undefined when the error is not a refusal it knows.
 */
import { AbiCoder, dataSlice, Interface, isHexString, type ErrorDescription } from "ethers";

import {
  EntryPoint__factory,
  ModularAccount__factory,
  SessionGrantReader__factory,
  SessionKeyValidationModule__factory,
  SpendLimitHook__factory,
} from "./contracts.js";

/** Base class: the op was refused; `reason` is the EntryPoint's code (AA2x) and `revertData` the module's error. */
export class UserOpRefusedError extends Error {
  override readonly name: string = "UserOpRefusedError";
  /**
   * Whether sending the same calls again later (a new op, with a new time hint) can succeed, as far as the chain
   * shows: after a budget period resets, once the session starts, once a bundler's clock catches up. False for a
   * refusal that stays (scope, revocation, expiry, a wrong key, an amount over the whole budget) and whenever
   * `sendSessionUserOp` could not verify it (decodeUserOpRefusal alone never says true but for a session that has not
   * started).
   */
  retryable = false;
  constructor(
    message: string,
    readonly reason: string,
    readonly revertData?: string,
    readonly details?: ErrorDescription,
  ) {
    super(message);
  }
}

/** A call of the op is outside the session's scope (target, selector or per-call value). */
export class SessionOutOfScopeError extends UserOpRefusedError {
  override readonly name = "SessionOutOfScopeError";
}

/**
 * The op would spend more than a budget allows; `requested` and `remaining` are in the asset's base units.
 * `sendSessionUserOp` reads the budget: `resetsAt` is when its period ends (unix seconds, at the chain's latest
 * time), and `retryable` is true only if it refills before the session expires and `requested` fits a whole period.
 * A lifetime budget never refills.
 */
export class SpendLimitExceededError extends UserOpRefusedError {
  override readonly name = "SpendLimitExceededError";
  /** When the budget's period ends and it refills (unix seconds); undefined if not read, or never (lifetime). */
  resetsAt?: bigint;
  constructor(
    message: string,
    reason: string,
    revertData: string,
    details: ErrorDescription,
    readonly asset: string,
    readonly requested: bigint,
    readonly remaining: bigint,
  ) {
    super(message, reason, revertData, details);
  }
}

/**
 * The EntryPoint found the op outside its validity window (AA22): the session expired, or (when `retryable`) the op
 * claimed a time its bundler or the chain has not reached (a time hint in a later budget period, a bundler's clock
 * behind the chain's). `sendSessionUserOp` tells those apart from the session's window, and a session that has not
 * started yet from both ({@link SessionNotYetValidError}).
 */
export class SessionExpiredError extends UserOpRefusedError {
  override readonly name: string = "SessionExpiredError";
}

/** The session has not started: it is valid strictly after `validAfter` (unix seconds). Retryable then. */
export class SessionNotYetValidError extends UserOpRefusedError {
  override readonly name = "SessionNotYetValidError";
  override retryable = true;
  constructor(
    message: string,
    reason: string,
    /** The session is valid strictly after this time (unix seconds). */
    readonly validAfter: bigint,
  ) {
    super(message, reason);
  }
}

/** The session was revoked, or the owner pulled the kill switch. */
export class SessionRevokedError extends UserOpRefusedError {
  override readonly name = "SessionRevokedError";
}

/** The op's signature does not match the session's key (AA24). */
export class SessionSignatureError extends UserOpRefusedError {
  override readonly name = "SessionSignatureError";
}

/**
 * Another op took this op's nonce first, and was mined (two clients on one session key and one nonce lane, an op
 * sent twice with different contents, or a retry pinned to the nonce of an op whose outcome was unknown): this op
 * was not included and never will be under that nonce. Budgets were charged for the op that won only. Check what
 * `winnerUserOpHash` did before sending the intent again: if the winner carried the same intent (an earlier try of
 * it), it is done.
 */
export class NonceConflictError extends UserOpRefusedError {
  override readonly name = "NonceConflictError";
  constructor(
    readonly sender: string,
    readonly nonce: bigint,
    /** This (losing) op's hash. */
    readonly userOpHash: string,
    readonly refusal: UserOpRefusedError,
    /** The hash of the op included at this nonce, when the chain shows it. */
    readonly winnerUserOpHash?: string,
  ) {
    super(
      `nonce ${nonce & ((1n << 64n) - 1n)} of key 0x${(nonce >> 64n).toString(16)} of ${sender} was taken by ` +
        (winnerUserOpHash === undefined ? "another op" : `op ${winnerUserOpHash}, included`) +
        `: op ${userOpHash} was not included (${refusal.reason}). If that op was an earlier try of the same ` +
        "intent, the intent is done; else send it again (a new op, under a fresh nonce)",
      refusal.reason,
      refusal.revertData,
      refusal.details,
    );
  }
}

/**
 * An op was sent, and what became of it could not be read (the node or the bundler stopped answering for good, or
 * an answer could not be read): it may be included, now or later. Look it up by `userOpHash`
 * (`eth_getUserOperationReceipt`, or the EntryPoint's `UserOperationEvent`) before sending the intent again, or send
 * the intent again under the same nonce (`nonce`, the session handle's same lane): then at most one of the two is
 * included.
 */
export class UserOpOutcomeUnknownError extends Error {
  override readonly name: string = "UserOpOutcomeUnknownError";
  constructor(
    readonly userOpHash: string,
    /** The service that was asked, e.g. "bundler http://127.0.0.1:4337". */
    readonly service: string,
    /** The op's sender and nonce, when the waiter had the op. */
    readonly sender?: string,
    readonly nonce?: bigint,
    cause?: unknown,
    message?: string,
  ) {
    super(
      message ??
        `op ${userOpHash} was sent but its outcome could not be read (${service}: ${describeCause(cause)}); it may ` +
          "still be included: look it up by this hash before sending the same intent again",
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * A sent op was not seen included within the time allowed. It may still be: look it up by `userOpHash`
 * (`eth_getUserOperationReceipt`, or the EntryPoint's `UserOperationEvent`) before sending the intent again, or it
 * may be paid twice.
 */
export class UserOpTimeoutError extends UserOpOutcomeUnknownError {
  override readonly name = "UserOpTimeoutError";
  constructor(
    userOpHash: string,
    readonly timeoutMs: number,
    service: string,
    sender?: string,
    nonce?: bigint,
    /** The bundler's last refusal of the op sent again, when it had accepted it before (it may still hold it). */
    readonly lastRefusal?: UserOpRefusedError,
  ) {
    super(
      userOpHash,
      service,
      sender,
      nonce,
      lastRefusal,
      `op ${userOpHash} was sent but not seen included within ${timeoutMs} ms (${service}` +
        (lastRefusal === undefined ? "" : `, which last refused it sent again: ${lastRefusal.reason}`) +
        "); it may still be included: look it up by this hash before sending the same intent again. If it never " +
        "is, check that the bundler runs and its executor account has funds",
    );
  }
}

function describeCause(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  return text.split("\n")[0]!.slice(0, 200);
}

/**
 * A bundler or paymaster service answered gas limits or fees over the agent's caps ({@link GasCaps} in
 * client/bundler.ts), so the agent signed nothing (THREATS 32): a service that inflates `preVerificationGas` or a
 * limit would otherwise turn the session's native budget into fees for whoever bundles the op.
 */
export class GasCapExceededError extends Error {
  override readonly name = "GasCapExceededError";
  constructor(
    /** The service that answered, e.g. "bundler http://127.0.0.1:4337". */
    readonly service: string,
    /** The op field or figure over its cap (`preVerificationGas`, `maxCost`, `nativeBudget`, ...). */
    readonly field: string,
    readonly requested: bigint,
    readonly cap: bigint,
    hint: string,
  ) {
    super(`the ${service} asked for ${field} ${requested}, more than the cap of ${cap}: nothing was signed (${hint})`);
  }
}

const entryPointInterface = EntryPoint__factory.createInterface();
const moduleInterfaces: Interface[] = [
  SessionKeyValidationModule__factory.createInterface(),
  // A signed grant the module's reader refuses (a function text, rule, period or amount that misreads).
  SessionGrantReader__factory.createInterface(),
  SpendLimitHook__factory.createInterface(),
  ModularAccount__factory.createInterface(),
];

/**
 * Walks what ethers or a JSON-RPC provider threw (the error and its nested `error`, `info`, `cause`, `data`) and
 * returns the first value `pick` finds in one of those objects.
 */
function findInError<T>(error: unknown, pick: (record: Record<string, unknown>) => T | undefined): T | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const item = queue.shift();
    if (item === null || typeof item !== "object" || seen.has(item)) continue;
    seen.add(item);
    const record = item as Record<string, unknown>;
    const found = pick(record);
    if (found !== undefined) return found;
    for (const key of ["error", "info", "cause", "data"]) queue.push(record[key]);
  }
  return undefined;
}

/** Finds revert data (0x…) in what ethers or a JSON-RPC provider threw. */
function revertDataOf(error: unknown): string | undefined {
  return findInError(error, ({ data }) =>
    typeof data === "string" && isHexString(data) && data.length >= 10 ? data : undefined,
  );
}

/**
 * The shapes in which ERC-6900 accounts wrap a module's revert (Alchemy MAv2 and the reference account declare
 * errors such as `PreUserOpValidationHookReverted(bytes24 moduleFunction, bytes revertReason)` and
 * `ModuleInstallCallbackFailed(address module, bytes revertReason)` in their own libraries, whose names a client
 * cannot know for every account): the reason is the last argument.
 */
const MODULE_ERROR_WRAPPERS: readonly string[][] = [
  ["bytes24", "bytes"],
  ["address", "bytes"],
  // The reference v0.8.0-rc.6: `RuntimeValidationFunctionReverted(address module, uint32 entityId, bytes reason)`,
  // `PreExecHookReverted(address, uint32, bytes)`, ….
  ["address", "uint32", "bytes"],
];

/** The module's revert inside an account's wrapper error, if `data` is exactly one of the shapes above. */
function unwrapModuleRevert(data: string): string | undefined {
  const coder = AbiCoder.defaultAbiCoder();
  for (const types of MODULE_ERROR_WRAPPERS) {
    try {
      const args = coder.decode(types, dataSlice(data, 4));
      // Only an exact encoding counts: arbitrary data rarely re-encodes to itself.
      if (coder.encode(types, args) !== dataSlice(data, 4)) continue;
      const reason = args[types.length - 1] as string;
      if (reason.length >= 10) return reason;
    } catch {
      // not this shape
    }
  }
  return undefined;
}

/**
 * Whether `error` is a revert (the call ran and reverted), as opposed to a node or network failure: revert data is
 * present (even empty), or the error says so (ethers' CALL_EXCEPTION, JSON-RPC error code 3).
 */
export function isRevert(error: unknown): boolean {
  return (
    findInError(error, ({ code, data }) =>
      // ethers' CALL_EXCEPTION; JSON-RPC's "execution reverted" (code 3), whose data may be an empty "0x".
      code === "CALL_EXCEPTION" || code === 3 || (typeof data === "string" && isHexString(data)) ? true : undefined,
    ) === true
  );
}

/** The innermost error of Leash's contracts in `data`, through the accounts' wrappers (at most 4 deep). */
function parseModuleError(data: string, depth = 0): ErrorDescription | undefined {
  const wrapped = depth < 4 ? unwrapModuleRevert(data) : undefined;
  if (wrapped !== undefined) {
    const inner = parseModuleError(wrapped, depth + 1);
    if (inner !== undefined) return inner;
  }
  for (const iface of moduleInterfaces) {
    const parsed = iface.parseError(data);
    if (parsed !== null) return parsed;
  }
  return undefined;
}

/**
 * A short description of why a call reverted, for messages: the error's name and arguments when Leash's contracts
 * or the account declare it (`SessionTargetForbidden(0x…)`), else its raw revert data, else the provider's message.
 */
export function describeRevert(error: unknown): string {
  const data = revertDataOf(error);
  if (data !== undefined) {
    const parsed = parseModuleError(data);
    return parsed === undefined ? `revert data ${data}` : `${parsed.name}(${parsed.args.join(", ")})`;
  }
  const short = findInError(error, ({ shortMessage }) => (typeof shortMessage === "string" ? shortMessage : undefined));
  return short ?? (error instanceof Error ? error.message : String(error));
}

/** The EntryPoint's refusal code ("AA23 reverted") and the validation's own revert data, if any. */
interface Refusal {
  reason: string;
  inner?: string;
  /** The bundler refused the op for its validity window (ERC-7769 code -32503) before it reached the EntryPoint. */
  outOfTimeRange?: boolean;
}

/** A refusal `handleOps` threw: the EntryPoint's FailedOp / FailedOpWithRevert error. */
function entryPointRefusalOf(error: unknown): Refusal | undefined {
  const data = revertDataOf(error);
  if (data === undefined) return undefined;
  const outer = entryPointInterface.parseError(data);
  if (outer === null) return undefined;
  if (outer.name === "FailedOp") return { reason: String(outer.args[1]) };
  if (outer.name === "FailedOpWithRevert") return { reason: String(outer.args[1]), inner: String(outer.args[2]) };
  return undefined;
}

/** A bundler's message for a refused op: "… reason: AA23 reverted 0x<revert data>" or "… AA24 signature error". */
const BUNDLER_REFUSAL = /\b(AA\d\d [^"\n]*?)(?: (0x[0-9a-fA-F]*))?(?=$|["\n])/;

/** ERC-7769's error code for an op outside its validity window (or expiring too soon) by the bundler's clock. */
const BUNDLER_OUT_OF_TIME_RANGE = -32503;

/** A refusal a bundler answered over JSON-RPC (ERC-7769 error codes -32500 / -32507 …, message as above). */
function bundlerRefusalOf(error: unknown): Refusal | undefined {
  return findInError(error, ({ code, message }): Refusal | undefined => {
    if (typeof code !== "number" || typeof message !== "string") return undefined;
    if (code === BUNDLER_OUT_OF_TIME_RANGE) return { reason: message, outOfTimeRange: true };
    const match = BUNDLER_REFUSAL.exec(message);
    if (match === null) return undefined;
    const inner = match[2];
    return { reason: match[1]!.trim(), inner: inner !== undefined && inner.length >= 10 ? inner : undefined };
  });
}

/**
 * Turns a refusal thrown by `handleOps` or answered by a bundler into a typed error; undefined if it is not one.
 */
export function decodeUserOpRefusal(error: unknown): UserOpRefusedError | undefined {
  const refusal = entryPointRefusalOf(error) ?? bundlerRefusalOf(error);
  if (refusal === undefined) return undefined;
  const { reason, inner } = refusal;
  if (inner === undefined) {
    if (reason.startsWith("AA22") || refusal.outOfTimeRange === true) {
      return new SessionExpiredError(
        `${reason}: the op is outside its validity window. This could arise when the session expired or has not ` +
          "started, when the op's time hint claims a budget period that has not begun, or when a bundler's clock " +
          "is behind the chain's.",
        reason,
      );
    }
    if (reason.startsWith("AA24")) {
      return new SessionSignatureError(
        `${reason}: the signature is not the session key's. Check the key, the nonce and the EntryPoint.`,
        reason,
      );
    }
    return new UserOpRefusedError(`the EntryPoint refused the op: ${reason}`, reason);
  }
  const parsed = parseModuleError(inner);
  if (parsed === undefined) {
    return new UserOpRefusedError(`the account refused the op (${reason}) with revert data ${inner}`, reason, inner);
  }
  switch (parsed.name) {
    case "SessionCallOutOfScope":
      return new SessionOutOfScopeError(
        `call to ${String(parsed.args[0])} with selector ${String(parsed.args[1])} is outside the session's scope`,
        reason,
        inner,
        parsed,
      );
    case "SessionArgumentRuleViolated":
      return new SessionOutOfScopeError(
        `call to ${String(parsed.args[0])} with selector ${String(parsed.args[1])} breaks the owner's rule on its ` +
          `argument ${String(parsed.args[2])} (a pinned recipient or an amount bound): change the argument`,
        reason,
        inner,
        parsed,
      );
    case "SessionValueOverCap":
      return new SessionOutOfScopeError(
        `call to ${String(parsed.args[0])} carries ${String(parsed.args[1])} wei, over the per-call cap of ` +
          `${String(parsed.args[2])}`,
        reason,
        inner,
        parsed,
      );
    case "SpendLimitExceeded": {
      const [, , asset, requested, remaining] = parsed.args as unknown as [string, bigint, string, bigint, bigint];
      return new SpendLimitExceededError(
        `over budget: the op needs ${requested} of asset ${asset} but only ${remaining} remains this period ` +
          `(${requested - remaining} too much); gas is counted for the native asset`,
        reason,
        inner,
        parsed,
        asset,
        requested,
        remaining,
      );
    }
    case "SpendLimitTokenCallRefused":
      return new SessionOutOfScopeError(
        `call to the budgeted token ${String(parsed.args[0])} with selector ${String(parsed.args[1])} is refused: ` +
          "the token has a budget, and the spend-limit hook allows no such call on it",
        reason,
        inner,
        parsed,
      );
    case "SpendLimitForbiddenCall":
      return new SessionOutOfScopeError(
        `call to ${String(parsed.args[0])} is refused: it is an ERC-6900 module or an EntryPoint, which no session ` +
          "may call",
        reason,
        inner,
        parsed,
      );
    case "SessionRevokedError":
    case "SessionKilled":
      return new SessionRevokedError(
        parsed.name === "SessionKilled"
          ? "the owner pulled the kill switch: every session granted before it is revoked"
          : "the owner revoked this session",
        reason,
        inner,
        parsed,
      );
    default:
      return new UserOpRefusedError(`the account refused the op: ${parsed.name}`, reason, inner, parsed);
  }
}
