/**
 * Owner transactions, signed by the owner's key (a Ledger through hardhat-ledger in the tasks): create the account,
 * grant a session, revoke one or all sessions. The signature-only variants are in client/signed.ts.
 *
 * The owner calls the account directly: `executeWithRuntimeValidation(data, ownerValidation ‖ 0x01 ‖ 0xFF)`, the
 * same on every ERC-6900 v0.8 account; `ownerValidation` is Leash's owner module (entity 0) on Leash's account, or
 * the validation client/ownerAccount.ts resolves on another account.
 * Transactions are sent fully specified (gas limit, EIP-1559 fees): hardhat-ledger refuses any other (HHE713).
 * Each is simulated first (the gas estimate): an account that refuses the owner's call stops the action before the
 * Ledger is asked ({@link OwnerCallRefusedError}).
 */
import type { ContractTransactionReceipt, Provider, Signer, TransactionReceipt } from "ethers";

import { AccountFactory__factory, ModularAccount__factory, SessionKeyValidationModule__factory } from "./contracts.js";
import type { LeashChainAddresses } from "./addresses.js";
import { encodeValidationSignature, type ModuleFunction } from "./encoding.js";
import { describeRevert, isRevert } from "./errors.js";
import { OWNER_ENTITY_ID, type GrantPlan } from "./grant.js";
import { InvalidSessionIdError, InvalidSignedFileError, OwnerCallRefusedError } from "./inputErrors.js";
import { sessionInstallArgs } from "./session.js";

/** Progress callback: `prompt` when the device waits for the owner, `info` otherwise. */
export type ProgressListener = (kind: "prompt" | "info", message: string) => void;

/** Extra gas on top of the node's estimate (the estimate is exact on a quiet chain; state can change before mining). */
const GAS_MARGIN_PERCENT = 25n;
const GAS_MARGIN_MIN = 30_000n;

/** The owner's validation: a module entity, or a Leash owner module's address (entity 0). */
export type OwnerValidationInput = ModuleFunction | string;

function ownerValidationOf(input: OwnerValidationInput): ModuleFunction {
  return typeof input === "string" ? { module: input, entityId: OWNER_ENTITY_ID } : input;
}

/** The owner's runtime authorization (the owner's validation, global, no data). */
export function ownerAuthorization(ownerValidation: OwnerValidationInput): string {
  return encodeValidationSignature({ validation: ownerValidationOf(ownerValidation), isGlobal: true }, "0x");
}

/** The calldata of the owner's call to the account: `executeWithRuntimeValidation(data, ownerAuthorization)`. */
export function encodeOwnerCall(ownerModule: OwnerValidationInput, data: string): string {
  return ModularAccount__factory.createInterface().encodeFunctionData("executeWithRuntimeValidation", [
    data,
    ownerAuthorization(ownerModule),
  ]);
}

/** What {@link sendOwnerTransaction} needs. */
export interface SendOwnerTransactionParameters {
  /** The owner's signer (its provider is used for estimates). */
  signer: Signer;
  to: string;
  data: string;
  onProgress?: ProgressListener;
}

/**
 * Sends one fully specified EIP-1559 transaction from the owner (gas estimated with a margin, fees from the node),
 * waits for it and throws if it reverted. Returns the receipt.
 */
