/**
 * One handle on the session an agent acts under, built from the owner's session file (client/sessionFile.ts):
 * {@link createSessionHandle} here (runs anywhere), `fromGrantFile` in client/node.ts (reads the file, connects).
 *
 * - `status()`: the session now, JSON-safe: its state ("not-yet-valid" apart from "expired"), window, scope, and
 *   each budget with its symbol, what remains and when it refills;
 * - `canPay(asset, amount)`: whether a payment fits now, counting the op's maximum gas against the native budget;
 * - `pay(...)` and `call(...)`: `sendSessionUserOp` with the session, the key and the route given once.
 */
import {
  computeAddress,
  dataLength,
  dataSlice,
  formatUnits,
  getAddress,
  Interface,
  SigningKey,
  toBeHex,
  type Provider,
} from "ethers";

import { getSessionStatus, type BudgetStatus } from "./actions.js";
import { parseAgentPrivateKey } from "./agentKey.js";
import { sendSessionUserOp, type SendSessionUserOpReturnType, type SendVia, type SessionCall } from "./agent.js";
import { maxGasCost, type GasCaps } from "./bundler.js";
import { EntryPoint__factory, SessionKeyValidationModule__factory, SpendLimitHook__factory } from "./contracts.js";
import { UserOpOutcomeUnknownError } from "./errors.js";
import { chainTime } from "./grant.js";
import { InvalidSessionIdError } from "./inputErrors.js";
import { sessionStateOf, type SessionState } from "./read.js";
import {
  isPseudoAsset,
  NATIVE_ASSET,
  OPERATIONS_ASSET,
  SELECTOR_ANY,
  SELECTOR_NO_CALLDATA,
  SELECTOR_SIGN,
  sessionNonceLane,
  type ArgumentRule,
} from "./session.js";
import type { SessionFile } from "./sessionFile.js";
import { PERMIT2_APPROVE_SELECTOR, TOKEN_SPEND_FUNCTIONS, tokenSpendOf } from "./tokenSpend.js";
import type { UserOpGas } from "./userOp.js";

/** The low 64 bits of a nonce: its sequence number within its key. */
const SEQUENCE_MASK = (1n << 64n) - 1n;

/** The gas limits a handle's ops start from (a bundler replaces them with its estimate; `handleOps` uses them). */
export const DEFAULT_SESSION_GAS_LIMITS = {
  verificationGasLimit: 400_000n,
  callGasLimit: 200_000n,
  preVerificationGas: 60_000n,
} as const;

/** What {@link createSessionHandle} needs. */
export interface CreateSessionHandleParameters {
  /** The owner's session file, as `loadSessionFile` or `parseSessionFile` read it. */
  session: SessionFile;
  /** A provider of the session's chain. */
  provider: Provider;
  /** The agent's session key (a private key, or ethers' SigningKey); its address must be the session's agent. */
  agentKey: string | SigningKey;
  /** Where ops go: `{ bundler: createBundlerClient(url, session.entryPoint) }`, or `{ submitter }` (handleOps). */
  via: SendVia;
  /** Gas limits (default {@link DEFAULT_SESSION_GAS_LIMITS}). Fees are read from the provider unless given. */
  gas?: Partial<UserOpGas>;
  /** The most the agent signs for when a bundler fills the gas (default DEFAULT_GAS_CAPS). */
  caps?: GasCaps;
  /** Through a bundler: how long an op may take to be included (default 60 s) before UserOpTimeoutError. */
  timeoutMs?: number;
  /** Through a bundler: send an op again after it has been unknown to the bundler and the chain this long (4 s). */
  resubmitAfterMs?: number;
  /** Through a bundler: called when an op is sent again because the bundler had lost it. */
  onResubmit?: (userOpHash: string, reason: string) => void;
}

/** A budget as `status()` reports it: JSON-safe (amounts as decimal strings of base units and in words). */
export interface SessionHandleBudget {
  asset: string;
  symbol: string;
  decimals: number;
  limit: string;
  remaining: string;
  /** `remaining` in words, e.g. "93.5 USDC". */
  remainingText: string;
  perCallCap: string;
  /** Period length in seconds (0: the session's lifetime). */
  period: number;
  /** When the budget refills (ISO 8601), or null for a lifetime budget. */
  resetsAt: string | null;
}

