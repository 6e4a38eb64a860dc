/**
 * ERC-4337 v0.8 user operations: the unpacked form integrators fill, and the packed form the EntryPoint takes.
 */
import { concat, zeroPadValue, toBeHex } from "ethers";

import type { PackedUserOperationStruct } from "../typechain-types/@account-abstraction/contracts/core/EntryPoint.js";

/** An unpacked user operation (EntryPoint v0.8). */
export interface UserOperation {
  sender: string;
  nonce: bigint;
  /** Factory address ‖ factory calldata, or "0x" for a deployed account. */
  initCode: string;
  callData: string;
  verificationGasLimit: bigint;
  callGasLimit: bigint;
  preVerificationGas: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  /** Paymaster ‖ verification gas (16) ‖ post-op gas (16) ‖ data, or "0x". */
  paymasterAndData: string;
  signature: string;
}

function packUint128Pair(high: bigint, low: bigint): string {
  return concat([zeroPadValue(toBeHex(high), 16), zeroPadValue(toBeHex(low), 16)]);
}

/** Packs a user operation into the EntryPoint's `PackedUserOperation`. */
export function packUserOp(op: UserOperation): PackedUserOperationStruct {
  return {
    sender: op.sender,
    nonce: op.nonce,
    initCode: op.initCode,
    callData: op.callData,
    accountGasLimits: packUint128Pair(op.verificationGasLimit, op.callGasLimit),
    preVerificationGas: op.preVerificationGas,
    gasFees: packUint128Pair(op.maxPriorityFeePerGas, op.maxFeePerGas),
    paymasterAndData: op.paymasterAndData,
    signature: op.signature,
  };
}
