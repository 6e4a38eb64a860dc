/**
 * Session fixtures for tests: an account with an owner, an agent, a token, and helpers to grant sessions (by
 * transaction or by the owner's signature), to install and uninstall validations, and to send the agent's user ops.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import { expect } from "chai";
import {
  AbiCoder,
  parseEther,
  parseUnits,
  TypedDataEncoder,
  type HDNodeWallet,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

import { withExecuteUserOp } from "../../client/agent.js";
import {
  encodeErc1271Signature,
  encodeModuleEntity,
  encodeValidationConfig,
  type DeferredInstall,
} from "../../client/encoding.js";
import { ownerAuthorization as clientOwnerAuthorization } from "../../client/owner.js";
import {
  ALL_SESSIONS_REVOCATION_TYPES,
  NONCE_CANCELLATION_TYPES,
  SESSION_GRANT_TYPES,
  encodeOwnerNestedSignature,
  encodeSessionTypedDataSignature,
  encodeTimeHint,
  NATIVE_ASSET,
  nestOwnerTypedData,
  SELECTOR_NO_CALLDATA,
  SELECTOR_SIGN,
  SESSION_REVOCATION_TYPES,
  sessionGrantTypedData,
  sessionInstallArgs,
  sessionModuleDomain,
  sessionNonceKey,
  type LeashAddresses,
  type SessionDescription,
} from "../../client/session.js";
import { SESSION_FILE_KIND, SESSION_FILE_VERSION, type SessionFile } from "../../client/sessionFile.js";
import type { UserOperation } from "../../client/userOp.js";
import {
  createAccount,
  deployLeash,
  fund,
  OWNER_ENTITY_ID,
  OWNER_PATH,
  testWallet,
  type EntryPointVersion,
} from "./fixture.js";
import { buildSignedOp, sendOp } from "./userOps.js";

export const AGENT_PATH = "m/44'/60'/5'/0/0";
export const DAY = 86_400n;
export const SESSION_ID = 1;
/** An amount of the fixture's USDC (6 decimals). */
export const USDC = (amount: string) => parseUnits(amount, 6);
/** A native payment the typical session allows: 0.01 ETH. */
export const PAY = parseEther("0.01");

/** Deploys everything and an account holding 10 ETH and 1,000 USDC (a 6-decimal test token). */
export async function sessionFixture(
  ethers: HardhatEthers,
  networkHelpers: NetworkHelpers,
  entryPointVersion: EntryPointVersion = "0.8",
) {
  const deployment = await deployLeash(ethers, entryPointVersion);
  const owner = testWallet(ethers, OWNER_PATH);
  const agent = testWallet(ethers, AGENT_PATH);
  const stranger = testWallet(ethers, "m/44'/60'/7'/0/0");
  await fund(ethers, owner.address);
  await fund(ethers, agent.address);
  await fund(ethers, stranger.address);
  const account = await createAccount(ethers, deployment, owner.address);
  const accountAddress = await account.getAddress();
  await fund(ethers, accountAddress);
  const usdc = await ethers.deployContract("TestToken", ["USD Coin", "USDC", 6]);
  await (await usdc.mint(accountAddress, parseUnits("1000", 6))).wait();
  // A fixed payee (not a random one) keeps calldata, hence gas figures, identical from run to run.
  const recipient = testWallet(ethers, "m/44'/60'/9'/0/0").address;
  const { chainId } = await ethers.provider.getNetwork();
  const addresses: LeashAddresses = {
    chainId,
    sessionModule: deployment.sessionModule.target as string,
    spendLimitHook: deployment.spendLimitHook.target as string,
    ownerModule: deployment.ownerModule.target as string,
  };
  const now = BigInt(await networkHelpers.time.latest());
  return { ...deployment, owner, agent, stranger, account, accountAddress, usdc, recipient, addresses, now };
}

export type SessionFixture = Awaited<ReturnType<typeof sessionFixture>>;

