/**
 * ERC-4337 user operations for EntryPoint v0.8 and v0.7 (the same packed struct): the unpacked form integrators fill,
 * the packed form the EntryPoint takes, and building and signing them for the Leash account.
 */
import { concat, zeroPadValue, toBeHex, type SigningKey } from "ethers";

import type { EntryPoint } from "./contracts.js";
import type { PackedUserOperationStruct } from "../typechain-types/@account-abstraction/contracts/core/EntryPoint.js";
import { encodeValidationSignature, type ValidationSelection } from "./encoding.js";

/** An unpacked user operation (EntryPoint v0.8 or v0.7). */
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

/** The gas and fee fields of a user operation. */
export type UserOpGas = Pick<
  UserOperation,
  "verificationGasLimit" | "callGasLimit" | "preVerificationGas" | "maxFeePerGas" | "maxPriorityFeePerGas"
>;

/** What `buildUserOp` needs. */
export interface BuildUserOpParameters {
  /** The EntryPoint (v0.8 or v0.7) the op is for. */
  entryPoint: EntryPoint;
  sender: string;
  callData: string;
  /** The nonce key: a session must use its ModuleEntity (`sessionNonceKey`); the owner may use 0. */
  nonceKey: bigint;
  gas: UserOpGas;
  /** Factory ‖ factory calldata for an account's first op; "0x" otherwise. */
  initCode?: string;
  paymasterAndData?: string;
}

/** Builds an unsigned user operation with the EntryPoint's next nonce for `nonceKey`. */
export async function buildUserOp(parameters: BuildUserOpParameters): Promise<UserOperation> {
  return {
    sender: parameters.sender,
    nonce: await parameters.entryPoint.getNonce(parameters.sender, parameters.nonceKey),
    initCode: parameters.initCode ?? "0x",
    callData: parameters.callData,
    ...parameters.gas,
    paymasterAndData: parameters.paymasterAndData ?? "0x",
    signature: "0x",
  };
}

/**
 * Signs `op` for the Leash account: the key signs the user op hash as is, no message prefix, as the EntryPoint
 * computes it (v0.8: an EIP-712 digest; v0.7: the hash of the packed op, the EntryPoint and the chain, which v0.7
 * returns from the same `getUserOpHash`), and the signature is wrapped in the account's validation-selection layout.
 * Returns the signed op and its hash.
 */
export async function signUserOp(parameters: {
  entryPoint: EntryPoint;
  op: UserOperation;
  signingKey: SigningKey;
  selection: ValidationSelection;
}): Promise<{ op: UserOperation; hash: string }> {
  const { entryPoint, op, signingKey, selection } = parameters;
  const hash = await entryPoint.getUserOpHash(packUserOp({ ...op, signature: "0x" }));
  const signature = encodeValidationSignature(selection, signingKey.sign(hash).serialized);
  return { op: { ...op, signature }, hash };
}
