/**
 * What the owner is shown before the Ledger signs, and the machine-readable form of the same: both are computed from
 * the {@link GrantPlan}'s `session`, the value the install call and the typed data are built from (THREATS 18).
 */
import {
  formatAllowance,
  formatAmount,
  NATIVE_LABEL,
  SPONSORED_FEE_LABEL,
  UNLIMITED_ALLOWANCE,
  type GrantPlan,
} from "@leashkit/client";
import {
  NATIVE_ASSET,
  OPERATIONS_ASSET,
  SELECTOR_SIGN,
  SPONSORED_FEE_ASSET,
  SPONSORED_GAS_ASSET,
} from "@leashkit/client";

/** A unix time as `2026-11-28 15:00:00 UTC`. */
export function formatUtc(seconds: bigint): string {
  return new Date(Number(seconds) * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, " UTC");
}

/** A unix time in this machine's time zone, with the zone's name. */
export function formatLocal(seconds: bigint): string {
  return new Intl.DateTimeFormat("en-GB", {
    dateStyle: "medium",
    timeStyle: "long",
  }).format(new Date(Number(seconds) * 1000));
}

/** A unix time in UTC and local time. */
export function formatTime(seconds: bigint): string {
  return `${formatUtc(seconds)} (local: ${formatLocal(seconds)})`;
}

/** A duration as `1d 2h 3m` (seconds dropped above an hour). */
export function formatDuration(seconds: bigint): string {
  if (seconds <= 0n) return "0s";
  const days = seconds / 86_400n;
  const hours = (seconds % 86_400n) / 3_600n;
  const minutes = (seconds % 3_600n) / 60n;
  const rest = seconds % 60n;
  const parts: string[] = [];
  if (days > 0n) parts.push(`${days}d`);
  if (hours > 0n) parts.push(`${hours}h`);
  if (minutes > 0n) parts.push(`${minutes}m`);
  if (rest > 0n && days === 0n && hours === 0n) parts.push(`${rest}s`);
  return parts.join(" ");
}

/** A budget period in words. */
export function formatPeriod(seconds: bigint): string {
  if (seconds === 0n) return "for the session's lifetime";
  if (seconds === 3_600n) return "per hour";
  if (seconds === 86_400n) return "per day";
  if (seconds === 604_800n) return "per week";
  return `per ${formatDuration(seconds)} (${seconds} s)`;
}

/** `1 token` / `2 tokens`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * The summary's warning of standing allowances (THREATS 21): each non-zero allowance the account gives to a target in
 * scope, then each one that could not be read; or a line saying none were found.
 */
function summarizeStandingAllowances(plan: GrantPlan, targetName: (address: string) => string): string[] {
  const { tokens, spenders, found, unreadable } = plan.standingAllowances;
  const checked = `${count(tokens.length, "token")} checked (address book and budgets), to ${count(spenders.length, "target")} in scope`;
  const lines =
    found.length === 0
      ? [`  standing allowances: none found among the ${checked}`]
      : [
          "  standing allowances (the session's targets may pull these when the agent calls them):",
          ...found.map(
            ({ spender, token, amount }) =>
              `    ! ${targetName(spender)} may pull ${formatAllowance(amount, token)} (${token.address}, ${token.decimals} decimals) from the account`,
          ),
        ];
  if (unreadable.length > 0) {
    lines.push(`  allowances that could not be read (${unreadable.length}; check them before approving):`);
    for (const { spender, token, symbol, reason } of unreadable) {
      lines.push(`    ? ${targetName(spender)} from ${symbol} (${token}): ${reason}`);
    }
  }
  return lines;
}

/** On an account Leash did not deploy: what it is and which validation the owner acts through. */
function ownerAccountLines(plan: GrantPlan): string[] {
  const { ownerAccount } = plan;
  if (ownerAccount.kind === "leash") return [];
  const through =
    ownerAccount.kind === "built-in-signer"
      ? "its built-in signer"
      : `entity ${ownerAccount.validation.entityId} of ${ownerAccount.validation.module}`;
  return [`  account kind     ${ownerAccount.accountId} (not deployed by Leash; the owner acts through ${through})`];
}

/**
 * The human-readable summary of a grant: account, chain, agent, times in UTC and local, each target and function by
 * name, each budget with its decimals, the per-call value cap and paymasters, then a warning of any allowance a
 * target already holds from the account. `mode` says how it will be granted.
 */
