/**
 * Agent-side actions against an ERC-4337 bundler (ERC-7769 JSON-RPC: `eth_estimateUserOperationGas`,
 * `eth_sendUserOperation`, `eth_getUserOperationReceipt`), for EntryPoint v0.8 or v0.7. Ops are the unpacked
 * {@link UserOperation} of client/userOp.ts; a refusal comes back as the typed errors of client/errors.ts, decoded
 * from the bundler's "AAxx …" message and the module's revert data in it.
 */
import { getBytes, hexlify, type JsonRpcProvider, type Provider, toBeHex, type SigningKey } from "ethers";

import { EntryPoint__factory, type EntryPoint } from "./contracts.js";
import type { ValidationSelection } from "./encoding.js";
import {
  decodeUserOpRefusal,
  GasCapExceededError,
  NonceConflictError,
  SessionRevokedError,
  UserOpOutcomeUnknownError,
  UserOpRefusedError,
  UserOpTimeoutError,
} from "./errors.js";
import { isTransientRpcError, ResilientJsonRpcProvider, RpcUnavailableError, type RetryPolicy } from "./transport.js";
import { signUserOp, type UserOperation } from "./userOp.js";

/** Length of the paymaster address in `paymasterAndData`. */
const PAYMASTER_ADDRESS_BYTES = 20;
/** Length of each of the two paymaster gas limits (uint128) that follow the paymaster address. */
const PAYMASTER_GAS_BYTES = 16;
/** Length of the factory address at the start of `initCode`. */
const FACTORY_ADDRESS_BYTES = 20;
/** How often {@link waitForUserOpReceipt} asks the bundler, in milliseconds. */
const RECEIPT_POLL_MS = 250;
/** How long {@link waitForUserOpReceipt} waits by default, in milliseconds. */
const RECEIPT_TIMEOUT_MS = 30_000;

/** A user op as bundlers take it over JSON-RPC (EntryPoint v0.7 / v0.8): quantities as hex, optional fields split. */
export interface RpcUserOperation {
  sender: string;
  nonce: string;
  factory?: string;
  factoryData?: string;
  callData: string;
  callGasLimit: string;
  verificationGasLimit: string;
  preVerificationGas: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  paymaster?: string;
  paymasterVerificationGasLimit?: string;
  paymasterPostOpGasLimit?: string;
  paymasterData?: string;
  signature: string;
}

/** Converts an unpacked op to the bundler's JSON-RPC form. */
export function toRpcUserOp(op: UserOperation): RpcUserOperation {
  const rpc: RpcUserOperation = {
    sender: op.sender,
    nonce: toBeHex(op.nonce),
    callData: op.callData,
    callGasLimit: toBeHex(op.callGasLimit),
    verificationGasLimit: toBeHex(op.verificationGasLimit),
    preVerificationGas: toBeHex(op.preVerificationGas),
    maxFeePerGas: toBeHex(op.maxFeePerGas),
    maxPriorityFeePerGas: toBeHex(op.maxPriorityFeePerGas),
    signature: op.signature,
  };
  const initCode = getBytes(op.initCode);
  if (initCode.length > 0) {
    rpc.factory = hexlify(initCode.slice(0, FACTORY_ADDRESS_BYTES));
    rpc.factoryData = hexlify(initCode.slice(FACTORY_ADDRESS_BYTES));
  }
  const paymasterAndData = getBytes(op.paymasterAndData);
  if (paymasterAndData.length > 0) {
    const gasStart = PAYMASTER_ADDRESS_BYTES;
    const dataStart = gasStart + 2 * PAYMASTER_GAS_BYTES;
    if (paymasterAndData.length < dataStart) {
      throw new Error("paymasterAndData is shorter than paymaster ‖ verification gas (16) ‖ post-op gas (16)");
    }
    rpc.paymaster = hexlify(paymasterAndData.slice(0, gasStart));
    const postOpStart = gasStart + PAYMASTER_GAS_BYTES;
    rpc.paymasterVerificationGasLimit = toBeHex(BigInt(hexlify(paymasterAndData.slice(gasStart, postOpStart))));
    rpc.paymasterPostOpGasLimit = toBeHex(BigInt(hexlify(paymasterAndData.slice(postOpStart, dataStart))));
    rpc.paymasterData = hexlify(paymasterAndData.slice(dataStart));
  }
  return rpc;
}