/** `status()`: the session now. Every field is JSON-safe. */
export interface SessionHandleStatus {
  chainId: string;
  account: string;
  sessionId: number;
  agent: string;
  /** The agent the account has under this session id now (null if none): another one means a re-grant. */
  installedAgent: string | null;
  /**
   * "not-yet-valid" (starts later) is not "expired" (ended). "removed" also when the id was re-granted to another
   * agent: the session this file describes is gone.
   */
  state: SessionState;
  /** The chain's time, and the session's window (ISO 8601): valid strictly after `validAfter`, until `validUntil`. */
  now: string;
  validAfter: string;
  validUntil: string;
  /** Seconds until it starts (0 once started) and until it ends (0 once ended). */
  startsIn: number;
  timeLeft: number;
  /** What the session may call: target and function (its text when the grant named it, else the selector). */
  scope: { target: string; function: string; rules: number }[];
  /** Most native value one call may carry, in wei. */
  valueCapPerCall: string;
  budgets: SessionHandleBudget[];
  paymasters: string[];
}

/** `canPay(...)`: whether the payment fits now, and if not, why and when it may. */
export interface CanPayAnswer {
  ok: boolean;
  /** Why not, in words (undefined when `ok`). */
  reason?: string;
  /** The asset's budget left now (base units), and for the native asset what the op's gas would take of it. */
  remaining: bigint;
  maxGasCost: bigint;
  /** When the limiting budget refills (unix seconds), if it refills. */
  resetsAt?: bigint;
}

/** Why the session would refuse an op, in the order the chain asks (the session, its scope, then its budgets). */
export type SessionRefusalKind =
  | "removed"
  | "not_yet_valid"
  | "expired"
  | "revoked"
  | "killed"
  | "out_of_scope"
  | "argument_rule"
  | "over_per_call_cap"
  | "no_gas_budget"
  | "operations_exhausted"
  | "over_budget";

/** `check(...)`'s refusal: what the chain would refuse, found before anything is signed. */
export interface SessionRefusal {
  refused: SessionRefusalKind;
  /** Why, in words. */
  reason: string;
  /** Whether the same op may pass later (the session starts, or the limiting budget refills in time). */
  retryable: boolean;
  /** The limiting budget's asset (NATIVE_ASSET for gas and value, OPERATIONS_ASSET for the op count). */
  asset?: string;
  /** What the op would take of it, and what is left (base units). */
  requested?: bigint;
  remaining?: bigint;
  /** When the limiting budget refills, or the session starts (unix seconds). */
  resetsAt?: bigint;
}

/** `check(...)`'s answer: a refusal, or what the op may take of each budget (its maximum gas included). */
export interface CheckAnswer {
  ok: boolean;
  refusal?: SessionRefusal;
  /** The op's maximum gas cost, charged to the native budget when the account pays its gas. */
  maxGasCost: bigint;
  /** Per budgeted asset: what the op would take at most, and what is left now. */
  spends: { asset: string; requested: bigint; remaining: bigint }[];
}

/** A payment: `asset` is a token address, a symbol of the session's budgets ("USDC"), or "ETH" / NATIVE_ASSET. */
export interface PayParameters {
  asset: string;
  to: string;
  amount: bigint;
}

/** Options of one send. */
export interface SendOptions {
  /**
   * The session's nonce lane (0 to 65,535). Default: while an earlier op's outcome is unknown (see
   * {@link SessionHandle.call}), that op's lane and nonce; else the lowest lane none of this handle's ops in flight
   * uses.
   */
  lane?: number;
  /**
   * The op's nonce, to send an intent again after `UserOpOutcomeUnknownError` (e.g. a timeout): pass the error's
   * `nonce`, and at most one of the two ops can be included. Its lane is the nonce's.
   */
  nonce?: bigint;
}