/** {@link sessionFixture} with the typical session granted by the owner's transaction. */
export async function grantedSessionFixture(ethers: HardhatEthers, networkHelpers: NetworkHelpers) {
  const f = await sessionFixture(ethers, networkHelpers);
  await (await grantByTransaction(f, typicalSession(f))).wait();
  return f;
}

/** A typical session: pay the recipient (no calldata) and transfer USDC; 1 ETH and 100 USDC a day; 24 h TTL. */
export function typicalSession(f: SessionFixture, overrides: Partial<SessionDescription> = {}): SessionDescription {
  return {
    account: f.accountAddress,
    sessionId: SESSION_ID,
    agent: f.agent.address,
    validAfter: f.now - 10n,
    validUntil: f.now + DAY,
    valueCapPerCall: parseEther("0.5"),
    canSignMessages: false,
    scope: [
      { target: f.recipient, selector: SELECTOR_NO_CALLDATA },
      {
        target: f.usdc.target as string,
        selector: f.usdc.interface.getFunction("transfer").selector,
        function: "transfer(address,uint256)",
      },
    ],
    budgets: [
      { asset: NATIVE_ASSET, limit: parseEther("1"), period: DAY, perCallCap: 0n },
      { asset: f.usdc.target as string, limit: parseUnits("100", 6), period: DAY, perCallCap: 0n },
    ],
    paymasters: [],
    epoch: 0,
    nonce: 1n,
    ...overrides,
  };
}

/** A typical session that may also sign EIP-712 messages for `app` (and only for it). */
export function signingSession(f: SessionFixture, app: string, overrides: Partial<SessionDescription> = {}) {
  const session = typicalSession(f, { canSignMessages: true, ...overrides });
  session.scope = [...session.scope, { target: app, selector: SELECTOR_SIGN }];
  return session;
}

/** The owner's runtime authorization (owner validation, global). */
export function ownerAuthorization(f: SessionFixture): string {
  return clientOwnerAuthorization(f.ownerModule.target as string);
}

/** The owner calls the account (a plain transaction, as a Ledger would sign). */
export async function ownerCall(f: SessionFixture, data: string) {
  return f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f));
}

/** Grants `session` by the owner's transaction (installValidation through the owner's runtime validation). */
export async function grantByTransaction(f: SessionFixture, session: SessionDescription) {
  const data = f.account.interface.encodeFunctionData("installValidation", sessionInstallArgs(session, f.addresses));
  return ownerCall(f, data);
}

/** installValidation calldata for an owner-module validation `entityId` whose install data names `dataEntityId`. */
export function installOwnerValidation(f: SessionFixture, entityId: number, dataEntityId: number, newOwner: string) {
  const config = encodeValidationConfig(
    { module: f.ownerModule.target as string, entityId },
    { isGlobal: true, isSignatureValidation: true, isUserOpValidation: true },
  );
  const installData = AbiCoder.defaultAbiCoder().encode(["uint32", "address"], [dataEntityId, newOwner]);
  return f.account.interface.encodeFunctionData("installValidation", [config, [], installData, []]);
}

/** uninstallValidation calldata for `module`'s validation `entityId`, with the module's and hooks' data as given. */
export function uninstallValidation(
  f: SessionFixture,
  module: string,
  entityId: number,
  data: string,
  hookData: string[] = [],
) {
  const entity = encodeModuleEntity({ module, entityId });
  return f.account.interface.encodeFunctionData("uninstallValidation", [entity, data, hookData]);
}

/** Install or uninstall data naming `entityId` (a uint32 word). */
export const entityData = (entityId: number) => AbiCoder.defaultAbiCoder().encode(["uint32"], [entityId]);