/**
 * The time a session op sent to a bundler should claim in its spend-limit time hint: the latest block's time, but
 * never past the local clock, which bundlers check an op's validity window against (ERC-7769 -32503 "not valid
 * yet"). A local chain that mines many blocks a second runs ahead of that clock.
 */
export function bundlerTimeHint(latestBlockTime: bigint, nowMs: number = Date.now()): bigint {
  const clock = BigInt(Math.floor(nowMs / 1000));
  return latestBlockTime < clock ? latestBlockTime : clock;
}

/** A bundler endpoint and the EntryPoint its ops go to. */
export interface BundlerClient {
  provider: JsonRpcProvider;
  entryPoint: string;
  /** How refusals name the service (default: "bundler"). */
  label?: string;
}

/**
 * Connects to a bundler's JSON-RPC URL for `entryPoint` (no batching: some bundlers refuse batches). Reads that get
 * no answer (the bundler restarting, a timeout, a rate limit) are retried with backoff ({@link ResilientJsonRpcProvider});
 * sending an op is retried by {@link sendAndWaitForUserOp}, by the op's hash.
 */
export function createBundlerClient(parameters: {
  url: string;
  entryPoint: string;
  /** How long and how often a read is retried (default DEFAULT_RETRY_POLICY). */
  retry?: Partial<RetryPolicy>;
}): BundlerClient {
  const { url, entryPoint } = parameters;
  const label = `bundler ${url}`;
  const provider = new ResilientJsonRpcProvider(url, { label, policy: parameters.retry });
  return { provider, entryPoint, label };
}

/**
 * The most an agent signs for, whatever a bundler or paymaster service answers (THREATS 32). Limits are gas units;
 * `maxFeePerGas` and `maxCost` are wei. Every field over its cap is refused with {@link GasCapExceededError} before
 * anything is signed with it.
 */
export interface GasCaps {
  verificationGasLimit: bigint;
  callGasLimit: bigint;
  preVerificationGas: bigint;
  /** Paymaster verification and post-op gas limits, each. */
  paymasterGasLimit: bigint;
  /** Most fee per gas the op may offer (undefined: no cap beyond `maxCost` and the budget). */
  maxFeePerGas?: bigint;
  /** Most the op may cost at its maximum, `(sum of gas limits) × maxFeePerGas` (undefined: the budget only). */
  maxCost?: bigint;
}

/**
 * Default caps: well above what a Leash session op needs on an L1 or a rollup (its validation takes about 150,000
 * gas, its estimate on Alto about 200,000), and far below what drains a budget. A chain whose `preVerificationGas`
 * carries large L1 data fees (e.g. Arbitrum) may need a higher `preVerificationGas` cap.
 */
export const DEFAULT_GAS_CAPS: GasCaps = {
  verificationGasLimit: 2_000_000n,
  callGasLimit: 10_000_000n,
  preVerificationGas: 2_000_000n,
  paymasterGasLimit: 1_000_000n,
};

/** The op's maximum gas cost, as EntryPoint v0.8 and v0.7 compute its prefund: every gas limit times `maxFeePerGas`. */
export function maxGasCost(op: UserOperation): bigint {
  const paymasterAndData = getBytes(op.paymasterAndData);
  let paymasterGas = 0n;
  if (paymasterAndData.length >= PAYMASTER_ADDRESS_BYTES + 2 * PAYMASTER_GAS_BYTES) {
    const { verification, postOp } = paymasterGasLimits(paymasterAndData);
    paymasterGas = verification + postOp;
  }
  return (op.verificationGasLimit + op.callGasLimit + op.preVerificationGas + paymasterGas) * op.maxFeePerGas;
}

function paymasterGasLimits(paymasterAndData: Uint8Array): { verification: bigint; postOp: bigint } {
  const gasStart = PAYMASTER_ADDRESS_BYTES;
  const postOpStart = gasStart + PAYMASTER_GAS_BYTES;
  return {
    verification: BigInt(hexlify(paymasterAndData.slice(gasStart, postOpStart))),
    postOp: BigInt(hexlify(paymasterAndData.slice(postOpStart, postOpStart + PAYMASTER_GAS_BYTES))),
  };
}

