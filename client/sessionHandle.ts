/**
 * One handle on the session an agent acts under, built from the owner's session file (client/sessionFile.ts):
 * {@link createSessionHandle} here (runs anywhere), `fromGrantFile` in client/node.ts (reads the file, connects).
 *
 * - `status()`: the session now, JSON-safe: its state ("not-yet-valid" apart from "expired"), window, scope, and
 *   each budget with its symbol, what remains and when it refills;
 * - `canPay(asset, amount)`: whether a payment fits now, counting the op's maximum gas against the native budget;
 * - `pay(...)` and `call(...)`: `sendSessionUserOp` with the session, the key and the route given once.
 */
import { computeAddress, formatUnits, getAddress, Interface, SigningKey, ZeroAddress, type Provider } from "ethers";

import { getSessionStatus, type BudgetStatus } from "./actions.js";
import { parseAgentPrivateKey } from "./agentKey.js";
import { sendSessionUserOp, type SendSessionUserOpReturnType, type SendVia, type SessionCall } from "./agent.js";
import { maxGasCost, type GasCaps } from "./bundler.js";
import { EntryPoint__factory, SessionKeyValidationModule__factory, SpendLimitHook__factory } from "./contracts.js";
import { chainTime } from "./grant.js";
import { InvalidSessionIdError } from "./inputErrors.js";
import { sessionStateOf, type SessionState } from "./read.js";
import { NATIVE_ASSET, OPERATIONS_ASSET } from "./session.js";
import type { SessionFile } from "./sessionFile.js";
import type { UserOpGas } from "./userOp.js";

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

/** A payment: `asset` is a token address, a symbol of the session's budgets ("USDC"), or "ETH" / NATIVE_ASSET. */
export interface PayParameters {
  asset: string;
  to: string;
  amount: bigint;
}

/** The handle {@link createSessionHandle} returns. */
export interface SessionHandle {
  readonly session: SessionFile;
  status(): Promise<SessionHandleStatus>;
  canPay(asset: string, amount: bigint): Promise<CanPayAnswer>;
  pay(parameters: PayParameters): Promise<SendSessionUserOpReturnType>;
  call(calls: SessionCall | SessionCall[]): Promise<SendSessionUserOpReturnType>;
}

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

  const call = async (calls: SessionCall | SessionCall[]) =>
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
    });

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
    async canPay(asset, amount) {
      const address = assetOf(asset);
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
      const refuse = (reason: string, remaining = 0n, resetsAt?: bigint): CanPayAnswer => ({
        ok: false,
        reason,
        remaining,
        maxGasCost: gasCost,
        resetsAt: resetsAt === 0n ? undefined : resetsAt,
      });
      if (amount <= 0n) return refuse("nothing to pay: the amount must be positive");
      const assets =
        address === NATIVE_ASSET ? [NATIVE_ASSET, OPERATIONS_ASSET] : [NATIVE_ASSET, OPERATIONS_ASSET, address];
      const [chain, now] = await Promise.all([readChain(assets), chainTime(provider)]);
      if (chain === undefined) return refuse("the session is not installed on the account");
      if (getAddress(chain.agent) !== agent) {
        return refuse(`the session id was re-granted to another agent (${chain.agent}): this key's session is gone`);
      }
      const state = sessionStateOf(chain, now);
      if (state !== "live") return refuse(`the session is ${state}`);
      const [native, operations, token] = chain.budgets as [BudgetStatus, BudgetStatus, BudgetStatus | undefined];
      // The spend-limit hook's rules, in its order: an op count, the native budget (gas and value), the token's.
      if (operations.limit !== 0n && operations.remaining < 1n) {
        return refuse("no operation is left of the session's operations budget this period", 0n, operations.resetsAt);
      }
      if (native.limit === 0n) {
        return refuse(
          "the session has no ETH budget to pay its gas from: its ops need a paymaster, which pay() does not use",
        );
      }
      if (address === NATIVE_ASSET) {
        if (amount > chain.valueCapPerCall) {
          return refuse(`${amount} wei is over the per-call cap of ${chain.valueCapPerCall}`, native.remaining);
        }
      } else {
        // transfer moves value: the module allows it only under an entry naming it (a wildcard entry does not).
        const transfer = erc20.getFunction("transfer")!.selector;
        if (!(await module.isInScope(session.account, session.sessionId, address, transfer))) {
          return refuse(`the session may not call transfer on ${address}`);
        }
      }
      const nativeNeeded = gasCost + (address === NATIVE_ASSET ? amount : 0n);
      if (native.perCallCap !== 0n && nativeNeeded > native.perCallCap) {
        return refuse(
          `the op would take ${nativeNeeded} wei of the native budget (gas ${gasCost}), over its per-op cap of ` +
            `${native.perCallCap}`,
          native.remaining,
        );
      }
      if (native.remaining < nativeNeeded) {
        return refuse(
          `the op needs ${nativeNeeded} wei of the native budget (its maximum gas cost ${gasCost}` +
            `${address === NATIVE_ASSET ? ` and ${amount} sent` : ""}), ${native.remaining} remains`,
          native.remaining,
          native.resetsAt,
        );
      }
      if (address === NATIVE_ASSET) return { ok: true, remaining: native.remaining, maxGasCost: gasCost };
      if (token === undefined || token.limit === 0n) {
        return refuse(`the session has no budget for ${address}: the spend-limit hook refuses every transfer of it`);
      }
      if (token.perCallCap !== 0n && amount > token.perCallCap) {
        return refuse(`${amount} is over the per-call cap of ${token.perCallCap}`, token.remaining);
      }
      if (token.remaining < amount) {
        return refuse(`${amount} is over the ${token.remaining} left this period`, token.remaining, token.resetsAt);
      }
      return { ok: true, remaining: token.remaining, maxGasCost: gasCost };
    },
    async pay({ asset, to, amount }) {
      const address = assetOf(asset);
      return call(
        address === NATIVE_ASSET
          ? { target: getAddress(to), value: amount, data: "0x" }
          : { target: address, value: 0n, data: erc20.encodeFunctionData("transfer", [getAddress(to), amount]) },
      );
    },
    call,
  };
}
