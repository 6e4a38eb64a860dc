/**
 * Reading sessions: the sessions an account granted (from the session module's events) and one session's state —
 * live / expired / not yet valid / revoked / killed, time left, and per asset what remains in the current period
 * and when it resets.
 */
import type { Provider } from "ethers";

import { SessionKeyValidationModule__factory, SpendLimitHook__factory } from "./contracts.js";
import { getSessionStatus, type BudgetStatus } from "./actions.js";
import type { LeashChainAddresses } from "./addresses.js";
import {
  chainTime,
  NATIVE_LABEL,
  OPERATIONS_LABEL,
  readTokenLabel,
  SPONSORED_FEE_LABEL,
  SPONSORED_GAS_LABEL,
  type AssetLabel,
} from "./grant.js";
import { isPseudoAsset, NATIVE_ASSET, OPERATIONS_ASSET, SPONSORED_FEE_ASSET, SPONSORED_GAS_ASSET } from "./session.js";

/** The labels of the native asset and the pseudo-assets (operations, sponsored gas, sponsored fee cap). */
const PSEUDO_ASSET_LABELS: Readonly<Record<string, { symbol: string; decimals: number }>> = {
  [NATIVE_ASSET]: NATIVE_LABEL,
  [OPERATIONS_ASSET]: OPERATIONS_LABEL,
  [SPONSORED_GAS_ASSET]: SPONSORED_GAS_LABEL,
  [SPONSORED_FEE_ASSET]: SPONSORED_FEE_LABEL,
};

/** Where a session stands now. */
export type SessionState = "live" | "not-yet-valid" | "expired" | "revoked" | "killed" | "removed";

/** One session of an account, as `session list` shows it. */
export interface SessionListEntry {
  sessionId: number;
  agent: string;
  grantId: bigint;
  validAfter: bigint;
  validUntil: bigint;
  state: SessionState;
  /** Seconds until validUntil (0 once expired). */
  timeLeft: bigint;
}

/** One budget of a session now, labelled with its asset's symbol and decimals. */
export interface SessionBudgetStatus extends BudgetStatus, AssetLabel {}

/** A session's full status, as `session status` shows it. */
export interface SessionStatusReport extends SessionListEntry {
  account: string;
  now: bigint;
  valueCapPerCall: bigint;
  budgets: SessionBudgetStatus[];
}

/** What the read actions need. */
export interface ReadSessionsParameters {
  provider: Provider;
  addresses: LeashChainAddresses;
  account: string;
}

/**
 * A session's state at chain time `now`, one rule for every reader: revoked, then killed (granted before the
 * account's kill switch), then not yet valid (valid strictly after `validAfter`), expired (after `validUntil`), live.
 */
export function sessionStateOf(
  session: { revoked: boolean; killed: boolean; validAfter: bigint; validUntil: bigint },
  now: bigint,
): SessionState {
  if (session.revoked) return "revoked";
  if (session.killed) return "killed";
  if (now <= session.validAfter) return "not-yet-valid";
  if (now > session.validUntil) return "expired";
  return "live";
}

/** Lists every session the account was granted (latest grant per id), oldest first, with its state now. */
export async function listSessions(parameters: ReadSessionsParameters): Promise<SessionListEntry[]> {
  const { provider, addresses, account } = parameters;
  const module = SessionKeyValidationModule__factory.connect(addresses.sessionModule, provider);
  const events = await module.queryFilter(module.filters.SessionGranted(account), addresses.fromBlock);
  const ids = [...new Set(events.map((event) => Number(event.args.sessionId)))];
  const [now, epoch] = await Promise.all([chainTime(provider), module.epochOf(account)]);
  const entries: SessionListEntry[] = [];
  for (const sessionId of ids) {
    const session = await module.getSession(account, sessionId);
    const removed = session.agent === NATIVE_ASSET;
    const validUntil = session.validUntil;
    entries.push({
      sessionId,
      agent: removed
        ? (events.findLast((e) => Number(e.args.sessionId) === sessionId)?.args.agent ?? "")
        : session.agent,
      grantId: session.grantId,
      validAfter: session.validAfter,
      validUntil,
      state: removed
        ? "removed"
        : sessionStateOf(
            {
              revoked: session.revoked,
              killed: session.grantEpoch !== epoch,
              validAfter: session.validAfter,
              validUntil,
            },
            now,
          ),
      timeLeft: validUntil > now ? validUntil - now : 0n,
    });
  }
  return entries;
}

/** The assets the session's current spend-limit install has budgets for (from the hook's events). */
async function budgetAssetsOf(parameters: ReadSessionsParameters, sessionId: number): Promise<string[]> {
  const { provider, addresses, account } = parameters;
  const hook = SpendLimitHook__factory.connect(addresses.spendLimitHook, provider);
  const installs = await hook.queryFilter(hook.filters.SpendLimitInstalled(account, sessionId), addresses.fromBlock);
  const from = installs.at(-1)?.blockNumber ?? addresses.fromBlock;
  const sets = await hook.queryFilter(hook.filters.BudgetSet(account, sessionId), from);
  return [...new Set(sets.map((event) => event.args.asset))];
}

/**
 * Reads one session's status: state, time left, and per budget what remains now and when it resets. Throws
 * InvalidSessionIdError if the account has no such session.
 */
export async function readSessionStatus(
  parameters: ReadSessionsParameters & { sessionId: number },
): Promise<SessionStatusReport> {
  const { provider, addresses, account, sessionId } = parameters;
  const sessionModule = SessionKeyValidationModule__factory.connect(addresses.sessionModule, provider);
  const spendLimitHook = SpendLimitHook__factory.connect(addresses.spendLimitHook, provider);
  // One read of the session (getSessionStatus refuses a missing one), then the budgets' labels.
  const [status, now] = await Promise.all([
    getSessionStatus({
      sessionModule,
      spendLimitHook,
      account,
      sessionId,
      assets: await budgetAssetsOf(parameters, sessionId),
    }),
    chainTime(provider),
  ]);
  const budgets: SessionBudgetStatus[] = [];
  for (const budget of status.budgets) {
    if (budget.limit === 0n) continue; // removed by the owner since the install
    const label: AssetLabel = isPseudoAsset(budget.asset)
      ? { address: budget.asset, ...PSEUDO_ASSET_LABELS[budget.asset]! }
      : await readTokenLabel({ provider, token: budget.asset, field: "budget" });
    budgets.push({ ...budget, ...label });
  }
  return {
    account,
    sessionId,
    agent: status.agent,
    grantId: status.grantId,
    validAfter: status.validAfter,
    validUntil: status.validUntil,
    state: sessionStateOf(status, now),
    timeLeft: status.validUntil > now ? status.validUntil - now : 0n,
    now,
    valueCapPerCall: status.valueCapPerCall,
    budgets,
  };
}
