/**
 * The session's policy as an agent's tools see it: which functions of which targets it may call (with their
 * parameters and argument rules), which assets it may pay and to whom, built from the owner's session file and
 * checked against the chain (the grant's `SessionGranted` event) before any tool is offered.
 */
import {
  type ArgumentRule,
  encodeArgumentRules,
  encodeExecutionHook,
  encodeModuleEntity,
  encodeValidationHook,
  isPseudoAsset,
  ModularAccount__factory,
  NATIVE_ASSET,
  SELECTOR_ANY,
  SELECTOR_NO_CALLDATA,
  SELECTOR_SIGN,
  type SessionFile,
  SessionKeyValidationModule__factory,
  sessionNonceKey,
  SpendLimitHook__factory,
  readTokenLabel,
} from "@leashkit/client";
import { FunctionFragment, getAddress, type ParamType, type Provider } from "ethers";

/** One function the session may call: the `call` tool's choices. */
export interface PolicyFunction {
  /** What the model names it by: `signature@target`, e.g. `transfer(address,uint256)@0x…`. */
  id: string;
  target: string;
  /** The target's budget symbol if it is a budgeted token, else the address. */
  targetLabel: string;
  signature: string;
  selector: string;
  inputs: readonly ParamType[];
  payable: boolean;
  rules: ArgumentRule[];
}

/** One asset the `pay` tool may send, and to whom. */
export interface PolicyAsset {
  symbol: string;
  /** The token's address, or NATIVE_ASSET for the chain's currency. */
  address: string;
  decimals: number;
  /** Recipients the grant pins (an `eq` rule on the recipient), or undefined if any recipient is allowed. */
  recipients?: string[];
}

/** What the tools offer, with what the grant holds that they cannot describe. */
export interface AgentPolicy {
  session: SessionFile;
  /** The session's ERC-4337 nonce key (its ops' nonces carry it in their high 192 bits). */
  nonceKey: bigint;
  functions: PolicyFunction[];
  assets: PolicyAsset[];
  /** Scope entries no tool offers, and why (a wildcard, a function without its signature in the file, signing). */
  notOffered: string[];
  /** The block of the grant's `SessionGranted` event: the session's history starts there. */
  grantBlock: number;
}

const TRANSFER = FunctionFragment.from("transfer(address,uint256)");
/** The only functions of a budgeted token the spend-limit hook lets through (client/tokenSpend.ts). */
const TOKEN_SPEND_SIGNATURES: ReadonlySet<string> = new Set([
  "transfer(address,uint256)",
  "approve(address,uint256)",
  "increaseAllowance(address,uint256)",
  "transferFrom(address,address,uint256)",
]);

/** Reads the policy from the session file, after checking the chain holds the same grant; throws if it does not. */
export async function readAgentPolicy(parameters: {
  session: SessionFile;
  provider: Provider;
  /** The block to search `SessionGranted` from (default 0). */
  fromBlock?: number;
}): Promise<AgentPolicy> {
  const { session, provider } = parameters;
  const { differences, grantBlock } = await grantDifferences(session, provider, parameters.fromBlock ?? 0);
  if (differences.length !== 0) {
    throw new Error(
      `the session file does not match the grant installed on chain (${differences.join("; ")}): ` +
        "ask the owner for the current session file",
    );
  }
  return policyOf(session, grantBlock);
}

/**
 * How the grant the chain holds for the file's session differs from the file. Empty if they agree:
 * - its latest `SessionGranted` event: agent, window, value cap, signing, and the scope with its argument rules, in
 *   order;
 * - the account: the session module is installed as the session's user-op validation, with the file's spend-limit
 *   hook as its validation hook, and the module names that hook;
 * - the hook: each budget's limit, period and per-call cap, no budget the file omits, each paymaster allowed;
 * - the tokens: each budget's decimals as the token reports them (the model pays in units, scaled by them). The
 *   symbol may be the owner's address-book name, so it is not compared; {@link policyOf} refuses two budgets sharing
 *   one.
 */