export async function sendOwnerTransaction(parameters: SendOwnerTransactionParameters): Promise<TransactionReceipt> {
  const { signer, to, data } = parameters;
  const provider = signer.provider;
  if (provider === null) throw new Error("the owner's signer has no provider");
  const from = await signer.getAddress();
  let estimate: bigint;
  try {
    estimate = await provider.estimateGas({ from, to, data });
  } catch (error) {
    // Only a revert is the account's answer; a node or network failure is thrown as it is.
    if (!isRevert(error)) throw error;
    const reason = describeRevert(error);
    throw new OwnerCallRefusedError(
      `${to} refuses this call from ${from} (simulated before signing: ${reason}); check that this address owns ` +
        "the account under the owner validation used (--owner-validation) and that the action is possible. " +
        "Nothing was signed",
      "--account",
    );
  }
  const margin = (estimate * GAS_MARGIN_PERCENT) / 100n;
  const gasLimit = estimate + (margin > GAS_MARGIN_MIN ? margin : GAS_MARGIN_MIN);
  const fees = await provider.getFeeData();
  const maxPriorityFeePerGas = fees.maxPriorityFeePerGas ?? 1_000_000_000n;
  const maxFeePerGas = fees.maxFeePerGas ?? (fees.gasPrice ?? 0n) * 2n + maxPriorityFeePerGas;
  parameters.onProgress?.("prompt", `confirm the transaction on your Ledger (${from})…`);
  const tx = await signer.sendTransaction({ to, data, gasLimit, maxFeePerGas, maxPriorityFeePerGas, type: 2 });
  parameters.onProgress?.("info", `sent ${tx.hash}, waiting for it to be mined…`);
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1) {
    throw new Error(`transaction ${tx.hash} reverted; nothing changed on chain`);
  }
  return receipt;
}

/** The result of an owner transaction. */
export interface OwnerTransactionResult {
  transactionHash: string;
  blockNumber: number;
}

function resultOf(receipt: TransactionReceipt | ContractTransactionReceipt): OwnerTransactionResult {
  return { transactionHash: receipt.hash, blockNumber: receipt.blockNumber };
}

/** What {@link grantSession} needs: the owner's signer (the Ledger) and the prepared plan. */
export interface GrantSessionParameters {
  signer: Signer;
  plan: GrantPlan;
  onProgress?: ProgressListener;
}

/** Installs the plan's session on the account by the owner's transaction. */
export async function grantSession(parameters: GrantSessionParameters): Promise<OwnerTransactionResult> {
  const { signer, plan, onProgress } = parameters;
  const install = ModularAccount__factory.createInterface().encodeFunctionData(
    "installValidation",
    sessionInstallArgs(plan.session, plan.addresses),
  );
  const data = encodeOwnerCall(plan.ownerAccount.validation, install);
  return resultOf(await sendOwnerTransaction({ signer, to: plan.session.account, data, onProgress }));
}

/** What {@link assertSessionExists} checks. */
export interface AssertSessionExistsParameters {
  provider: Provider;
  addresses: LeashChainAddresses;
  account: string;
  sessionId: number;
}

/** Refuses a session id the account does not have (throws {@link InvalidSessionIdError}); returns its grant id. */
export async function assertSessionExists(parameters: AssertSessionExistsParameters): Promise<bigint> {
  const { provider, addresses, account, sessionId } = parameters;
  const module = SessionKeyValidationModule__factory.connect(addresses.sessionModule, provider);
  const session = await module.getSession(account, sessionId);
  if (session.agent === "0x0000000000000000000000000000000000000000") {
    throw new InvalidSessionIdError(
      `--session: account ${account} has no session ${sessionId}; session list shows its sessions`,
      "--session",
    );
  }
  return session.grantId;
}

/** What a revocation acts on. */
export interface RevocationTarget {
  addresses: LeashChainAddresses;
  account: string;
  /** The validation authorizing the owner's calls (default: Leash's owner module, entity 0). */
  ownerValidation?: ModuleFunction;
}

/** What an owner's transaction acting on sessions needs: the owner's signer, what it acts on, progress. */
export interface OwnerActionParameters<Target extends RevocationTarget = RevocationTarget> {
  signer: Signer;
  target: Target;
  onProgress?: ProgressListener;
}

/** Revokes one session by the owner's transaction (`execute(sessionModule, 0, revoke(id))`). */
export async function revokeSession(
  parameters: OwnerActionParameters<RevocationTarget & { sessionId: number }>,
): Promise<OwnerTransactionResult> {
  const { signer, target, onProgress } = parameters;
  const module = SessionKeyValidationModule__factory.createInterface();
  return sendModuleCall(signer, target, module.encodeFunctionData("revoke", [target.sessionId]), onProgress);
}