/** What {@link checkGasCaps} needs. */
export interface CheckGasCapsParameters {
  op: UserOperation;
  caps: GasCaps;
  /** The service whose answer filled the op, for the refusal's message. */
  service: string;
  /**
   * The most the op's gas may cost the account in wei: the session's remaining native budget less the op's call
   * values (undefined when a paymaster pays, or the budget is unknown).
   */
  nativeBudget?: bigint;
}

/** Throws {@link GasCapExceededError} for the first field of `op` over its cap; returns the op's maximum gas cost. */
export function checkGasCaps(parameters: CheckGasCapsParameters): bigint {
  const { op, caps, service } = parameters;
  const refuse = (field: string, requested: bigint, cap: bigint, hint: string) => {
    if (requested > cap) throw new GasCapExceededError(service, field, requested, cap, hint);
  };
  const raise = (field: string) => `raise GasCaps.${field} if the service is right`;
  refuse("verificationGasLimit", op.verificationGasLimit, caps.verificationGasLimit, raise("verificationGasLimit"));
  refuse("callGasLimit", op.callGasLimit, caps.callGasLimit, raise("callGasLimit"));
  refuse("preVerificationGas", op.preVerificationGas, caps.preVerificationGas, raise("preVerificationGas"));
  const paymasterAndData = getBytes(op.paymasterAndData);
  if (paymasterAndData.length >= PAYMASTER_ADDRESS_BYTES + 2 * PAYMASTER_GAS_BYTES) {
    const { verification, postOp } = paymasterGasLimits(paymasterAndData);
    refuse("paymasterVerificationGasLimit", verification, caps.paymasterGasLimit, raise("paymasterGasLimit"));
    refuse("paymasterPostOpGasLimit", postOp, caps.paymasterGasLimit, raise("paymasterGasLimit"));
  }
  if (caps.maxFeePerGas !== undefined) {
    refuse("maxFeePerGas", op.maxFeePerGas, caps.maxFeePerGas, raise("maxFeePerGas"));
  }
  const cost = maxGasCost(op);
  if (caps.maxCost !== undefined) refuse("maxCost", cost, caps.maxCost, raise("maxCost"));
  if (parameters.nativeBudget !== undefined) {
    refuse(
      "maxGasCost",
      cost,
      parameters.nativeBudget,
      "more than the session's remaining native budget allows after the op's values; wait for the next period",
    );
  }
  return cost;
}

/** Runs a bundler call; a refusal it reports becomes the typed error of client/errors.ts. */
async function call<T>(client: BundlerClient, method: string, params: unknown[]): Promise<T> {
  try {
    return (await client.provider.send(method, params)) as T;
  } catch (error) {
    throw decodeUserOpRefusal(error) ?? error;
  }
}

/** Gas limits a bundler estimated for an op. */
export interface UserOpGasEstimate {
  verificationGasLimit: bigint;
  callGasLimit: bigint;
  preVerificationGas: bigint;
}

/**
 * Asks the bundler to estimate the op's gas limits. The op must carry a signature its validation accepts (a Leash
 * session checks the signature and the scope during the estimate): sign it once with provisional limits first.
 */
export async function estimateUserOpGas(parameters: {
  client: BundlerClient;
  op: UserOperation;
}): Promise<UserOpGasEstimate> {
  const { client, op } = parameters;
  const estimate = await call<Record<string, string>>(client, "eth_estimateUserOperationGas", [
    toRpcUserOp(op),
    client.entryPoint,
  ]);
  const field = (name: string): bigint => {
    const value = estimate[name];
    if (value === undefined) throw new Error(`the bundler's estimate has no ${name}: is it an ERC-4337 bundler?`);
    return BigInt(value);
  };
  return {
    verificationGasLimit: field("verificationGasLimit"),
    callGasLimit: field("callGasLimit"),
    preVerificationGas: field("preVerificationGas"),
  };
}