export async function grantDifferences(
  session: SessionFile,
  provider: Provider,
  fromBlock: number,
): Promise<{ differences: string[]; grantBlock: number }> {
  const module = SessionKeyValidationModule__factory.connect(session.sessionModule, provider);
  const events = await module.queryFilter(module.filters.SessionGranted(session.account, session.sessionId), fromBlock);
  const last = events.at(-1);
  if (last === undefined) {
    return {
      differences: [`no grant of session ${session.sessionId} to ${session.account} on this chain`],
      grantBlock: 0,
    };
  }
  const granted = last.args;
  const differences: string[] = [];
  const compare = (field: string, file: unknown, chain: unknown) => {
    if (String(file) !== String(chain)) differences.push(`${field}: file ${String(file)}, chain ${String(chain)}`);
  };
  compare("agent", getAddress(session.agent), getAddress(granted.agent));
  compare("validAfter", session.validAfter, granted.validAfter);
  compare("validUntil", session.validUntil, granted.validUntil);
  compare("valueCapPerCall", session.valueCapPerCall, granted.valueCapPerCall);
  compare("canSignMessages", session.canSignMessages, granted.canSignMessages);
  compare(
    "targets",
    session.scope.map((entry) => getAddress(entry.target)),
    granted.targets.map((t) => getAddress(t)),
  );
  compare(
    "selectors",
    session.scope.map((entry) => entry.selector.toLowerCase()),
    granted.selectors.map((s) => s.toLowerCase()),
  );
  compare("argument rules", encodeArgumentRules(session.scope), [...granted.argumentRules]);
  differences.push(...(await enforcementDifferences(session, provider, last.blockNumber)));
  return { differences, grantBlock: last.blockNumber };
}

/** The account, hook and token half of {@link grantDifferences}. */
async function enforcementDifferences(session: SessionFile, provider: Provider, grantBlock: number): Promise<string[]> {
  const differences: string[] = [];
  const module = SessionKeyValidationModule__factory.connect(session.sessionModule, provider);
  const account = ModularAccount__factory.connect(session.account, provider);
  const validation = { module: session.sessionModule, entityId: session.sessionId };
  const [moduleHook, installed] = await Promise.all([
    module.SPEND_LIMIT_HOOK(),
    account.getValidationData(encodeModuleEntity(validation)),
  ]);
  if (getAddress(moduleHook) !== getAddress(session.spendLimitHook)) {
    differences.push(`spendLimitHook: file ${session.spendLimitHook}, the session module's ${moduleHook}`);
  }
  if ((installed.validationFlags & 1n) === 0n) {
    differences.push(
      `the account has no user-op validation installed for ${session.sessionModule} session ${session.sessionId}`,
    );
  }
  const expectedHook = encodeValidationHook({ module: session.spendLimitHook, entityId: session.sessionId });
  if (!installed.validationHooks.some((hook) => hook.toLowerCase() === expectedHook.toLowerCase())) {
    differences.push(`the account runs no spend-limit hook ${session.spendLimitHook} for the session's validation`);
  }
  // The execution hook measures what leaves the account beyond what calldata says (pulls, fallbacks: THREATS 21).
  const executionHook = encodeExecutionHook(
    { module: session.spendLimitHook, entityId: session.sessionId },
    { pre: true, post: true },
  );
  if (!installed.executionHooks.some((hook) => hook.toLowerCase() === executionHook.toLowerCase())) {
    differences.push(`the account runs no spend-limit execution hook ${session.spendLimitHook} for the session`);
  }
  // The budgets below are read from the file's hook: only once it is the one the chain enforces.
  if (differences.length !== 0) return differences;

  const hook = SpendLimitHook__factory.connect(session.spendLimitHook, provider);
  const fileAssets = new Set(session.budgets.map((budget) => getAddress(budget.asset)));
  for (const budget of session.budgets) {
    const chain = await hook.getBudget(session.account, session.sessionId, budget.asset);
    const label = `budget ${budget.symbol}`;
    if (chain.limit === 0n) {
      differences.push(`${label}: the hook holds no budget for ${budget.asset}`);
      continue;
    }
    if (chain.limit !== budget.limit) differences.push(`${label} limit: file ${budget.limit}, chain ${chain.limit}`);
    if (chain.periodLength !== budget.period) {
      differences.push(`${label} period: file ${budget.period}, chain ${chain.periodLength}`);
    }
    if (chain.perCallCap !== budget.perCallCap) {
      differences.push(`${label} perCallCap: file ${budget.perCallCap}, chain ${chain.perCallCap}`);
    }
    if (isPseudoAsset(budget.asset)) continue;
    const token = await readTokenLabel({ provider, token: budget.asset, field: label }).catch((error: unknown) => ({
      error: error instanceof Error ? error.message : String(error),
    }));
    if ("error" in token) {
      differences.push(token.error);
      continue;
    }
    if (token.decimals !== budget.decimals) {
      differences.push(`${label} decimals: file ${budget.decimals}, token ${token.decimals}`);
    }
  }
  // A budget the file omits would make the hook refuse what the tools offer (or charge what they do not show).
  const installs = await hook.queryFilter(
    hook.filters.SpendLimitInstalled(session.account, session.sessionId),
    grantBlock,
  );
  const from = installs.at(-1)?.blockNumber ?? grantBlock;
  const sets = await hook.queryFilter(hook.filters.BudgetSet(session.account, session.sessionId), from);
  for (const asset of new Set(sets.map((event) => getAddress(event.args.asset)))) {
    if (fileAssets.has(asset)) continue;
    const chain = await hook.getBudget(session.account, session.sessionId, asset);
    if (chain.limit !== 0n) differences.push(`the hook holds a budget for ${asset} that the file does not list`);
  }
  for (const paymaster of session.paymasters) {
    if (!(await hook.isPaymasterAllowed(session.account, session.sessionId, paymaster))) {
      differences.push(`paymaster ${paymaster}: listed in the file, not allowed on chain`);
    }
  }
  return differences;
}