/** Typed data of the session module the owner signs (nested the ERC-7739 way) for `account`. */
interface OwnerTypedData {
  types: Record<string, TypedDataField[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

/** The owner's (or `signer`'s) nested signature of session-module typed data, in the account's ERC-1271 format. */
async function signForOwner(f: SessionFixture, account: string, typed: OwnerTypedData, signer: HDNodeWallet) {
  const app = { domain: sessionModuleDomain(f.addresses), types: typed.types, primaryType: typed.primaryType };
  const nested = nestOwnerTypedData(app, typed.message, account, f.addresses.chainId);
  const ecdsa = await signer.signTypedData(nested.domain, nested.types, nested.message);
  return encodeOwnerNestedSignature(
    { module: f.ownerModule.target as string, entityId: OWNER_ENTITY_ID },
    ecdsa,
    app,
    typed.message,
  );
}

/** The owner's signature of a grant, in the account's ERC-1271 format. */
export async function signGrant(f: SessionFixture, session: SessionDescription, signer: HDNodeWallet = f.owner) {
  const { types, primaryType, message } = sessionGrantTypedData(session, f.addresses);
  return signForOwner(f, session.account, { types, primaryType, message }, signer);
}

/** The owner's signature of a `SessionGrant` message as given (to sign what the client would refuse to build). */
export async function signGrantMessage(
  f: SessionFixture,
  message: Record<string, unknown> & { account: string },
  signer: HDNodeWallet = f.owner,
) {
  return signForOwner(f, message.account, { types: SESSION_GRANT_TYPES, primaryType: "SessionGrant", message }, signer);
}

/** The owner's signature of a nonce cancellation. */
export async function signCancellation(
  f: SessionFixture,
  cancellation: { account: string; nonce: bigint },
  signer: HDNodeWallet = f.owner,
) {
  const typed = { types: NONCE_CANCELLATION_TYPES, primaryType: "NonceCancellation", message: cancellation };
  return signForOwner(f, cancellation.account, typed, signer);
}

/** The owner's signature of a single-session revocation. */
export async function signRevocation(
  f: SessionFixture,
  revocation: { account: string; sessionId: number; grantId: bigint; nonce: bigint },
  signer: HDNodeWallet = f.owner,
) {
  const typed = { types: SESSION_REVOCATION_TYPES, primaryType: "SessionRevocation", message: revocation };
  return signForOwner(f, revocation.account, typed, signer);
}

/** The owner's signature of a kill switch. */
export async function signRevokeAll(
  f: SessionFixture,
  revocation: { account: string; nonce: bigint },
  signer: HDNodeWallet = f.owner,
) {
  const typed = { types: ALL_SESSIONS_REVOCATION_TYPES, primaryType: "AllSessionsRevocation", message: revocation };
  return signForOwner(f, revocation.account, typed, signer);
}

export interface SessionOpOptions {
  signer?: HDNodeWallet;
  /** The time hint for the spend-limit hook (omit for none). */
  timeHint?: bigint;
  nonceKey?: bigint;
  sessionId?: number;
  sender?: string;
  overrides?: Partial<UserOperation>;
  /** A deferred install the account runs before validating (e.g. an owner-signed grant). */
  deferredInstall?: DeferredInstall;
  /**
   * Send `callData` as given instead of behind `executeUserOp` (which a session needs for its execution hooks),
   * to test what the account and the modules do with such ops.
   */
  raw?: boolean;
}

/** Builds and signs the agent's op for `callData` on the session. */
export async function sessionOp(f: SessionFixture, callData: string, options: SessionOpOptions = {}) {
  const sessionId = options.sessionId ?? SESSION_ID;
  return buildSignedOp(f.entryPoint, {
    sender: options.sender ?? f.accountAddress,
    callData: options.raw === true ? callData : withExecuteUserOp(callData),
    selection: {
      validation: { module: f.sessionModule.target as string, entityId: sessionId },
      isGlobal: false,
      hookData: options.timeHint === undefined ? [] : [encodeTimeHint(options.timeHint)],
      deferredInstall: options.deferredInstall,
    },
    signer: options.signer ?? f.agent,
    nonceKey: options.nonceKey ?? sessionNonceKey(f.sessionModule.target as string, sessionId),
    overrides: options.overrides,
  });
}

/**
 * `expectRefused(f, op, error, args)` on the network of `ethers`: expects the EntryPoint to refuse the op in the
 * account's validation (AA23) with `error`, which the session module, the spend-limit hook or the account declares.
 */
export function expectRefusedOn(ethers: HardhatEthers) {
  return async function expectRefused(f: SessionFixture, op: UserOperation, error: string, args: unknown[]) {
    const contract = [f.sessionModule, f.spendLimitHook, f.account].find((c) => c.interface.getError(error) !== null);
    if (contract === undefined) throw new Error(`no contract declares ${error}`);
    await expect(sendOp(ethers, f.entryPoint, op))
      .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
      .withArgs(0n, "AA23 reverted", contract.interface.encodeErrorResult(error, args));
  };
}

/** `execute(target, value, data)` calldata of the account. */
export function executeCall(f: SessionFixture, target: string, value: bigint, data = "0x"): string {
  return f.account.interface.encodeFunctionData("execute", [target, value, data]);
}

/** USDC `transfer(to, amount)` calldata. */
export function usdcTransfer(f: SessionFixture, to: string, amount: bigint): string {
  return f.usdc.interface.encodeFunctionData("transfer", [to, amount]);
}

/** Typed data a signing session signs for an app (ERC-1271 through the account). */
export interface AppTypedData {
  domain: TypedDataDomain;
  types: Record<string, TypedDataField[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

/** An app's order, in a domain whose verifyingContract is `app` (the contract the session must be granted). */
export function appOrder(app: string, chainId: bigint, amount = 1n): AppTypedData {
  return {
    domain: { name: "Order Book", version: "1", chainId, verifyingContract: app },
    types: { Order: [{ name: "amount", type: "uint256" }] },
    primaryType: "Order",
    message: { amount },
  };
}

/**
 * The account's ERC-1271 signature, by session `sessionId`'s agent (or `signer`), of `typed`: the session module's
 * format (the domain and struct hash, and the agent's signature of the account- and session-bound digest).
 */
export async function signAsSession(
  f: SessionFixture,
  typed: AppTypedData,
  options: { sessionId?: number; signer?: HDNodeWallet; account?: string } = {},
) {
  const sessionId = options.sessionId ?? SESSION_ID;
  const hash = TypedDataEncoder.hash(typed.domain, typed.types, typed.message);
  const digest = await f.sessionModule.sessionMessageHash(options.account ?? f.accountAddress, sessionId, hash);
  const ecdsa = (options.signer ?? f.agent).signingKey.sign(digest).serialized;
  const validationData = encodeSessionTypedDataSignature(typed, typed.message, ecdsa);
  return {
    hash,
    signature: encodeErc1271Signature(
      { module: f.sessionModule.target as string, entityId: sessionId },
      validationData,
    ),
  };
}

/** The session file `session grant --agent` would write for `description` on the fixture. */
export function sessionFileOf(f: SessionFixture, description: SessionDescription): SessionFile {
  return {
    kind: SESSION_FILE_KIND,
    version: SESSION_FILE_VERSION,
    chainId: f.addresses.chainId,
    account: description.account,
    sessionId: description.sessionId,
    agent: description.agent,
    entryPoint: f.entryPoint.target as string,
    sessionModule: f.addresses.sessionModule,
    spendLimitHook: f.addresses.spendLimitHook,
    validAfter: description.validAfter,
    validUntil: description.validUntil,
    valueCapPerCall: description.valueCapPerCall,
    canSignMessages: description.canSignMessages,
    scope: description.scope.map((entry) => ({
      target: entry.target,
      selector: entry.selector,
      function: entry.function,
      rules: entry.rules ?? [],
    })),
    budgets: description.budgets.map((budget) => ({
      ...budget,
      symbol: budget.asset === NATIVE_ASSET ? "ETH" : "USDC",
      decimals: budget.asset === NATIVE_ASSET ? 18 : 6,
    })),
    paymasters: description.paymasters,
  };
}