/** Pulls the kill switch by the owner's transaction: every session granted so far stops working. */
export async function revokeAllSessions(parameters: OwnerActionParameters): Promise<OwnerTransactionResult> {
  const { signer, target, onProgress } = parameters;
  const module = SessionKeyValidationModule__factory.createInterface();
  return sendModuleCall(signer, target, module.encodeFunctionData("revokeAll"), onProgress);
}

/**
 * Voids a signed grant or revocation nobody submitted yet, by the owner's transaction
 * (`execute(sessionModule, 0, cancelNonce(nonce))`): the way to cancel on an account whose owner cannot sign one the
 * device shows.
 */
export async function cancelNonceByTransaction(
  parameters: OwnerActionParameters<RevocationTarget & { nonce: bigint }>,
): Promise<OwnerTransactionResult> {
  const { signer, target, onProgress } = parameters;
  if (signer.provider === null) throw new Error("the owner's signer has no provider");
  await assertNonceUnused(signer.provider, target);
  const module = SessionKeyValidationModule__factory.createInterface();
  return sendModuleCall(signer, target, module.encodeFunctionData("cancelNonce", [target.nonce]), onProgress);
}

/**
 * Refuses, before anything is signed, a nonce that is already used: the signed grant or revocation that has it was
 * submitted or cancelled already, so there is nothing to cancel. Throws {@link InvalidSignedFileError}.
 */
export async function assertNonceUnused(
  provider: Provider,
  target: RevocationTarget & { nonce: bigint },
): Promise<void> {
  const module = SessionKeyValidationModule__factory.connect(target.addresses.sessionModule, provider);
  if (await module.isNonceUsed(target.account, target.nonce)) {
    throw new InvalidSignedFileError(
      `nonce ${target.nonce} of account ${target.account} is already used: the grant or revocation that has it ` +
        "was submitted or cancelled already, so there is nothing to cancel",
      "--nonce",
    );
  }
}

async function sendModuleCall(signer: Signer, target: RevocationTarget, call: string, onProgress?: ProgressListener) {
  const execute = ModularAccount__factory.createInterface().encodeFunctionData("execute", [
    target.addresses.sessionModule,
    0n,
    call,
  ]);
  const data = encodeOwnerCall(target.ownerValidation ?? target.addresses.ownerModule, execute);
  return resultOf(await sendOwnerTransaction({ signer, to: target.account, data, onProgress }));
}

/** The counterfactual address of `owner`'s account number `salt`, and whether it is deployed. */
export async function getAccountAddress(parameters: {
  provider: Provider;
  addresses: LeashChainAddresses;
  owner: string;
  salt: bigint;
}): Promise<{ account: string; deployed: boolean }> {
  const { provider, addresses, owner, salt } = parameters;
  const factory = AccountFactory__factory.connect(addresses.factory, provider);
  const account = await factory.getAccountAddress(owner, salt);
  return { account, deployed: (await provider.getCode(account)) !== "0x" };
}

/** Deploys the account of `owner` (default: the signer) through the factory; any funded account may send it. */
export async function createAccount(parameters: {
  signer: Signer;
  addresses: LeashChainAddresses;
  salt: bigint;
  /** The account's owner (default: the signer's address). */
  owner?: string;
  onProgress?: ProgressListener;
}): Promise<OwnerTransactionResult> {
  const { signer, addresses, salt, onProgress } = parameters;
  // Anyone may send the factory call: it carries only the owner's address (default: the sender's).
  const owner = parameters.owner ?? (await signer.getAddress());
  const data = AccountFactory__factory.createInterface().encodeFunctionData("createAccount", [owner, salt]);
  return resultOf(await sendOwnerTransaction({ signer, to: addresses.factory, data, onProgress }));
}