/** What {@link fillGasAndSign} needs. */
export interface FillGasAndSignParameters {
  client: BundlerClient;
  entryPoint: EntryPoint;
  /** The op with provisional gas limits (they must let its validation run) and its fees. */
  op: UserOperation;
  signingKey: SigningKey;
  selection: ValidationSelection;
  /** The most the agent signs for (default {@link DEFAULT_GAS_CAPS}); the provisional op must be within them too. */
  caps?: GasCaps;
  /** The most the op's gas may cost the account, in wei (see {@link CheckGasCapsParameters.nativeBudget}). */
  nativeBudget?: bigint;
}

/**
 * Signs the op with its provisional limits, has the bundler estimate the real ones, checks them against the caps
 * and the session's native budget (THREATS 32), and signs again with them. Each estimated limit is used as is: a
 * Leash session's native budget pays the op's maximum gas cost, so padding the limits would spend budget for nothing.
 * Throws {@link GasCapExceededError}, naming the bundler, before signing anything over the caps.
 */
export async function fillGasAndSign(parameters: FillGasAndSignParameters): Promise<UserOperation> {
  const { client, entryPoint, signingKey, selection } = parameters;
  const caps = parameters.caps ?? DEFAULT_GAS_CAPS;
  const { nativeBudget } = parameters;
  // The provisional op is only sent for the estimate; its limits are the caller's own, within the caps.
  checkGasCaps({ op: parameters.op, caps, service: "caller (provisional gas)" });
  const provisional = await signUserOp({ entryPoint, op: parameters.op, signingKey, selection });
  const estimate = await estimateUserOpGas({ client, op: provisional.op });
  const filled = { ...parameters.op, ...estimate };
  checkGasCaps({ op: filled, caps, service: client.label ?? "bundler", nativeBudget });
  const signed = await signUserOp({ entryPoint, op: filled, signingKey, selection });
  return signed.op;
}

/** The receipt a bundler returns for an included op (the fields Leash reads). */
export interface UserOpReceipt {
  userOpHash: string;
  success: boolean;
  actualGasCost: bigint;
  actualGasUsed: bigint;
  /** The execution's revert data when `success` is false, else undefined. */
  reason?: string;
  transactionHash: string;
}

/** Sends a signed op to the bundler; returns its user op hash. A refused op throws its typed error. */
export async function sendUserOpToBundler(parameters: { client: BundlerClient; op: UserOperation }): Promise<string> {
  const { client, op } = parameters;
  return call<string>(client, "eth_sendUserOperation", [toRpcUserOp(op), client.entryPoint]);
}

/**
 * Waits for the op to be included and returns its receipt, asking the bundler (a bundler that does not answer for a
 * while is asked again); throws {@link UserOpTimeoutError}, carrying the hash, after `timeoutMs`. To also send the op
 * again when the bundler lost it, and read the chain when the bundler cannot say, use {@link sendAndWaitForUserOp}.
 */
export async function waitForUserOpReceipt(parameters: {
  client: BundlerClient;
  userOpHash: string;
  /** Default 30 s. */
  timeoutMs?: number;
}): Promise<UserOpReceipt> {
  const { client, userOpHash, timeoutMs = RECEIPT_TIMEOUT_MS } = parameters;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await bundlerReceipt(client, userOpHash);
    if (receipt !== undefined) return receipt;
    if (Date.now() > deadline) throw new UserOpTimeoutError(userOpHash, timeoutMs, client.label ?? "bundler");
    await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
  }
}

/** A bundler's "too many ops of this sender" answers (Alto's words), which mean "later", not "never". */
const BUNDLER_FULL = /Maximum number of (parallel|queued) user operations/i;

/** How long {@link sendAndWaitForUserOp} waits by default, in milliseconds. */
const SEND_TIMEOUT_MS = 60_000;
/** How long an op may be unknown to the bundler and the chain before it is sent again, in milliseconds. */
const RESUBMIT_AFTER_MS = 4_000;

/** How far back before the op's first possible block {@link sendAndWaitForUserOp} looks for it and its nonce's op. */
const LOOKBACK_BLOCKS = 256;

/**
 * Where an op stands, read from the chain: its `UserOperationEvent` (and `UserOperationRevertReason`) from
 * `fromBlock` on, or undefined if it was not included. The chain's word, whatever the bundler says or forgot.
 */