/** The policy a session file describes (no chain read: {@link readAgentPolicy} checks the chain first). */
export function policyOf(session: SessionFile, grantBlock = 0): AgentPolicy {
  const symbols = new Map<string, string>();
  for (const budget of session.budgets) {
    const symbol = budget.symbol.toUpperCase();
    const other = symbols.get(symbol) ?? (symbol === "ETH" && BigInt(budget.asset) !== 0n ? NATIVE_ASSET : undefined);
    if (other !== undefined) {
      throw new Error(
        `two budgets of the session file share the symbol ${budget.symbol} (${other} and ${budget.asset}): the ` +
          "model pays by symbol, so one of them would be paid for the other; ask the owner to grant distinct tokens",
      );
    }
    symbols.set(symbol, budget.asset);
  }
  const functions: PolicyFunction[] = [];
  const notOffered: string[] = [];
  const nativeRecipients: string[] = [];
  const budgetOf = (address: string) =>
    session.budgets.find((budget) => BigInt(budget.asset) > 3n && getAddress(budget.asset) === getAddress(address));
  for (const entry of session.scope) {
    const target = getAddress(entry.target);
    if (entry.selector === SELECTOR_NO_CALLDATA) {
      nativeRecipients.push(target);
      continue;
    }
    if (entry.selector === SELECTOR_ANY) {
      notOffered.push(`any function of ${target} (a wildcard entry: name the function through a scoped entry)`);
      continue;
    }
    if (entry.selector === SELECTOR_SIGN) {
      notOffered.push(`signing typed data for ${target}`);
      continue;
    }
    if (entry.function === undefined) {
      notOffered.push(`selector ${entry.selector} of ${target} (the session file does not name its function)`);
      continue;
    }
    const fragment = FunctionFragment.from(entry.function);
    if (fragment.selector !== entry.selector) {
      throw new Error(
        `the session file names ${entry.function} for selector ${entry.selector} of ${target}, whose selector is ` +
          `${fragment.selector}: the file is corrupt`,
      );
    }
    const signature = fragment.format("sighash");
    if (budgetOf(target) !== undefined && !TOKEN_SPEND_SIGNATURES.has(signature)) {
      notOffered.push(
        `${signature} of ${budgetOf(target)!.symbol} (the spend-limit hook refuses every function of a budgeted ` +
          "token but transfer, approve, increaseAllowance and transferFrom)",
      );
      continue;
    }
    functions.push({
      id: `${signature}@${target}`,
      target,
      targetLabel: budgetOf(target)?.symbol ?? target,
      signature,
      selector: entry.selector,
      inputs: fragment.inputs,
      payable: fragment.payable,
      rules: entry.rules,
    });
  }
  const assets: PolicyAsset[] = [];
  const native = session.budgets.find((budget) => BigInt(budget.asset) === 0n);
  if (native !== undefined && nativeRecipients.length !== 0) {
    assets.push({
      symbol: native.symbol,
      address: NATIVE_ASSET,
      decimals: native.decimals,
      recipients: nativeRecipients,
    });
  }
  for (const budget of session.budgets) {
    if (BigInt(budget.asset) <= 3n) continue;
    const transfer = functions.find(
      (fn) => fn.target === getAddress(budget.asset) && fn.selector === TRANSFER.selector,
    );
    if (transfer === undefined) continue;
    const pinned = transfer.rules.filter((rule) => rule.argument === 0 && rule.op === "eq");
    assets.push({
      symbol: budget.symbol,
      address: getAddress(budget.asset),
      decimals: budget.decimals,
      recipients:
        pinned.length === 0
          ? undefined
          : pinned.map((rule) => getAddress(`0x${rule.value.toString(16).padStart(40, "0")}`)),
    });
  }
  return {
    session,
    nonceKey: sessionNonceKey(session.sessionModule, session.sessionId),
    functions,
    assets,
    notOffered,
    grantBlock,
  };
}

/** A rule in words, naming the argument by its parameter. */
export function describeRule(fn: PolicyFunction, rule: ArgumentRule): string {
  const input = fn.inputs[rule.argument];
  const name = input === undefined ? `argument ${rule.argument}` : input.name || `argument ${rule.argument}`;
  const value =
    input?.type === "address" ? getAddress(`0x${rule.value.toString(16).padStart(40, "0")}`) : rule.value.toString();
  const op = rule.op === "eq" ? "must be" : rule.op === "le" ? "must be at most" : "must be at least";
  return `${name} ${op} ${value}`;
}
