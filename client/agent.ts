/**
 * The agent's ops: {@link sendSessionUserOp} turns calls into an `execute` / `executeBatch` op that selects the
 * session, adds the spend-limit time hint, signs it with the session key and sends it to a bundler or straight to
 * `EntryPoint.handleOps`. A refused op throws the typed errors of client/errors.ts. The key itself: client/agentKey.ts.
 *
 * The agent's first op may carry the owner-signed grant of its session (a deferred install). Anyone may submit that
 * grant first (THREATS 33); the op carrying it is then refused. {@link sendSessionUserOp} recovers by itself: it
 * checks on chain that the session is installed exactly as the grant says, sends the op again without the grant
 * under the same EntryPoint nonce (so at most one of the two can ever execute), and reports it in `grant`.
 */
import {
  concat,
  dataLength,
  dataSlice,
  getAddress,
  toBeHex,
  ZeroAddress,
  type Provider,
  type Signer,
  type SigningKey,
} from "ethers";

import { ModularAccount__factory, SessionKeyValidationModule__factory, SpendLimitHook__factory } from "./contracts.js";
import { type EntryPoint } from "./contracts.js";
import {
  NonceConflictError,
  SessionExpiredError,
  SessionNotYetValidError,
  SessionOutOfScopeError,
  SessionRevokedError,
  SpendLimitExceededError,
  UserOpRefusedError,
} from "./errors.js";
import { sendUserOpDirect } from "./actions.js";
import { bundlerTimeHint, fillGasAndSign, sendAndWaitForUserOp, type BundlerClient, type GasCaps } from "./bundler.js";
import { encodeModuleEntity, type ValidationSelection } from "./encoding.js";
import {
  encodeArgumentRules,
  encodeDeferredGrant,
  encodeTimeHint,
  groupScope,
  SELECTOR_ANY,
  SELECTOR_NO_CALLDATA,
  SELECTOR_SIGN,
  sessionGrantMessage,
  sessionNonceKey,
  type SessionDescription,
} from "./session.js";
import { buildUserOp, packUserOp, signUserOp, type UserOpGas } from "./userOp.js";

/** One call the agent wants the account to make. */
export interface SessionCall {
  target: string;
  value: bigint;
  data: string;
}

/** The session an agent acts under. */
export interface AgentSession {
  entryPoint: EntryPoint;
  account: string;
  sessionModule: string;
  sessionId: number;
  signingKey: SigningKey;
}

/** Where the op goes: a bundler, or `handleOps` sent by `submitter` (which pays the gas and is refunded). */
export type SendVia = { bundler: BundlerClient } | { submitter: Signer };

/** What {@link sendSessionUserOp} needs. */
export interface SendSessionUserOpParameters {
  session: AgentSession;
  /** One call becomes `execute`, several become one `executeBatch`. */
  calls: SessionCall[];
  /**
   * Gas limits and fees. Through a bundler these limits only need to let validation run: the bundler's estimate
   * replaces them. The session's native budget is charged the op's maximum gas cost (limits × maxFeePerGas).
   */
  gas: UserOpGas;
  via: SendVia;
  /**
   * The time the op claims for the spend-limit hook (its budget period). Default: the latest block's time, kept
   * within the local clock when a bundler is used ({@link bundlerTimeHint}).
   */
  timeHint?: bigint;
  /**
   * The most the agent signs for when a bundler fills the gas (default DEFAULT_GAS_CAPS). The op's maximum gas cost
   * must also fit the session's remaining native budget after the calls' values, read from the chain.
   */
  caps?: GasCaps;
  /**
   * The owner-signed grant of this session, to install it inside this op (the agent's first op). If someone
   * submitted the grant first, the op is sent again without it, once the installed session is checked against it
   * (see {@link DeferredGrantOutcome}); a session installed otherwise throws {@link GrantConflictError}.
   */
  deferredGrant?: DeferredGrant;
  /**
   * The session's nonce lane (0 to 65,535, default 0; see `sessionNonceKey`). Ops in different lanes are
   * independent nonce sequences, so they can be in flight at once; ops in one lane are included in order.
   */
  lane?: number;
  /**
   * Pins the op's EntryPoint nonce (default: the lane's next nonce, read from the chain); its key must be the lane's,
   * `sessionNonceKey(sessionModule, sessionId, lane)`. To send an intent again after `UserOpOutcomeUnknownError`
   * (a timeout), pass that error's `nonce` (and its lane): at most one of the two ops can then be included.
   */
  nonce?: bigint;
  /**
   * Through a bundler: how long to wait for the op's inclusion (default 60 s) before {@link UserOpTimeoutError},
   * which carries the op's hash to look it up later.
   */
  timeoutMs?: number;
  /**
   * Through a bundler: send the same signed op again after it has been unknown to the bundler and the chain this
   * long (default 4 s).
   */
  resubmitAfterMs?: number;
  /** Through a bundler: called when the same signed op is sent again (the bundler had lost it). */
  onResubmit?: (userOpHash: string, reason: string) => void;
}

