/**
 * The agent's ops: {@link sendSessionUserOp} turns calls into an `execute` / `executeBatch` op that selects the
 * session, adds the spend-limit time hint, signs it with the session key and sends it to a bundler or straight to
 * `EntryPoint.handleOps`. A refused op throws the typed errors of client/errors.ts. The key itself: client/agentKey.ts.
 */
import { concat, ZeroAddress, type Provider, type Signer, type SigningKey } from "ethers";

import {
  ModularAccount__factory,
  SessionKeyValidationModule__factory,
  SpendLimitHook__factory,
  type EntryPoint,
} from "../typechain-types/index.js";
import { sendUserOpDirect } from "./actions.js";
import {
  bundlerTimeHint,
  fillGasAndSign,
  sendUserOpToBundler,
  type GasCaps,
  waitForUserOpReceipt,
  type BundlerClient,
} from "./bundler.js";
import type { ValidationSelection } from "./encoding.js";
import { encodeTimeHint, sessionNonceKey } from "./session.js";
import { buildUserOp, signUserOp, type UserOpGas } from "./userOp.js";

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
}

/** The outcome of an op that passed validation. */
export interface SendSessionUserOpReturnType {
  /** Whether its execution succeeded. */
  success: boolean;
  /** The execution's revert data when it did not (handleOps only; a bundler's receipt gives `reason`). */
  revertData?: string;
  transactionHash: string;
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
 * when the EntryPoint or the bundler refuses it.
 */
export async function sendSessionUserOp(parameters: SendSessionUserOpParameters): Promise<SendSessionUserOpReturnType> {
  const { session, via } = parameters;
  const { entryPoint } = session;
  const provider = entryPoint.runner?.provider;
  if (provider === null || provider === undefined) throw new Error("the EntryPoint contract needs a provider");
  const unsigned = await buildUserOp({
    entryPoint,
    sender: session.account,
    callData: encodeSessionCalls(parameters.calls),
    nonceKey: sessionNonceKey(session.sessionModule, session.sessionId),
    gas: parameters.gas,
  });
  const latest = await latestBlockTime(provider);
  const time = parameters.timeHint ?? ("bundler" in via ? bundlerTimeHint(latest) : latest);
  const selection: ValidationSelection = {
    validation: { module: session.sessionModule, entityId: session.sessionId },
    isGlobal: false,
    hookData: [encodeTimeHint(time)],
  };
  if ("bundler" in via) {
    const values = parameters.calls.reduce((sum, call) => sum + call.value, 0n);
    const op = await fillGasAndSign({
      client: via.bundler,
      entryPoint,
      op: unsigned,
      signingKey: session.signingKey,
      selection,
      caps: parameters.caps,
      nativeBudget: await nativeGasBudget(session, provider, values),
    });
    const receipt = await waitForUserOpReceipt(via.bundler, await sendUserOpToBundler(via.bundler, op));
    return { success: receipt.success, revertData: receipt.reason, transactionHash: receipt.transactionHash };
  }
  const { op } = await signUserOp(entryPoint, unsigned, session.signingKey, selection);
  const result = await sendUserOpDirect(entryPoint, via.submitter, op);
  return { success: result.success, revertData: result.revertData, transactionHash: result.receipt.hash };
}