/** The handle {@link createSessionHandle} returns. */
export interface SessionHandle {
  readonly session: SessionFile;
  status(): Promise<SessionHandleStatus>;
  canPay(asset: string, amount: bigint): Promise<CanPayAnswer>;
  /** Whether the calls fit the session now, as one op: liveness, scope, argument rules, caps and budgets. */
  check(calls: SessionCall | SessionCall[]): Promise<CheckAnswer>;
  /** The asset's address from an address, a budget's symbol or "ETH"; throws if it is none of them. */
  assetOf(asset: string): string;
  /** Pays through {@link SessionHandle.call}. */
  pay(parameters: PayParameters, options?: SendOptions): Promise<SendSessionUserOpReturnType>;
  /**
   * Sends the calls as one op. Ops sent at once go in different nonce lanes (the lowest free one), so they are in
   * flight in parallel; pass `lane` to choose one (ops in one lane are included in order). After an op whose outcome
   * is unknown (`UserOpOutcomeUnknownError`, e.g. a timeout), ops sent without `lane` or `nonce` take that op's lane
   * and nonce until the chain settles it, so a retry of its intent cannot be included besides it: one of them is
   * included, the others get `NonceConflictError` (send them again). With several unknown outcomes at once, retry
   * each intent with `{ nonce: error.nonce }`.
   */
  call(calls: SessionCall | SessionCall[], options?: SendOptions): Promise<SendSessionUserOpReturnType>;
}

/** The reserved pseudo-selectors (no calldata, the wildcard, signing), lower case. */
const PSEUDO_SELECTORS: ReadonlySet<string> = new Set(
  [SELECTOR_NO_CALLDATA, SELECTOR_ANY, SELECTOR_SIGN].map((s) => s.toLowerCase()),
);

const erc20 = new Interface(["function transfer(address to, uint256 amount)"]);