/** An owner-signed grant carried by the agent's op (as `session grant --signature-only` writes it). */
export interface DeferredGrant {
  /** What the owner signed; its account and session id must be the op's session's. */
  session: SessionDescription;
  /** The owner's signature of the grant, in the account's ERC-1271 format. */
  ownerSignature: string;
  /**
   * The block to search the session module's `SessionGranted` events from, when checking a grant someone else
   * submitted (default 0; set it to the block the grant was signed at on chains whose RPC limits log ranges).
   */
  fromBlock?: number;
}

/** What happened to the grant an op carried. */
export type DeferredGrantOutcome =
  /** The op installed its session itself. */
  | { status: "installed-by-this-op" }
  /**
   * Someone submitted the same grant first (THREATS 33): the op carrying it was refused, the session was found
   * installed exactly as the grant says, and the op was sent again without it. `refusal` is the first refusal.
   */
  | { status: "already-submitted"; message: string; refusal: unknown };

/** The outcome of an op that passed validation. */
export interface SendSessionUserOpReturnType {
  /** Whether its execution succeeded. */
  success: boolean;
  /** The execution's revert data when it did not (handleOps only; a bundler's receipt gives `reason`). */
  revertData?: string;
  transactionHash: string;
  /** The op's hash (the EntryPoint's `getUserOpHash`): its `UserOperationEvent` on chain carries it. */
  userOpHash: string;
  /** Set when the op was asked to carry a grant: whether it installed it or found it already submitted. */
  grant?: DeferredGrantOutcome;
}

/**
 * The op carrying a grant was refused, the grant's nonce is spent, but the session installed on the account is not
 * the grant the agent carries (another grant used the nonce, or the session was revoked or changed since). Nothing
 * was sent again: the agent must not act under a session it was not given. Ask the owner which grant is current.
 */
export class GrantConflictError extends Error {
  override readonly name = "GrantConflictError";
  constructor(
    readonly account: string,
    readonly sessionId: number,
    /** The fields that differ, e.g. `validUntil (grant 1700000000, installed 1690000000)`. */
    readonly differences: string[],
    /** The refusal of the op that carried the grant. */
    readonly refusal: unknown,
  ) {
    super(
      `the grant for session ${sessionId} of account ${account} was already used, but the installed session is not ` +
        `that grant (${differences.join("; ")}): nothing was sent again; ask the owner which grant is current`,
    );
  }
}

const accountInterface = ModularAccount__factory.createInterface();

/**
 * The user op calldata for the calls: `execute` for one, `executeBatch` for several, behind the `executeUserOp`
 * selector, so the account runs the session's execution hooks (the spend-limit hook measures what leaves it).
 */
export function encodeSessionCalls(calls: SessionCall[]): string {
  if (calls.length === 0) throw new Error("an op needs at least one call");
  const [only] = calls;
  const execution =
    calls.length === 1 && only !== undefined
      ? accountInterface.encodeFunctionData("execute", [only.target, only.value, only.data])
      : accountInterface.encodeFunctionData("executeBatch", [calls]);
  return withExecuteUserOp(execution);
}