export async function findUserOpReceipt(parameters: {
  provider: Provider;
  entryPoint: string;
  userOpHash: string;
  fromBlock: number;
}): Promise<UserOpReceipt | undefined> {
  const { provider, userOpHash, fromBlock } = parameters;
  const entryPoint = EntryPoint__factory.connect(parameters.entryPoint, provider);
  const [event] = await entryPoint.queryFilter(entryPoint.filters.UserOperationEvent(userOpHash), fromBlock);
  return event === undefined ? undefined : receiptOf(entryPoint, event);
}

/** The fields of a `UserOperationEvent` log that a receipt is made of. */
interface UserOperationEventLog {
  args: { userOpHash: string; success: boolean; actualGasCost: bigint; actualGasUsed: bigint };
  blockNumber: number;
  transactionHash: string;
}

/** The receipt of an included op, from its event (and its revert reason, if it reverted). */
async function receiptOf(entryPoint: EntryPoint, event: UserOperationEventLog): Promise<UserOpReceipt> {
  const { userOpHash } = event.args;
  const reverts = event.args.success
    ? []
    : await entryPoint.queryFilter(
        entryPoint.filters.UserOperationRevertReason(userOpHash),
        event.blockNumber,
        event.blockNumber,
      );
  const reason = reverts[0]?.args.revertReason;
  return {
    userOpHash,
    success: event.args.success,
    actualGasCost: event.args.actualGasCost,
    actualGasUsed: event.args.actualGasUsed,
    reason: reason !== undefined && reason !== "0x" ? reason : undefined,
    transactionHash: event.transactionHash,
  };
}

/** What {@link sendAndWaitForUserOp} needs. */
export interface SendAndWaitParameters {
  client: BundlerClient;
  /** A node of the op's chain: whether the op was included is read from the EntryPoint's events there. */
  provider: Provider;
  /** The signed op, sent as is every time: it is never signed again here. */
  op: UserOperation;
  userOpHash: string;
  /** The first block the op could be included in (default: the latest block when called). */
  fromBlock?: number;
  /** Give up after this many milliseconds (default 60,000) with {@link UserOpTimeoutError}, carrying the hash. */
  timeoutMs?: number;
  /** Send the same op again after it has been unknown to the bundler and the chain this long (default 4,000). */
  resubmitAfterMs?: number;
  /** Called when the op is sent again (e.g. to count resubmissions). */
  onResubmit?: (userOpHash: string, reason: string) => void;
  /**
   * Whether a refusal of the op sent again also rules out the op the bundler may still hold, from the chain's state
   * (e.g. the session is revoked, or the budget the op needs is spent for the period the op is valid in). Default:
   * a {@link SessionRevokedError} only. A refusal that does not stand is waited out: the held op may be included.
   */
  refusalStands?: (refusal: UserOpRefusedError) => Promise<boolean>;
}

/** The low 64 bits of a nonce: its sequence number within its key. */
const SEQUENCE_MASK = (1n << 64n) - 1n;

/**
 * Sends a signed op and waits until the chain has it, idempotently by its hash, through a bundler that may restart,
 * time out, rate-limit, lose its mempool or lie. Only the chain settles an op: its `UserOperationEvent`, or the
 * event of another op at its nonce.
 * - The same signed op is sent again (never a new one) when the chain does not have it and the bundler does not
 *   show it (Alto shows only included ops by hash: a pending op is sent again and answered "already known").
 * - Inclusion is read from the chain; the bundler's receipt is a hint that makes the client look (a receipt the
 *   chain does not confirm, or one it cannot read, is not believed).
 * - A refusal is read against the chain first: the EntryPoint's nonce for the op's key, then the events of the
 *   op's sender. The op included: its receipt. Another op included at its nonce: {@link NonceConflictError}, naming
 *   it. Otherwise AA25 (another op of the nonce held by the bundler) is waited out, since either may win. Any other
 *   refusal is final and typed when the bundler never held the op; when it may have (it accepted the op, or an
 *   answer was lost), only if `refusalStands`, else it is waited out: the op it holds may still be included.
 * - Past `timeoutMs`, {@link UserOpTimeoutError} carries the hash, sender, nonce and the last refusal: the op may
 *   still be included. A failure to read the chain after the op was sent (a node gone for good) is
 *   {@link UserOpOutcomeUnknownError} with the same fields, never an error that reads as "not sent".
 */