/** Builds the handle; throws if the key is not the session's agent (nothing is sent). */
export function createSessionHandle(parameters: CreateSessionHandleParameters): SessionHandle {
  const { session, provider, via } = parameters;
  const signingKey =
    typeof parameters.agentKey === "string"
      ? new SigningKey(parseAgentPrivateKey(parameters.agentKey, "agentKey"))
      : parameters.agentKey;
  const agent = computeAddress(signingKey.publicKey);
  if (agent !== getAddress(session.agent)) {
    throw new Error(
      `the key's address ${agent} is not the session's agent ${session.agent}: load the key the session was granted to`,
    );
  }
  const entryPoint = EntryPoint__factory.connect(session.entryPoint, "submitter" in via ? via.submitter : provider);
  const module = SessionKeyValidationModule__factory.connect(session.sessionModule, provider);
  const hook = SpendLimitHook__factory.connect(session.spendLimitHook, provider);
  /** The session and the budgets of `assets` now (getSessionStatus), or undefined if it is not installed. */
  const readChain = (assets: string[]) =>
    getSessionStatus({
      sessionModule: module,
      spendLimitHook: hook,
      account: session.account,
      sessionId: session.sessionId,
      assets,
    }).catch((error: unknown) => {
      if (error instanceof InvalidSessionIdError) return undefined;
      throw error;
    });

  /**
   * Which of the tokens `calls` could touch have a budget on chain now (the hook asks the same of its storage: the
   * owner may have added or removed one since the session file was written): each call's target with calldata and
   * each Permit2 approve's token.
   */
  const budgetedAmong = async (calls: SessionCall[]): Promise<ReadonlySet<string>> => {
    const candidates = new Set<string>();
    for (const call of calls) {
      if (dataLength(call.data) === 0) continue;
      if (!isPseudoAsset(call.target)) candidates.add(getAddress(call.target));
      if (dataLength(call.data) >= 36 && dataSlice(call.data, 0, 4).toLowerCase() === PERMIT2_APPROVE_SELECTOR) {
        const word = BigInt(dataSlice(call.data, 4, 36));
        if (word < 1n << 160n) {
          const token = getAddress(`0x${word.toString(16).padStart(40, "0")}`);
          if (!isPseudoAsset(token)) candidates.add(token);
        }
      }
    }
    const tokens = [...candidates];
    const budgets = await Promise.all(tokens.map((token) => hook.getBudget(session.account, session.sessionId, token)));
    return new Set(tokens.filter((_, index) => budgets[index]!.limit !== 0n));
  };

  /** The asset's address from an address, a budget's symbol or "ETH". */
  const assetOf = (asset: string): string => {
    if (asset.toUpperCase() === "ETH") return NATIVE_ASSET;
    const bySymbol = session.budgets.find((budget) => budget.symbol.toUpperCase() === asset.toUpperCase());
    if (bySymbol !== undefined) return bySymbol.asset;
    try {
      return getAddress(asset);
    } catch {
      const symbols = session.budgets.map((budget) => budget.symbol).join(", ");
      throw new Error(`"${asset}" is neither an address nor a budget of the session (${symbols}, or ETH)`);
    }
  };

  const gasNow = async (): Promise<UserOpGas> => {
    const given = parameters.gas ?? {};
    let { maxFeePerGas, maxPriorityFeePerGas } = given;
    if (maxFeePerGas === undefined || maxPriorityFeePerGas === undefined) {
      const fees = await provider.getFeeData();
      maxFeePerGas ??= fees.maxFeePerGas ?? fees.gasPrice ?? undefined;
      maxPriorityFeePerGas ??= fees.maxPriorityFeePerGas ?? maxFeePerGas;
      if (maxFeePerGas !== undefined && maxPriorityFeePerGas !== undefined && maxPriorityFeePerGas > maxFeePerGas) {
        maxPriorityFeePerGas = maxFeePerGas;
      }
    }
    if (maxFeePerGas === undefined || maxPriorityFeePerGas === undefined) {
      throw new Error("the node reports no fees: pass gas.maxFeePerGas and gas.maxPriorityFeePerGas");
    }
    return { ...DEFAULT_SESSION_GAS_LIMITS, ...given, maxFeePerGas, maxPriorityFeePerGas };
  };

  // Nonce lanes of this handle's ops in flight (lane → how many): each op takes the lowest free lane, so that ops
  // sent at once run in parallel (a bundler keeps one op per sender and nonce key) and one refused op cannot block
  // the others.
  const busyLanes = new Map<number, number>();
  // Lanes whose last op's outcome is unknown (a timeout, an unreadable answer): lane → that op's nonce. While one is
  // unsettled, every op sent without a lane or nonce is pinned to it (the lowest such lane), so if it is a retry of
  // that op's intent at most one of the two can be included; the others get NonceConflictError once one is, and may
  // be sent again. A lane is settled once the EntryPoint's nonce is past the op's; ops then spread out again.
  const unsettledLanes = new Map<number, bigint>();
  const settleLanes = async () => {
    for (const [lane, nonce] of unsettledLanes) {
      const next = await entryPoint.getNonce(session.account, nonce >> 64n);
      if ((next & SEQUENCE_MASK) > (nonce & SEQUENCE_MASK)) unsettledLanes.delete(lane);
    }
  };
  /**
   * Where an op goes: the options' nonce (its lane), else their lane, else the lowest unsettled lane, else the lowest
   * free one. Synchronous, so that ops asked at once each see the lanes the ones before them took.
   */
  const place = (options: SendOptions): { lane: number; nonce?: bigint } => {
    if (options.nonce !== undefined) {
      const lane = sessionNonceLane(options.nonce >> 64n, session.sessionModule, session.sessionId);
      if (lane === undefined || (options.lane !== undefined && options.lane !== lane)) {
        throw new RangeError(
          `nonce ${toBeHex(options.nonce)} is not a nonce of session ${session.sessionId}` +
            (options.lane === undefined ? "" : ` in lane ${options.lane}`) +
            ": pass the nonce of an earlier op of this session (UserOpOutcomeUnknownError.nonce)",
        );
      }
      return { lane, nonce: options.nonce };
    }
    if (options.lane !== undefined) return { lane: options.lane };
    const [pinned] = [...unsettledLanes].sort(([a], [b]) => a - b);
    if (pinned !== undefined) return { lane: pinned[0], nonce: pinned[1] };
    let lane = 0;
    while (busyLanes.has(lane)) lane += 1;
    return { lane };
  };
  const call = async (calls: SessionCall | SessionCall[], options: SendOptions = {}) => {
    if (unsettledLanes.size > 0 && options.lane === undefined && options.nonce === undefined) await settleLanes();
    const { lane, nonce } = place(options);
    busyLanes.set(lane, (busyLanes.get(lane) ?? 0) + 1);
    try {
      return await send(calls, lane, nonce);
    } catch (error) {
      if (error instanceof UserOpOutcomeUnknownError && error.nonce !== undefined) {
        // The highest unknown nonce of the lane: the lane settles once the chain is past all of them.
        const known = unsettledLanes.get(lane);
        unsettledLanes.set(lane, known === undefined || error.nonce > known ? error.nonce : known);
      }
      throw error;
    } finally {
      const left = busyLanes.get(lane)! - 1;
      if (left === 0) busyLanes.delete(lane);
      else busyLanes.set(lane, left);
    }
  };
  const send = async (calls: SessionCall | SessionCall[], lane: number, nonce: bigint | undefined) =>
    sendSessionUserOp({
      session: {
        entryPoint,
        account: session.account,
        sessionModule: session.sessionModule,
        sessionId: session.sessionId,
        signingKey,
      },
      calls: Array.isArray(calls) ? calls : [calls],
      gas: await gasNow(),
      via,
      caps: parameters.caps,
      lane,
      nonce,
      timeoutMs: parameters.timeoutMs,
      resubmitAfterMs: parameters.resubmitAfterMs,
      onResubmit: parameters.onResubmit,
    });

  /** {@link SessionHandle.check}; `recipientUnknown` (canPay) skips the recipient's scope and argument rules. */
  const check = async (
    input: SessionCall | SessionCall[],
    options: { recipientUnknown?: boolean } = {},
  ): Promise<CheckAnswer> => {
    const calls = Array.isArray(input) ? input : [input];
    const gas = await gasNow();
    const gasCost = maxGasCost({
      sender: session.account,
      nonce: 0n,
      initCode: "0x",
      callData: "0x",
      ...gas,
      paymasterAndData: "0x",
      signature: "0x",
    });
    const refuse = (refusal: Omit<SessionRefusal, "retryable"> & { retryable?: boolean }): CheckAnswer => ({
      ok: false,
      refusal: {
        ...refusal,
        retryable: refusal.retryable ?? false,
        resetsAt: refusal.resetsAt === 0n ? undefined : refusal.resetsAt,
      },
      maxGasCost: gasCost,
      spends: [],
    });
    // What the calls take of each token's budget (read as the hook reads it), and the native value they send.
    const tokenSpends = new Map<string, bigint>();
    const tokenRefusals: string[] = [];
    const budgeted = await budgetedAmong(calls);
    let values = 0n;
    for (const call of calls) {
      values += call.value;
      const spend = tokenSpendOf(session.account, call, budgeted);
      if (spend.kind === "spend") tokenSpends.set(spend.token, (tokenSpends.get(spend.token) ?? 0n) + spend.amount);
      if (spend.kind === "refused") tokenRefusals.push(spend.reason);
    }
    const tokens = [...tokenSpends.keys()];
    const [chain, now] = await Promise.all([
      readChain([NATIVE_ASSET, OPERATIONS_ASSET, ...tokens]),
      chainTime(provider),
    ]);
    if (chain === undefined)
      return refuse({ refused: "removed", reason: "the session is not installed on the account" });
    if (getAddress(chain.agent) !== agent) {
      return refuse({
        refused: "removed",
        reason: `the session id was re-granted to another agent (${chain.agent}): this key's session is gone`,
      });
    }
    const state = sessionStateOf(chain, now);
    if (state === "not-yet-valid") {
      return refuse({
        refused: "not_yet_valid",
        reason: `the session starts after ${chain.validAfter} (chain time ${now})`,
        retryable: true,
        resetsAt: chain.validAfter + 1n,
      });
    }
    if (state !== "live") return refuse({ refused: state, reason: `the session is ${state}` });
    // Scope before budgets, as the module would judge it. On chain the spend-limit hook (a validation hook) runs
    // first, so an op both out of scope and over a budget is refused there as over the budget: either way it is
    // refused, and the scope is the reason the agent can act on.
    for (const call of calls) {
      const length = dataLength(call.data);
      const selector = length >= 4 ? dataSlice(call.data, 0, 4) : SELECTOR_NO_CALLDATA;
      if (call.value > chain.valueCapPerCall) {
        return refuse({
          refused: "over_per_call_cap",
          reason: `${call.value} wei is over the per-call cap of ${chain.valueCapPerCall}`,
          asset: NATIVE_ASSET,
          requested: call.value,
        });
      }
      const target = getAddress(call.target);
      if (options.recipientUnknown === true && length === 0) continue;
      // The reserved pseudo-selectors stand only for themselves (empty calldata, signing, the wildcard): calldata
      // starting with one is allowed by the wildcard entry alone, as the module reads it.
      const pseudo = length >= 4 && PSEUDO_SELECTORS.has(selector.toLowerCase());
      const exact =
        length === 0 || (length >= 4 && !pseudo)
          ? await module.isInScope(session.account, session.sessionId, target, selector)
          : false;
      if (!exact) {
        const valueMoving = length >= 4 && !pseudo && (await module.isValueMovingSelector(selector));
        const wildcard =
          !valueMoving && (await module.isInScope(session.account, session.sessionId, target, SELECTOR_ANY));
        if (!wildcard) {
          return refuse({
            refused: "out_of_scope",
            reason:
              length >= 4 && selector in TOKEN_SPEND_FUNCTIONS
                ? `the session may not call ${TOKEN_SPEND_FUNCTIONS[selector as keyof typeof TOKEN_SPEND_FUNCTIONS]} on ${target}`
                : `the session may not call selector ${selector} on ${target}`,
          });
        }
        continue;
      }
      const entry = session.scope.find(
        (item) => getAddress(item.target) === target && item.selector.toLowerCase() === selector.toLowerCase(),
      );
      const broken =
        entry === undefined || options.recipientUnknown === true ? undefined : brokenRule(entry.rules, call.data);
      if (broken !== undefined) {
        return refuse({
          refused: "argument_rule",
          reason: `argument ${broken.argument} of ${entry!.function ?? selector} on ${target} breaks the grant's rule (${broken.op} ${broken.value})`,
        });
      }
    }
    // The hook refuses these calls before it charges any budget.
    if (tokenRefusals.length !== 0) return refuse({ refused: "out_of_scope", reason: tokenRefusals[0]! });
    const [native, operations, ...tokenBudgets] = chain.budgets as [BudgetStatus, BudgetStatus, ...BudgetStatus[]];
    const retryableAt = (budget: BudgetStatus, requested: bigint) =>
      budget.resetsAt !== 0n && budget.resetsAt <= chain.validUntil && requested <= budget.limit;
    // The spend-limit hook's rules, in its order (_checkOp): the native budget (gas and value), the tokens', then
    // the op count.
    if (native.limit === 0n) {
      return refuse({
        refused: "no_gas_budget",
        reason: "the session has no ETH budget to pay its gas from: its ops need a paymaster, which pay() does not use",
        asset: NATIVE_ASSET,
      });
    }
    const nativeNeeded = gasCost + values;
    if (native.perCallCap !== 0n && nativeNeeded > native.perCallCap) {
      return refuse({
        refused: "over_per_call_cap",
        reason:
          `the op would take ${nativeNeeded} wei of the native budget (gas ${gasCost}), over its per-op cap of ` +
          `${native.perCallCap}`,
        asset: NATIVE_ASSET,
        requested: nativeNeeded,
        remaining: native.remaining,
      });
    }
    if (native.remaining < nativeNeeded) {
      return refuse({
        refused: "over_budget",
        reason:
          `the op needs ${nativeNeeded} wei of the native budget (its maximum gas cost ${gasCost}` +
          `${values !== 0n ? ` and ${values} sent` : ""}), ${native.remaining} remains`,
        asset: NATIVE_ASSET,
        requested: nativeNeeded,
        remaining: native.remaining,
        resetsAt: native.resetsAt,
        retryable: retryableAt(native, nativeNeeded),
      });
    }
    const spends = [{ asset: NATIVE_ASSET, requested: nativeNeeded, remaining: native.remaining }];
    for (const [index, token] of tokens.entries()) {
      const budget = tokenBudgets[index]!;
      const amount = tokenSpends.get(token)!;
      if (budget.limit === 0n) {
        return refuse({
          refused: "over_budget",
          reason: `the session has no budget for ${token}: the spend-limit hook refuses every transfer of it`,
          asset: token,
          requested: amount,
          remaining: 0n,
        });
      }
      if (budget.perCallCap !== 0n && amount > budget.perCallCap) {
        return refuse({
          refused: "over_per_call_cap",
          reason: `${amount} is over the per-call cap of ${budget.perCallCap}`,
          asset: token,
          requested: amount,
          remaining: budget.remaining,
        });
      }
      if (budget.remaining < amount) {
        return refuse({
          refused: "over_budget",
          reason: `${amount} is over the ${budget.remaining} left this period`,
          asset: token,
          requested: amount,
          remaining: budget.remaining,
          resetsAt: budget.resetsAt,
          retryable: retryableAt(budget, amount),
        });
      }
      spends.push({ asset: token, requested: amount, remaining: budget.remaining });
    }
    if (operations.limit !== 0n && operations.remaining < 1n) {
      return refuse({
        refused: "operations_exhausted",
        reason: "no operation is left of the session's operations budget this period",
        asset: OPERATIONS_ASSET,
        requested: 1n,
        remaining: 0n,
        resetsAt: operations.resetsAt,
        retryable: retryableAt(operations, 1n),
      });
    }
    return { ok: true, maxGasCost: gasCost, spends };
  };

  return {
    session,
    async status() {
      const [chain, now] = await Promise.all([
        readChain(session.budgets.map((budget) => budget.asset)),
        chainTime(provider),
      ]);
      const removed = chain === undefined || getAddress(chain.agent) !== agent;
      const validAfter = chain === undefined ? session.validAfter : chain.validAfter;
      const validUntil = chain === undefined ? session.validUntil : chain.validUntil;
      const state: SessionState = removed || chain === undefined ? "removed" : sessionStateOf(chain, now);
      const iso = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString();
      return {
        chainId: session.chainId.toString(),
        account: session.account,
        sessionId: session.sessionId,
        agent: session.agent,
        installedAgent: chain === undefined ? null : chain.agent,
        state,
        now: iso(now),
        validAfter: iso(validAfter),
        validUntil: iso(validUntil),
        startsIn: Number(validAfter >= now ? validAfter - now + 1n : 0n),
        timeLeft: Number(validUntil > now ? validUntil - now : 0n),
        scope: session.scope.map((entry) => ({
          target: entry.target,
          function: entry.function ?? entry.selector,
          rules: entry.rules.length,
        })),
        valueCapPerCall: (chain === undefined ? session.valueCapPerCall : chain.valueCapPerCall).toString(),
        budgets: session.budgets.map((budget, index) => {
          const live = chain?.budgets[index];
          const remaining = live?.remaining ?? 0n;
          return {
            asset: budget.asset,
            symbol: budget.symbol,
            decimals: budget.decimals,
            limit: (live?.limit ?? budget.limit).toString(),
            remaining: remaining.toString(),
            remainingText: `${formatUnits(remaining, budget.decimals)} ${budget.symbol}`,
            perCallCap: (live?.perCallCap ?? budget.perCallCap).toString(),
            period: Number(budget.period),
            resetsAt: live === undefined || live.resetsAt === 0n ? null : iso(live.resetsAt),
          };
        }),
        paymasters: session.paymasters,
      };
    },
    check: (calls) => check(calls),
    async canPay(asset, amount) {
      const address = assetOf(asset);
      if (amount <= 0n) {
        return { ok: false, reason: "nothing to pay: the amount must be positive", remaining: 0n, maxGasCost: 0n };
      }
      const answer = await check(payCall(address, session.account, amount), { recipientUnknown: true });
      if (!answer.ok) {
        const refusal = answer.refusal!;
        return {
          ok: false,
          reason: refusal.reason,
          remaining: refusal.remaining ?? 0n,
          maxGasCost: answer.maxGasCost,
          resetsAt: refusal.resetsAt,
        };
      }
      const spend = answer.spends.find((item) => item.asset === address)!;
      return { ok: true, remaining: spend.remaining, maxGasCost: answer.maxGasCost };
    },
    assetOf,
    async pay({ asset, to, amount }, options) {
      return call(payCall(assetOf(asset), to, amount), options);
    },
    call,
  };
}