/** `execute` / `executeBatch` calldata behind the four-byte `executeUserOp` selector (unchanged if already). */
export function withExecuteUserOp(callData: string): string {
  const selector = accountInterface.getFunction("executeUserOp").selector;
  return callData.startsWith(selector) ? callData : concat([selector, callData]);
}

/**
 * What the op's gas may cost the account: the session's remaining native budget less the calls' values, or
 * undefined for a session without a spend-limit hook (nothing to bound it by). Read now from the chain.
 */
async function nativeGasBudget(session: AgentSession, provider: Provider, values: bigint): Promise<bigint | undefined> {
  const module = SessionKeyValidationModule__factory.connect(session.sessionModule, provider);
  const hookAddress = await module.SPEND_LIMIT_HOOK();
  if (hookAddress === ZeroAddress) return undefined;
  const hook = SpendLimitHook__factory.connect(hookAddress, provider);
  const [remaining] = await hook.remainingBudget(session.account, session.sessionId, await hook.NATIVE());
  return remaining > values ? remaining - values : 0n;
}

async function latestBlockTime(provider: Provider): Promise<bigint> {
  const block = await provider.getBlock("latest");
  if (block === null) throw new Error("the node returned no latest block: check the RPC URL");
  return BigInt(block.timestamp);
}

/**
 * Builds, signs and sends the agent's op for `calls` under its session. Throws the typed refusal
 * (SessionOutOfScopeError, SpendLimitExceededError, SessionExpiredError, SessionRevokedError, SessionSignatureError)
 * when the EntryPoint or the bundler refuses it. With a `deferredGrant`, an op refused because the grant was
 * submitted first is sent again without it (reported in `grant`), or throws {@link GrantConflictError} if the
 * installed session is not that grant.
 */
export async function sendSessionUserOp(parameters: SendSessionUserOpParameters): Promise<SendSessionUserOpReturnType> {
  const provider = parameters.session.entryPoint.runner?.provider;
  if (provider === null || provider === undefined) throw new Error("the EntryPoint contract needs a provider");
  try {
    return await sendRecoveringGrant(parameters, provider);
  } catch (error) {
    throw await explainRefusal(error, parameters.session, provider, parameters.deferredGrant);
  }
}

/**
 * Completes a refusal with what the chain says about it, claiming `retryable` only where it verified it:
 * - a session revoked or killed on chain: {@link SessionRevokedError}, whatever check refused the op first;
 * - an exceeded budget: when it refills (`resetsAt`), retryable if that is before the session expires and the
 *   amount asked fits a whole period (a lifetime budget never refills);
 * - an op outside its validity window: {@link SessionNotYetValidError} for a session that has not started (the
 *   installed session's start, or the start of the grant the op carried), not retryable once it expired, retryable
 *   while its window is open (the op claimed a time its bundler had not reached).
 * Anything else, or a read that fails, is returned as it was (not retryable).
 */
