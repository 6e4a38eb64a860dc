/**
 * Agent- and read-side actions on ethers v6: send a signed user op straight to `EntryPoint.handleOps` (local runs,
 * self-bundling), and read a session's status with its remaining budgets.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";

import type { EntryPoint, SessionKeyValidationModule, SpendLimitHook } from "./contracts.js";
import { decodeUserOpRefusal } from "./errors.js";
import { InvalidSessionIdError } from "./inputErrors.js";
import { packUserOp, type UserOperation } from "./userOp.js";

/** The result of an op sent with {@link sendUserOpDirect}. */
export interface SendUserOpDirectReturnType {
  receipt: ContractTransactionReceipt;
  /** Whether the op's execution succeeded (its validation always did, or the call threw). */
  success: boolean;
  /** The execution's revert data when `success` is false. */
  revertData?: string;
}

/**
 * Sends one op in one `handleOps` bundle from `bundler` (which pays the gas and is refunded by the account).
 * A refused op throws the typed error of client/errors.ts (SpendLimitExceededError, SessionOutOfScopeError, …).
 */
export async function sendUserOpDirect(parameters: {
  entryPoint: EntryPoint;
  /** The account that sends `handleOps` (pays the gas, is refunded by the account). */
  submitter: Signer;
  op: UserOperation;
}): Promise<SendUserOpDirectReturnType> {
  const { entryPoint, submitter: bundler, op } = parameters;
  let receipt: ContractTransactionReceipt | null;
  try {
    const tx = await entryPoint.connect(bundler).handleOps([packUserOp(op)], await bundler.getAddress());
    receipt = await tx.wait();
  } catch (error) {
    throw decodeUserOpRefusal(error) ?? error;
  }
  if (receipt === null) throw new Error("handleOps was not mined; check the network");
  let success: boolean | undefined;
  let revertData: string | undefined;
  for (const log of receipt.logs) {
    const parsed = entryPoint.interface.parseLog(log);
    if (parsed?.name === "UserOperationEvent") success = parsed.args.success as boolean;
    if (parsed?.name === "UserOperationRevertReason") revertData = parsed.args.revertReason as string;
  }
  if (success === undefined)
    throw new Error("handleOps emitted no UserOperationEvent: is this an EntryPoint v0.8 or v0.7?");
  return { receipt, success, revertData };
}

/** One budget of a session now: the one budget shape every reader returns (read.ts adds the asset's label). */
export interface BudgetStatus {
  asset: string;
  limit: bigint;
  /** What can still be spent in the current period (a new period counts as full). */
  remaining: bigint;
  /** Period length in seconds (0: the session's lifetime). */
  period: bigint;
  /** Unix time the current period ends and the budget refills (0: never, a lifetime budget). */
  resetsAt: bigint;
  /** Most one call may spend (0: no cap). */
  perCallCap: bigint;
}

/** A session's state as an owner or an agent sees it. */
export interface SessionStatus {
  agent: string;
  /** The grant this session id holds now (a re-grant of the id gets a new one). */
  grantId: bigint;
  validAfter: bigint;
  validUntil: bigint;
  /** Most native value one call may carry, in wei. */
  valueCapPerCall: bigint;
  revoked: boolean;
  /** Granted before the account's last kill switch. */
  killed: boolean;
  /** Would validate now: exists, not revoked, not killed, inside its time range. */
  live: boolean;
  budgets: BudgetStatus[];
}

/** What {@link getSessionStatus} needs. */
export interface GetSessionStatusParameters {
  sessionModule: SessionKeyValidationModule;
  spendLimitHook: SpendLimitHook;
  account: string;
  sessionId: number;
  /** The assets to report budgets for (zero address: native currency). */
  assets: string[];
}

/**
 * Reads a session's status and its remaining budgets: the one chain read of a session every reader builds on
 * (`readSessionStatus`, the session handle). Throws InvalidSessionIdError if the account has no such session.
 */
export async function getSessionStatus(parameters: GetSessionStatusParameters): Promise<SessionStatus> {
  const { sessionModule, spendLimitHook, account, sessionId } = parameters;
  const session = await sessionModule.getSession(account, sessionId);
  if (session.agent === "0x0000000000000000000000000000000000000000") {
    throw new InvalidSessionIdError(
      `--session: account ${account} has no session ${sessionId}; check the id (session list shows them)`,
      "--session",
    );
  }
  const [live, epoch] = await Promise.all([sessionModule.isLive(account, sessionId), sessionModule.epochOf(account)]);
  const budgets = await Promise.all(
    parameters.assets.map(async (asset): Promise<BudgetStatus> => {
      const [stored, [remaining, periodEnd]] = await Promise.all([
        spendLimitHook.getBudget(account, sessionId, asset),
        spendLimitHook.remainingBudget(account, sessionId, asset),
      ]);
      return {
        asset,
        limit: stored.limit,
        remaining,
        period: stored.periodLength,
        resetsAt: periodEnd,
        perCallCap: stored.perCallCap,
      };
    }),
  );
  return {
    agent: session.agent,
    grantId: session.grantId,
    validAfter: session.validAfter,
    validUntil: session.validUntil,
    valueCapPerCall: session.valueCapPerCall,
    revoked: session.revoked,
    killed: session.grantEpoch !== epoch,
    live,
    budgets,
  };
}
