/**
 * Builds, signs and sends user operations through the real EntryPoint in tests.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { BaseWallet, ContractTransactionReceipt } from "ethers";

import type { ValidationSelection } from "../../client/encoding.js";
import { buildUserOp, packUserOp, signUserOp, type UserOperation } from "../../client/userOp.js";
import { ModularAccount__factory, type EntryPoint } from "../../typechain-types/index.js";
import { COVERAGE_RUN } from "./coverage.js";
import { checkAccountValidation } from "./erc7562.js";

/** Gas values generous enough for every test op; fees fixed so balances are predictable. */
export const TEST_GAS = {
  verificationGasLimit: 1_500_000n,
  callGasLimit: 1_000_000n,
  preVerificationGas: 60_000n,
  maxFeePerGas: 2_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
} as const;

export interface OpRequest {
  sender: string;
  callData: string;
  selection: ValidationSelection;
  /** Signs the user op hash (raw, no message prefix: EntryPoint v0.8 hashes are EIP-712 digests). */
  signer: BaseWallet;
  initCode?: string;
  nonceKey?: bigint;
  overrides?: Partial<UserOperation>;
}

/** Builds and signs one user operation; returns the unpacked op and its hash. */
export async function buildSignedOp(
  entryPoint: EntryPoint,
  request: OpRequest,
): Promise<{ op: UserOperation; hash: string }> {
  const built = await buildUserOp({
    entryPoint,
    sender: request.sender,
    callData: request.callData,
    nonceKey: request.nonceKey ?? 0n,
    gas: TEST_GAS,
    initCode: request.initCode,
  });
  return signUserOp({
    entryPoint,
    op: { ...built, ...request.overrides },
    signingKey: request.signer.signingKey,
    selection: request.selection,
  });
}

const accountInterface = ModularAccount__factory.createInterface();

/**
 * Fails if the op's account validation breaks an ERC-7562 rule (banned opcode, unassociated storage, call to an
 * address without code). Ops that deploy their account (initCode) are not replayed: the sender has no code yet.
 * Skipped under `--coverage`, whose instrumented bytecode is not what ships (test/helpers/coverage.ts).
 */
export async function assertValidationRules(
  ethers: HardhatEthers,
  entryPoint: EntryPoint,
  op: UserOperation,
): Promise<void> {
  if (op.initCode !== "0x" || COVERAGE_RUN) return;
  const hash = await entryPoint.getUserOpHash(packUserOp(op));
  const calldata = accountInterface.encodeFunctionData("validateUserOp", [packUserOp(op), hash, 0n]);
  const { violations, reverted } = await checkAccountValidation(
    ethers.provider,
    entryPoint.target as string,
    op.sender,
    calldata,
  );
  if (!reverted && violations.length !== 0) {
    const lines = violations.map((v) => `${v.rule} ${v.opcode} in ${v.code}: ${v.detail}`);
    throw new Error(`ERC-7562 violations in the op's validation:\n${lines.join("\n")}`);
  }
}

/**
 * Sends one op in one `handleOps` bundle from the bundler signer; returns the receipt. The ERC-7562 check plugin
 * (test/plugins/erc7562) traces every handleOps on the in-process network first, this one included.
 */
export async function sendOp(
  ethers: HardhatEthers,
  entryPoint: EntryPoint,
  op: UserOperation,
): Promise<ContractTransactionReceipt> {
  const [, , , bundler] = await ethers.getSigners();
  if (bundler === undefined) throw new Error("the network needs at least four signers");
  const tx = await entryPoint.connect(bundler).handleOps([packUserOp(op)], await bundler.getAddress());
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("handleOps was not mined");
  return receipt;
}

/** The `success` flag of the op's UserOperationEvent in a receipt. */
export function opSucceeded(entryPoint: EntryPoint, receipt: ContractTransactionReceipt): boolean {
  for (const log of receipt.logs) {
    const parsed = entryPoint.interface.parseLog(log);
    if (parsed?.name === "UserOperationEvent") return parsed.args.success as boolean;
  }
  throw new Error("no UserOperationEvent in the receipt");
}

/** The revert data of the op's execution (UserOperationRevertReason), or undefined if it did not revert. */
export function opRevertData(entryPoint: EntryPoint, receipt: ContractTransactionReceipt): string | undefined {
  for (const log of receipt.logs) {
    const parsed = entryPoint.interface.parseLog(log);
    if (parsed?.name === "UserOperationRevertReason") return parsed.args.revertReason as string;
  }
  return undefined;
}