async function explainRefusal(
  error: unknown,
  session: AgentSession,
  provider: Provider,
  grant: DeferredGrant | undefined,
): Promise<unknown> {
  if (!(error instanceof UserOpRefusedError) || error instanceof SessionRevokedError) return error;
  if (error instanceof NonceConflictError) return error;
  const module = SessionKeyValidationModule__factory.connect(session.sessionModule, provider);
  try {
    const [record, now, epoch] = await Promise.all([
      module.getSession(session.account, session.sessionId),
      latestBlockTime(provider),
      module.epochOf(session.account),
    ]);
    const installed = record.agent !== ZeroAddress;
    // A revoked or killed session refuses every op for good, whatever check refused this one first (the hook checks
    // its budgets before the module checks the session): say so, not "over budget, retry after the reset".
    if (installed && (record.revoked || record.grantEpoch !== epoch)) {
      return new SessionRevokedError(
        `session ${session.sessionId} was ${record.revoked ? "revoked by its owner" : "ended by the owner's kill switch"}` +
          ` (the op was refused: ${error.message}); it accepts no more ops: ask the owner for a new grant`,
        error.reason,
        error.revertData,
        error.details,
      );
    }
    if (!(error instanceof SpendLimitExceededError) && !(error instanceof SessionExpiredError)) return error;
    const window = installed
      ? { validAfter: record.validAfter, validUntil: record.validUntil }
      : grant === undefined
        ? undefined
        : { validAfter: grant.session.validAfter, validUntil: grant.session.validUntil };
    if (error instanceof SpendLimitExceededError) {
      if (!installed || window === undefined) return error;
      const hook = SpendLimitHook__factory.connect(await module.SPEND_LIMIT_HOOK(), provider);
      const [[limit, , , periodLength], [, periodEnd]] = await Promise.all([
        hook.getBudget(session.account, session.sessionId, error.asset),
        hook.remainingBudget(session.account, session.sessionId, error.asset),
      ]);
      if (limit === 0n || periodLength === 0n) return error; // no such budget, or a lifetime one
      error.resetsAt = periodEnd;
      error.retryable = error.requested <= limit && periodEnd <= window.validUntil;
      return error;
    }
    if (window === undefined) return error;
    if (now <= window.validAfter) {
      return new SessionNotYetValidError(
        `session ${session.sessionId} is not valid yet: it starts after ${new Date(Number(window.validAfter) * 1000).toISOString()} ` +
          `(chain time ${new Date(Number(now) * 1000).toISOString()}); send the calls again then`,
        error.reason,
        window.validAfter,
      );
    }
    error.retryable = now <= window.validUntil;
  } catch {
    // The refusal stands as decoded.
  }
  return error;
}

/**
 * Whether a bundler's refusal of an op sent again rules out, on chain, the same op it may still hold: the op's grant
 * (if it carries one) was used by another op, the session is revoked or killed (for good), or the op's budget is
 * spent on chain for the period it is valid in (the hook bounds an op's validity to the period of its time hint).
 * Anything else (a bundler's time margin, its fee floor) is no proof: the held op may still be included. The caller
 * settles the op once more before the refusal stands (the held op itself may be what used the grant or the budget).
 */
async function refusalRulesOutHeldOp(
  refusal: UserOpRefusedError,
  session: AgentSession,
  provider: Provider,
  grant: DeferredGrant | undefined,
): Promise<boolean> {
  if (refusal instanceof SessionRevokedError) return true;
  const module = SessionKeyValidationModule__factory.connect(session.sessionModule, provider);
  if (grant !== undefined && (await module.isNonceUsed(session.account, grant.session.nonce))) return true;
  const [record, epoch] = await Promise.all([
    module.getSession(session.account, session.sessionId),
    module.epochOf(session.account),
  ]);
  // Not installed (the op carries its grant, not used yet): nothing on chain rules the held op out.
  if (record.agent === ZeroAddress) return false;
  if (record.revoked || record.grantEpoch !== epoch) return true;
  if (!(refusal instanceof SpendLimitExceededError)) return false;
  const hook = SpendLimitHook__factory.connect(await module.SPEND_LIMIT_HOOK(), provider);
  const [remaining] = await hook.remainingBudget(session.account, session.sessionId, refusal.asset);
  return remaining < refusal.requested;
}

async function sendRecoveringGrant(
  parameters: SendSessionUserOpParameters,
  provider: Provider,
): Promise<SendSessionUserOpReturnType> {
  const { session, deferredGrant } = parameters;
  if (deferredGrant === undefined) return sendOnce(parameters, provider, { nonce: parameters.nonce });
  assertGrantIsForSession(deferredGrant, session);
  const nonce =
    parameters.nonce ??
    (await session.entryPoint.getNonce(
      session.account,
      sessionNonceKey(session.sessionModule, session.sessionId, parameters.lane),
    ));
  try {
    const result = await sendOnce(parameters, provider, { grant: deferredGrant, nonce });
    return { ...result, grant: { status: "installed-by-this-op" } };
  } catch (refusal) {
    await assertGrantAlreadySubmitted(parameters, provider, nonce, refusal);
    const result = await sendOnce(parameters, provider, { nonce });
    const message =
      `the grant for session ${session.sessionId} was already submitted by someone else; the session is installed ` +
      "as granted, and the op was sent again without the grant";
    return { ...result, grant: { status: "already-submitted", message, refusal } };
  }
}