export async function sendAndWaitForUserOp(parameters: SendAndWaitParameters): Promise<UserOpReceipt> {
  const { client, provider, op, userOpHash } = parameters;
  const timeoutMs = parameters.timeoutMs ?? SEND_TIMEOUT_MS;
  const resubmitAfterMs = parameters.resubmitAfterMs ?? RESUBMIT_AFTER_MS;
  const refusalStands =
    parameters.refusalStands ?? (async (refusal: UserOpRefusedError) => refusal instanceof SessionRevokedError);
  const deadline = Date.now() + timeoutMs;
  const service = client.label ?? "bundler";
  const fromBlock = parameters.fromBlock ?? (await provider.getBlockNumber());
  const searchFrom = Math.max(0, fromBlock - LOOKBACK_BLOCKS);
  const entryPoint = EntryPoint__factory.connect(client.entryPoint, provider);
  const sequence = op.nonce & SEQUENCE_MASK;

  /**
   * The chain's word on the op: its receipt; the hash of the other op included at its nonce; or "open". The nonce
   * is read before the events, so an op included in between is found. A nonce past the op's with no event found
   * (a node behind, or an op older than the look-back) is "open": only an event settles.
   */
  const settle = async (): Promise<UserOpReceipt | { winner: string } | "open"> => {
    const next = await entryPoint.getNonce(op.sender, op.nonce >> 64n);
    const events = await entryPoint.queryFilter(
      entryPoint.filters.UserOperationEvent(undefined, op.sender),
      searchFrom,
    );
    const mine = events.find((event) => event.args.userOpHash === userOpHash);
    if (mine !== undefined) return receiptOf(entryPoint, mine);
    if ((next & SEQUENCE_MASK) <= sequence) return "open";
    const winner = events.find((event) => event.args.nonce === op.nonce);
    return winner === undefined ? "open" : { winner: winner.args.userOpHash };
  };
  const conflict = (winner: string, refusal: UserOpRefusedError | undefined) =>
    new NonceConflictError(
      op.sender,
      op.nonce,
      userOpHash,
      refusal ?? new UserOpRefusedError("AA25 invalid account nonce", "AA25"),
      winner,
    );

  /** Whether the bundler may hold the op: it accepted it, or an answer to sending it was lost. */
  let mayHold = false;
  /** The last refusal of the op sent again while the bundler may hold it: waited out, reported at the deadline. */
  let lastRefusal: UserOpRefusedError | undefined;

  /** Sends the op; returns a receipt if the chain already has it, undefined if it is (or may be) pending. */
  const submit = async (): Promise<UserOpReceipt | undefined> => {
    try {
      await sendUserOpToBundler({ client, op });
      mayHold = true;
      return undefined;
    } catch (error) {
      // No answer: the bundler may have taken it.
      if (isTransientRpcError(error) || error instanceof RpcUnavailableError) {
        mayHold = true;
        return undefined;
      }
      const message = messageOf(error);
      if (message.includes("Already known")) {
        mayHold = true;
        return undefined;
      }
      // The bundler holds as many ops of this sender as it takes (ERC-7562's per-sender limits): not refused, only
      // not taken yet. It is sent again once the bundler has room (it then knows the op, or the chain has it).
      if (BUNDLER_FULL.test(message)) return undefined;
      // An answer that is no AA refusal (e.g. a fee floor): unreadable on the first send; once the bundler may hold
      // the op, a refusal of this copy only, like any other.
      if (!(error instanceof UserOpRefusedError) && !mayHold) throw error;
      const refusal =
        error instanceof UserOpRefusedError
          ? error
          : new UserOpRefusedError(`the ${service} refused the op sent again: ${message.slice(0, 300)}`, "bundler");
      const state = await settle();
      if (state === "open") {
        // Another op holds this nonce at the bundler and is not included yet: either may still win.
        if (refusal.reason.startsWith("AA25")) return undefined;
        if (!mayHold) throw refusal;
        if (await refusalStands(refusal)) {
          // What rules the held op out may be the held op itself, included since (a node behind at the first read):
          // the chain is asked once more before the refusal stands.
          const again = await settle();
          if (again === "open") throw refusal;
          if ("winner" in again) throw conflict(again.winner, refusal);
          return again;
        }
        lastRefusal = refusal;
        return undefined;
      }
      if ("winner" in state) throw conflict(state.winner, refusal);
      return state;
    }
  };

  /** The op's receipt if the chain has it; throws NonceConflictError if another op took its nonce. */
  const settledReceipt = async (): Promise<UserOpReceipt | undefined> => {
    const state = await settle();
    if (state === "open") return undefined;
    if ("winner" in state) throw conflict(state.winner, lastRefusal);
    return state;
  };

  const outcomeUnknown = (error: unknown) =>
    error instanceof UserOpRefusedError || error instanceof UserOpOutcomeUnknownError
      ? error
      : new UserOpOutcomeUnknownError(userOpHash, service, op.sender, op.nonce, error);

  let receipt: UserOpReceipt | undefined;
  try {
    receipt = await submit();
  } catch (error) {
    // Refused at once, or the bundler's answer could not be read: a typed refusal is final; anything else may have
    // been sent.
    throw outcomeUnknown(error);
  }
  let lastSeen = Date.now();
  try {
    while (receipt === undefined) {
      if (Date.now() > deadline) {
        receipt = await settledReceipt();
        if (receipt !== undefined) break;
        throw new UserOpTimeoutError(userOpHash, timeoutMs, service, op.sender, op.nonce, lastRefusal);
      }
      // The bundler's receipt only says where to look: the chain confirms it (by the op's hash, one log query).
      if ((await bundlerReceipt(client, userOpHash)) !== undefined) {
        receipt = await findUserOpReceipt({
          provider,
          entryPoint: client.entryPoint,
          userOpHash,
          fromBlock: searchFrom,
        });
        if (receipt !== undefined) break;
      }
      if (Date.now() - lastSeen >= resubmitAfterMs) {
        receipt = await settledReceipt();
        if (receipt !== undefined) break;
        if (!(await bundlerKnows(client, userOpHash))) {
          parameters.onResubmit?.(userOpHash, "the chain does not have the op and the bundler does not show it");
          receipt = await submit();
          if (receipt !== undefined) break;
        }
        lastSeen = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
    }
  } catch (error) {
    throw outcomeUnknown(error);
  }
  return receipt;
}

/**
 * The bundler's receipt of the op, or undefined: not included yet, the bundler did not answer, or answered
 * something that is not a receipt. A hint only: {@link sendAndWaitForUserOp} has the chain confirm it.
 */
async function bundlerReceipt(client: BundlerClient, userOpHash: string): Promise<UserOpReceipt | undefined> {
  let raw: Record<string, unknown> | null;
  try {
    raw = await call<Record<string, unknown> | null>(client, "eth_getUserOperationReceipt", [userOpHash]);
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== "object") return undefined;
  const receipt = raw.receipt as { transactionHash?: string } | undefined;
  try {
    return {
      userOpHash,
      success: raw.success === true,
      actualGasCost: BigInt(String(raw.actualGasCost)),
      actualGasUsed: BigInt(String(raw.actualGasUsed)),
      reason: typeof raw.reason === "string" && raw.reason !== "0x" ? raw.reason : undefined,
      transactionHash: receipt?.transactionHash ?? "",
    };
  } catch {
    return undefined;
  }
}

/** Whether the bundler holds the op (pending or included); true when it does not answer (nothing to resend then). */
async function bundlerKnows(client: BundlerClient, userOpHash: string): Promise<boolean> {
  try {
    return (await call<unknown>(client, "eth_getUserOperationByHash", [userOpHash])) !== null;
  } catch {
    return true;
  }
}

function messageOf(error: unknown): string {
  const parts: string[] = [];
  let item: unknown = error;
  for (let depth = 0; depth < 4 && item !== null && typeof item === "object"; depth += 1) {
    const record = item as { message?: unknown; error?: unknown; info?: unknown };
    if (typeof record.message === "string") parts.push(record.message);
    item = record.error ?? (record.info as { error?: unknown } | undefined)?.error;
  }
  return parts.join(" ");
}
