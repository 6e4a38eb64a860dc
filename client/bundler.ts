/**
 * Agent-side actions against an ERC-4337 bundler (ERC-7769 JSON-RPC: `eth_estimateUserOperationGas`,
 * `eth_sendUserOperation`, `eth_getUserOperationReceipt`), for EntryPoint v0.8. Ops are the unpacked
 * {@link UserOperation} of client/userOp.ts; a refusal comes back as the typed errors of client/errors.ts, decoded
 * from the bundler's "AAxx …" message and the module's revert data in it.
 */
import { getBytes, hexlify, JsonRpcProvider, toBeHex, type SigningKey } from "ethers";

import type { EntryPoint } from "../typechain-types/index.js";
import type { ValidationSelection } from "./encoding.js";
import { decodeUserOpRefusal } from "./errors.js";
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
}

/** Connects to a bundler's JSON-RPC URL for `entryPoint` (no batching: some bundlers refuse batches). */
export function createBundlerClient(url: string, entryPoint: string): BundlerClient {
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, batchMaxCount: 1 });
  return { provider, entryPoint };
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
export async function estimateUserOpGas(client: BundlerClient, op: UserOperation): Promise<UserOpGasEstimate> {
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
}

/**
 * Signs the op with its provisional limits, has the bundler estimate the real ones, and signs again with them.
 * Each estimated limit is used as is: a Leash session's native budget pays the op's maximum gas cost, so padding the
 * limits would spend budget for nothing.
 */
export async function fillGasAndSign(parameters: FillGasAndSignParameters): Promise<UserOperation> {
  const { client, entryPoint, signingKey, selection } = parameters;
  const provisional = await signUserOp(entryPoint, parameters.op, signingKey, selection);
  const estimate = await estimateUserOpGas(client, provisional.op);
  const signed = await signUserOp(entryPoint, { ...parameters.op, ...estimate }, signingKey, selection);
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
export async function sendUserOpToBundler(client: BundlerClient, op: UserOperation): Promise<string> {
  return call<string>(client, "eth_sendUserOperation", [toRpcUserOp(op), client.entryPoint]);
}

/** Waits for the op to be included and returns its receipt; throws after `timeoutMs`. */
export async function waitForUserOpReceipt(
  client: BundlerClient,
  userOpHash: string,
  timeoutMs: number = RECEIPT_TIMEOUT_MS,
): Promise<UserOpReceipt> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const raw = await call<Record<string, unknown> | null>(client, "eth_getUserOperationReceipt", [userOpHash]);
    if (raw !== null) {
      const receipt = raw.receipt as { transactionHash?: string } | undefined;
      return {
        userOpHash,
        success: raw.success === true,
        actualGasCost: BigInt(String(raw.actualGasCost)),
        actualGasUsed: BigInt(String(raw.actualGasUsed)),
        reason: typeof raw.reason === "string" && raw.reason !== "0x" ? raw.reason : undefined,
        transactionHash: receipt?.transactionHash ?? "",
      };
    }
    if (Date.now() > deadline) {
      throw new Error(
        `op ${userOpHash} was not included within ${timeoutMs} ms: check that the bundler is running and its ` +
          "executor account has funds",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
  }
}