/** Builds, signs and sends one op; `options.nonce` pins its EntryPoint nonce, `options.grant` adds the grant. */
async function sendOnce(
  parameters: SendSessionUserOpParameters,
  provider: Provider,
  options: { grant?: DeferredGrant; nonce?: bigint } = {},
): Promise<SendSessionUserOpReturnType> {
  const { session, via } = parameters;
  const { entryPoint } = session;
  const nonceKey = sessionNonceKey(session.sessionModule, session.sessionId, parameters.lane);
  if (options.nonce !== undefined && options.nonce >> 64n !== nonceKey) {
    throw new RangeError(
      `nonce ${toBeHex(options.nonce)} is not in lane ${parameters.lane ?? 0} of session ${session.sessionId}: ` +
        "pass the lane the nonce was taken in (UserOpOutcomeUnknownError carries both)",
    );
  }
  // A grant this op installs is not on chain yet: the chain checks its scope.
  if (options.grant === undefined) await assertCallsInScope(session, provider, parameters.calls);
  const built = await buildUserOp({
    entryPoint,
    sender: session.account,
    callData: encodeSessionCalls(parameters.calls),
    nonceKey,
    gas: parameters.gas,
  });
  const unsigned = options.nonce === undefined ? built : { ...built, nonce: options.nonce };
  const latest = await latestBlockTime(provider);
  const time = parameters.timeHint ?? ("bundler" in via ? bundlerTimeHint(latest) : latest);
  const { grant } = options;
  const selection: ValidationSelection = {
    validation: { module: session.sessionModule, entityId: session.sessionId },
    isGlobal: false,
    hookData: [encodeTimeHint(time)],
    deferredInstall:
      grant === undefined
        ? undefined
        : { installer: session.sessionModule, data: encodeDeferredGrant(grant.session, grant.ownerSignature) },
  };
  if ("bundler" in via) {
    const values = parameters.calls.reduce((sum, call) => sum + call.value, 0n);
    // Before the grant is installed the session has no budget to read: the grant's own native budget bounds the gas.
    const nativeBudget =
      grant === undefined ? await nativeGasBudget(session, provider, values) : grantNativeBudget(grant, values);
    const op = await fillGasAndSign({
      client: via.bundler,
      entryPoint,
      op: unsigned,
      signingKey: session.signingKey,
      selection,
      caps: parameters.caps,
      nativeBudget,
    });
    // Sent and waited for by its hash: the same signed op is sent again if the bundler loses it, never a new one.
    const userOpHash = await entryPoint.getUserOpHash(packUserOp({ ...op, signature: "0x" }));
    const receipt = await sendAndWaitForUserOp({
      client: via.bundler,
      provider,
      op,
      userOpHash,
      timeoutMs: parameters.timeoutMs,
      resubmitAfterMs: parameters.resubmitAfterMs,
      onResubmit: parameters.onResubmit,
      refusalStands: (refusal) => refusalRulesOutHeldOp(refusal, session, provider, options.grant),
    });
    return {
      success: receipt.success,
      revertData: receipt.reason,
      transactionHash: receipt.transactionHash,
      userOpHash,
    };
  }
  const { op, hash } = await signUserOp({ entryPoint, op: unsigned, signingKey: session.signingKey, selection });
  const result = await sendUserOpDirect({ entryPoint, submitter: via.submitter, op });
  return {
    success: result.success,
    revertData: result.revertData,
    transactionHash: result.receipt.hash,
    userOpHash: hash,
  };
}