/** The call paying `amount` of `asset` (NATIVE_ASSET or a token) to `to`. */
function payCall(asset: string, to: string, amount: bigint): SessionCall {
  return asset === NATIVE_ASSET
    ? { target: getAddress(to), value: amount, data: "0x" }
    : { target: asset, value: 0n, data: erc20.encodeFunctionData("transfer", [getAddress(to), amount]) };
}

/** The first rule of `rules` the call's static arguments break (as the module compares whole words), if any. */
function brokenRule(rules: ArgumentRule[], data: string): ArgumentRule | undefined {
  const byArgument = new Map<number, ArgumentRule[]>();
  for (const rule of rules) byArgument.set(rule.argument, [...(byArgument.get(rule.argument) ?? []), rule]);
  for (const [argument, list] of byArgument) {
    const end = 4 + 32 * (argument + 1);
    if (dataLength(data) < end) return list[0];
    const word = BigInt(dataSlice(data, end - 32, end));
    const eqs = list.filter((rule) => rule.op === "eq");
    if (eqs.length !== 0 && !eqs.some((rule) => rule.value === word)) return eqs[0];
    for (const rule of list) {
      if (rule.op === "le" && word > rule.value) return rule;
      if (rule.op === "ge" && word < rule.value) return rule;
    }
  }
  return undefined;
}