export function summarizeGrant(plan: GrantPlan, mode: "transaction" | "signature"): string[] {
  const { session } = plan;
  const sponsored = new Set([SPONSORED_GAS_ASSET, SPONSORED_FEE_ASSET]);
  const spendBudgets = session.budgets
    .map((budget, i) => ({ budget, asset: plan.budgetAssets[i]! }))
    .filter(({ budget }) => !sponsored.has(budget.asset));
  const assetName = (address: string) => {
    const label = plan.budgetAssets.find((asset) => asset.address === address);
    return label === undefined ? address : `${address} (${label.symbol})`;
  };
  const lines = [
    `Grant session ${session.sessionId} on account ${session.account}`,
    `  chain            ${plan.chainId}`,
    `  owner (Ledger)   ${plan.owner}`,
    ...ownerAccountLines(plan),
    `  agent            ${session.agent}`,
    `  valid from       ${formatTime(session.validAfter)}`,
    `  valid until      ${formatTime(session.validUntil)} (${formatDuration(session.validUntil - plan.now)} from now)`,
    `  may call (${session.scope.length}):`,
    ...session.scope.map(
      (entry, i) => `    - ${assetName(entry.target)}: ${plan.functionNames[i]} [${entry.selector}]`,
    ),
    `  budgets (${spendBudgets.length}; what leaves the account, measured; the ETH budget also pays the agent's gas when no paymaster is used):`,
    ...spendBudgets.map(({ budget, asset }) => {
      const where =
        budget.asset === NATIVE_ASSET ? "native" : budget.asset === OPERATIONS_ASSET ? "op count" : budget.asset;
      const decimals = budget.asset === OPERATIONS_ASSET ? "" : `, ${asset.decimals} decimals`;
      const cap = budget.perCallCap === 0n ? "" : `, at most ${formatAmount(budget.perCallCap, asset)} per op`;
      return `    - ${formatAmount(budget.limit, asset)} ${formatPeriod(budget.period)} (${where}${decimals})${cap}`;
    }),
    `  native value     at most ${formatAmount(session.valueCapPerCall, NATIVE_LABEL)} per call`,
    `  paymasters       ${session.paymasters.length === 0 ? "none (the account pays gas from the ETH budget)" : session.paymasters.join(", ")}`,
    ...sponsoredLines(plan),
    `  message signing  ${
      session.canSignMessages
        ? `ALLOWED (ERC-1271), only EIP-712 messages for ${session.scope
            .filter((entry) => entry.selector === SELECTOR_SIGN)
            .map((entry) => assetName(entry.target))
            .join(", ")}`
        : "not allowed"
    }`,
  ];
  if (mode === "signature") {
    lines.push(`  epoch / nonce    ${session.epoch} / ${session.nonce} (a kill switch or this nonce's use voids it)`);
    lines.push(`  signed as        EIP-712 SessionGrant for session module ${plan.addresses.sessionModule}`);
  } else {
    lines.push(`  sent as          installValidation through the account, signed on the Ledger`);
  }
  lines.push(...summarizeStandingAllowances(plan, assetName));
  return lines;
}

/** What paymasters may pay for the agent: the sponsored-gas budget and the fee cap, or nothing without paymasters. */
function sponsoredLines(plan: GrantPlan): string[] {
  const budgetOf = (asset: string) => plan.session.budgets.find((budget) => budget.asset === asset);
  const gas = budgetOf(SPONSORED_GAS_ASSET);
  const fee = budgetOf(SPONSORED_FEE_ASSET);
  if (gas === undefined || fee === undefined) return [];
  return [
    `  sponsored gas    at most ${formatAmount(gas.limit, NATIVE_LABEL)} ${formatPeriod(gas.period)} of gas paymasters pay ` +
      `(each op counted at its maximum cost), at most ${formatAmount(fee.limit, SPONSORED_FEE_LABEL)} per gas`,
  ];
}

/** JSON-safe form of a grant plan (bigints as decimal strings), the `--json` output of `session grant`. */
export function grantPlanToJson(plan: GrantPlan) {
  const { session } = plan;
  return {
    chainId: plan.chainId.toString(),
    account: session.account,
    owner: plan.owner,
    sessionId: session.sessionId,
    agent: session.agent,
    validAfter: session.validAfter.toString(),
    validAfterUtc: formatUtc(session.validAfter),
    validUntil: session.validUntil.toString(),
    validUntilUtc: formatUtc(session.validUntil),
    valueCapPerCall: session.valueCapPerCall.toString(),
    canSignMessages: session.canSignMessages,
    scope: session.scope.map((entry, i) => ({
      target: entry.target,
      selector: entry.selector,
      function: plan.functionNames[i]!,
      /** The signature text a signed grant shows and the chain hashes (absent for pseudo-selectors). */
      signature: entry.function,
      rules: (entry.rules ?? []).map((rule) => ({
        argument: rule.argument,
        op: rule.op,
        value: rule.value.toString(),
      })),
    })),
    budgets: session.budgets.map((budget, i) => ({
      asset: budget.asset,
      symbol: plan.budgetAssets[i]!.symbol,
      decimals: plan.budgetAssets[i]!.decimals,
      limit: budget.limit.toString(),
      period: budget.period.toString(),
      perCallCap: budget.perCallCap.toString(),
    })),
    paymasters: session.paymasters,
    epoch: session.epoch,
    nonce: session.nonce.toString(),
    sessionModule: plan.addresses.sessionModule,
    spendLimitHook: plan.addresses.spendLimitHook,
    /** How the owner acts on the account: what it says it is, and the validation the owner's calls name. */
    ownerAccount: {
      accountId: plan.ownerAccount.accountId,
      kind: plan.ownerAccount.kind,
      validation: { ...plan.ownerAccount.validation },
    },
    standingAllowances: {
      tokensChecked: plan.standingAllowances.tokens,
      targetsChecked: plan.standingAllowances.spenders,
      found: plan.standingAllowances.found.map(({ spender, token, amount }) => ({
        spender,
        token: token.address,
        symbol: token.symbol,
        decimals: token.decimals,
        amount: amount.toString(),
        unlimited: amount === UNLIMITED_ALLOWANCE,
      })),
      unreadable: plan.standingAllowances.unreadable.map(({ spender, token, symbol, reason }) => ({
        spender,
        token,
        symbol,
        reason,
      })),
    },
  };
}

/** The JSON form of a grant plan. */
export type GrantPlanJson = ReturnType<typeof grantPlanToJson>;

/** Converts bigints to decimal strings, recursively (for `--json` output). */
export function toJsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, item: unknown) => (typeof item === "bigint" ? item.toString() : item)),
  );
}