/**
 * Refuses, before anything is signed, a call the installed session does not allow by its target, function or value:
 * the module's own answers (`isInScope`, `isValueMovingSelector`, `getSession`) in the order its validation asks
 * them after it checked the session is live, so that a call out of scope is reported as such even when it would
 * also be over a budget (the spend-limit hook, which checks budgets, runs first on chain). Argument rules are left to
 * the chain (a call breaking one and over a budget is still reported over budget). Does nothing for a session that is
 * not installed, revoked or killed (the chain then says why).
 */
async function assertCallsInScope(session: AgentSession, provider: Provider, calls: SessionCall[]): Promise<void> {
  const module = SessionKeyValidationModule__factory.connect(session.sessionModule, provider);
  const [record, epoch] = await Promise.all([
    module.getSession(session.account, session.sessionId),
    module.epochOf(session.account),
  ]);
  // The chain asks whether the session is live before its scope: a revoked or killed one is refused as such.
  if (record.agent === ZeroAddress || record.revoked || record.grantEpoch !== epoch) return;
  const allows = (target: string, selector: string) =>
    module.isInScope(session.account, session.sessionId, target, selector);
  for (const call of calls) {
    const length = dataLength(call.data);
    const selector = length >= 4 ? dataSlice(call.data, 0, 4) : SELECTOR_NO_CALLDATA;
    const refuse = (why: string) =>
      new SessionOutOfScopeError(
        `call to ${call.target} with selector ${selector} is outside the session's scope (${why}); nothing was signed`,
        "checked before signing",
      );
    if (call.value > record.valueCapPerCall) {
      throw refuse(`it carries ${call.value} wei, over the per-call cap of ${record.valueCapPerCall}`);
    }
    if (length === 0 && (await allows(call.target, SELECTOR_NO_CALLDATA))) continue;
    const pseudo = [SELECTOR_NO_CALLDATA, SELECTOR_ANY, SELECTOR_SIGN].includes(selector);
    if (length >= 4 && !pseudo) {
      if (await allows(call.target, selector)) continue;
      if (await module.isValueMovingSelector(selector)) throw refuse("no entry names this value-moving function");
    }
    if (!(await allows(call.target, SELECTOR_ANY))) throw refuse("no entry allows this target and function");
  }
}

/** The native budget a grant gives, less the calls' values, or undefined if it has none. */
function grantNativeBudget(grant: DeferredGrant, values: bigint): bigint | undefined {
  const native = grant.session.budgets.find((budget) => BigInt(budget.asset) === 0n);
  if (native === undefined) return undefined;
  return native.limit > values ? native.limit - values : 0n;
}

function assertGrantIsForSession(grant: DeferredGrant, session: AgentSession): void {
  const { account, sessionId } = grant.session;
  if (getAddress(account) !== getAddress(session.account) || sessionId !== session.sessionId) {
    throw new Error(
      `the grant is for session ${sessionId} of account ${account}, not for the op's session ${session.sessionId} ` +
        `of account ${session.account}: pass the grant of this session`,
    );
  }
}

/**
 * After the op carrying `grant` was refused: returns if the grant was submitted by someone else and the session is
 * installed exactly as granted, and the op's nonce is still unused (so a retry under it cannot run twice). Throws
 * `refusal` itself if the grant was not used (the op was refused for another reason) or the nonce moved on, and
 * {@link GrantConflictError} if the installed session differs from the grant.
 */
async function assertGrantAlreadySubmitted(
  parameters: SendSessionUserOpParameters,
  provider: Provider,
  nonce: bigint,
  refusal: unknown,
): Promise<void> {
  const { session } = parameters;
  const grant = parameters.deferredGrant!;
  const module = SessionKeyValidationModule__factory.connect(session.sessionModule, provider);
  let used: boolean;
  let current: bigint;
  try {
    [used, current] = await Promise.all([
      module.isNonceUsed(session.account, grant.session.nonce),
      session.entryPoint.getNonce(
        session.account,
        sessionNonceKey(session.sessionModule, session.sessionId, parameters.lane),
      ),
    ]);
  } catch {
    throw refusal;
  }
  if (!used || current !== nonce) throw refusal;
  const differences = await installedGrantDifferences({ provider, session, grant });
  if (differences.length !== 0) throw new GrantConflictError(session.account, session.sessionId, differences, refusal);
}

/**
 * How the session installed on the account differs from `grant`: the agent, the validity window, the value cap,
 * signing, the scope and its argument rules (from the grant's `SessionGranted` event), every budget and paymaster,
 * revocation and the account's epoch. Empty if it is exactly the grant. Read now from the chain.
 */
export async function installedGrantDifferences(parameters: {
  provider: Provider;
  session: Pick<AgentSession, "account" | "sessionModule" | "sessionId">;
  grant: DeferredGrant;
}): Promise<string[]> {
  const { provider, session, grant } = parameters;
  const { account, sessionId } = session;
  const expected = sessionGrantMessage(grant.session);
  const module = SessionKeyValidationModule__factory.connect(session.sessionModule, provider);
  const accountContract = ModularAccount__factory.connect(account, provider);
  const [stored, epoch, validation] = await Promise.all([
    module.getSession(account, sessionId),
    module.epochOf(account),
    accountContract.getValidationData(encodeModuleEntity({ module: session.sessionModule, entityId: sessionId })),
  ]);
  if (stored.agent === ZeroAddress) return ["no session is installed under this id"];
  const differences: string[] = [];
  const compare = (field: string, granted: unknown, installed: unknown) => {
    if (String(granted) !== String(installed)) differences.push(`${field} (grant ${granted}, installed ${installed})`);
  };
  compare("agent", expected.agent, getAddress(stored.agent));
  compare("validAfter", expected.validAfter, stored.validAfter);
  compare("validUntil", expected.validUntil, stored.validUntil);
  compare("valueCapPerCall", grant.session.valueCapPerCall, stored.valueCapPerCall);
  compare("canSignMessages", expected.canSignMessages, stored.canSignMessages);
  compare("epoch", expected.epoch, stored.grantEpoch);
  if (stored.revoked) differences.push("the session was revoked");
  if (stored.grantEpoch !== epoch) differences.push("the owner pulled the kill switch since");
  if ((validation.validationFlags & 1n) === 0n) differences.push("the account has no user-op validation for it");

  const events = await module.queryFilter(module.filters.SessionGranted(account, sessionId), grant.fromBlock ?? 0);
  const event = events.findLast((e) => e.args.grantId === stored.grantId);
  if (event === undefined) {
    differences.push(`no SessionGranted event for grant ${stored.grantId} since block ${grant.fromBlock ?? 0}`);
  } else {
    // A signed grant installs its scope grouped by target, in the order it lists them.
    const scope = groupScope(grant.session.scope);
    const lower = (values: readonly string[]) => values.map((v) => v.toLowerCase()).join(",");
    compare("targets", lower(scope.map((entry) => entry.target)), lower(event.args.targets));
    compare("selectors", lower(scope.map((entry) => entry.selector)), lower(event.args.selectors));
    compare("argumentRules", encodeArgumentRules(scope).join(","), event.args.argumentRules.join(","));
  }

  const hook = SpendLimitHook__factory.connect(await module.SPEND_LIMIT_HOOK(), provider);
  for (const budget of grant.session.budgets) {
    const installed = await hook.getBudget(account, sessionId, budget.asset);
    compare(`budget ${budget.asset} limit`, budget.limit, installed.limit);
    compare(`budget ${budget.asset} period`, budget.period, installed.periodLength);
    compare(`budget ${budget.asset} perCallCap`, budget.perCallCap, installed.perCallCap);
  }
  for (const paymaster of grant.session.paymasters) {
    if (!(await hook.isPaymasterAllowed(account, sessionId, paymaster))) {
      differences.push(`paymaster ${paymaster} is not allowed`);
    }
  }
  return differences;
}
