/**
 * Signature-only owner actions: the owner's Ledger signs an EIP-712 `SessionGrant`, `SessionRevocation` or
 * `AllSessionsRevocation` (nested the ERC-7739 way for the account's owner validation, so the device still shows
 * every field), and the result is a file anyone — the agent, a relayer, a watchtower — submits (client/submit.ts).
 */
import type { Provider, Signer, TypedDataField } from "ethers";

import {
  SessionGrantReader__factory,
  SessionKeyValidationModule__factory,
  type SessionKeyValidationModule,
} from "./contracts.js";
import type { LeashChainAddresses } from "./addresses.js";
import { OWNER_ENTITY_ID, unusedNonce, type GrantPlan } from "./grant.js";
import { InvalidScopeError, InvalidSignedFileError, SignedActionUnsupportedError } from "./inputErrors.js";
import { isLeashAccountId, readAccountId } from "./ownerAccount.js";
import { assertNonceUnused, assertSessionExists, type ProgressListener, type RevocationTarget } from "./owner.js";
import {
  ALL_SESSIONS_REVOCATION_TYPES,
  NONCE_CANCELLATION_TYPES,
  encodeOwnerNestedSignature,
  nestOwnerTypedData,
  SESSION_REVOCATION_TYPES,
  sessionGrantTypedData,
  sessionModuleDomain,
  type TypedDataRequest,
} from "./session.js";

/** A file a relayer / watchtower submits: what was signed and the owner's signature (bigints as strings). */
export type SignedFile =
  | {
      kind: "leash.session-grant";
      chainId: string;
      sessionModule: string;
      grant: Record<string, unknown>;
      signature: string;
    }
  | {
      kind: "leash.session-revocation";
      chainId: string;
      sessionModule: string;
      revocation: { account: string; sessionId: number; grantId: string; nonce: string };
      signature: string;
    }
  | {
      kind: "leash.all-sessions-revocation";
      chainId: string;
      sessionModule: string;
      revocation: { account: string; nonce: string };
      signature: string;
    }
  | {
      kind: "leash.nonce-cancellation";
      chainId: string;
      sessionModule: string;
      cancellation: { account: string; nonce: string };
      signature: string;
    };

/** The typed data the owner signs for `app` typed data, nested the ERC-7739 way for the account (what the device sees). */
function ownerTypedData(
  addresses: LeashChainAddresses,
  account: string,
  types: TypedDataRequest["types"],
  primaryType: string,
  message: Record<string, unknown>,
) {
  const app = { domain: sessionModuleDomain(addresses), types, primaryType };
  return { app, nested: nestOwnerTypedData(app, message, account, addresses.chainId), message };
}

/**
 * What signs the owner's typed data: an ethers `Signer`, or the Ledger's clear signer (packages/hardhat/src/ledger/ledgerTypedData.ts),
 * which never falls back to hashed signing.
 */
export type OwnerTypedDataSigner = Pick<Signer, "provider" | "signTypedData">;

/**
 * Refuses, before anything is signed, a signed action for an owner validation other than Leash's owner module: only
 * that validation checks the nested typed data the Ledger shows field by field (client/ownerAccount.ts says why the
 * others cannot). Without a validation named, the account must say it is Leash's (`accountId()`). Throws
 * {@link SignedActionUnsupportedError}.
 */
async function assertSignedActionSupported(provider: Provider, target: RevocationTarget): Promise<void> {
  const { addresses, account, ownerValidation } = target;
  if (ownerValidation === undefined) {
    const accountId = await readAccountId(provider, account);
    if (accountId !== undefined && isLeashAccountId(accountId)) return;
    throw new SignedActionUnsupportedError(
      `account ${account} is not a Leash account (its accountId() is ${accountId === undefined ? "missing" : "another"}); ` +
        "resolve how its owner acts with resolveOwnerAccount and pass its validation as ownerValidation, or act by " +
        "transaction (--by-transaction). Nothing was signed",
      "--by-transaction",
    );
  }
  if (ownerValidation.module === addresses.ownerModule && ownerValidation.entityId === OWNER_ENTITY_ID) return;
  throw new SignedActionUnsupportedError(
    `account ${account}'s owner validation (${ownerValidation.module}, entity ${ownerValidation.entityId}) does not ` +
      "check a signed grant or revocation the Ledger can show field by field; act by transaction instead " +
      "(--by-transaction, which a real Ledger signs with blind signing on). Nothing was signed",
    "--by-transaction",
  );
}

async function signNested(
  signer: OwnerTypedDataSigner,
  addresses: LeashChainAddresses,
  typed: ReturnType<typeof ownerTypedData>,
  onProgress?: ProgressListener,
): Promise<string> {
  onProgress?.("prompt", `confirm the ${typed.app.primaryType} signature on your Ledger…`);
  const ecdsa = await signer.signTypedData(typed.nested.domain, typed.nested.types, typed.nested.message);
  return encodeOwnerNestedSignature(
    { module: addresses.ownerModule, entityId: OWNER_ENTITY_ID },
    ecdsa,
    typed.app,
    typed.message,
  );
}

const stringify = (value: unknown) =>
  JSON.parse(
    JSON.stringify(value, (_key, item: unknown) => (typeof item === "bigint" ? item.toString() : item)),
  ) as Record<string, unknown>;

/** The nested typed data the owner's device signs for a grant (exported so tests and integrators can check it). */
export function grantTypedDataForOwner(plan: GrantPlan) {
  const { types, primaryType, message } = sessionGrantTypedData(plan.session, plan.addresses);
  return ownerTypedData(plan.addresses, plan.session.account, types, primaryType, message);
}

/**
 * Refuses, before the device is asked, a grant the session module's reader would refuse (a function text, period,
 * rule or amount that does not read as what would be enforced): the reader is asked on chain, read-only.
 */
export async function assertGrantReadable(
  provider: Provider,
  addresses: Pick<LeashChainAddresses, "sessionModule">,
  grant: Record<string, unknown>,
): Promise<void> {
  const module = SessionKeyValidationModule__factory.connect(addresses.sessionModule, provider);
  const reader = SessionGrantReader__factory.connect(await module.GRANT_READER(), provider);
  const data = "0x" + module.interface.encodeFunctionData("grantWithSignature", [grant as never, "0x"]).slice(10);
  try {
    await reader.read(data);
  } catch (error) {
    const revert = (error as { data?: string }).data ?? "0x";
    const parsed = reader.interface.parseError(revert);
    throw new InvalidScopeError(
      `the session module would refuse this grant${parsed === null ? "" : `: ${parsed.name}(${parsed.args.join(", ")})`}` +
        "; nothing was signed (name each function by its standard signature, periods and amounts as the task writes them)",
      "--allow",
    );
  }
}

/** Has the owner sign the plan's `SessionGrant` (EIP-712) and returns the grant file. */
export async function signSessionGrant(parameters: {
  signer: OwnerTypedDataSigner;
  plan: GrantPlan;
  onProgress?: ProgressListener;
}): Promise<SignedFile> {
  const { signer, plan, onProgress } = parameters;
  if (!plan.ownerAccount.signedActions.supported) {
    throw new SignedActionUnsupportedError(
      `${plan.ownerAccount.signedActions.reason}. Nothing was signed`,
      "--by-transaction",
    );
  }
  const typed = grantTypedDataForOwner(plan);
  if (signer.provider !== null) await assertGrantReadable(signer.provider, plan.addresses, typed.message);
  const signature = await signNested(signer, plan.addresses, typed, onProgress);
  return {
    kind: "leash.session-grant",
    chainId: plan.chainId.toString(),
    sessionModule: plan.addresses.sessionModule,
    grant: stringify(typed.message),
    signature,
  };
}

/**
 * What every signed owner message shares: a signer with a provider, an owner validation that can check a message
 * the device shows, the session module to read from, the message nested for the owner validation and signed.
 * `build` reads what the message needs (refusing before the device is asked) and returns it.
 */
async function signOwnerMessage<M extends Record<string, unknown>>(
  signer: OwnerTypedDataSigner,
  target: RevocationTarget,
  onProgress: ProgressListener | undefined,
  build: (
    module: SessionKeyValidationModule,
    provider: Provider,
  ) => Promise<{ types: Record<string, TypedDataField[]>; primaryType: string; message: M }>,
): Promise<{ message: M; signature: string }> {
  const provider = signer.provider;
  if (provider === null) throw new Error("the owner's signer has no provider");
  await assertSignedActionSupported(provider, target);
  const module = SessionKeyValidationModule__factory.connect(target.addresses.sessionModule, provider);
  const { types, primaryType, message } = await build(module, provider);
  const typed = ownerTypedData(target.addresses, target.account, types, primaryType, message);
  return { message, signature: await signNested(signer, target.addresses, typed, onProgress) };
}

/** What the owner's signed messages need: the owner's signer, what the message acts on, progress. */
export interface OwnerSignatureParameters<Target extends RevocationTarget = RevocationTarget> {
  signer: OwnerTypedDataSigner;
  target: Target;
  onProgress?: ProgressListener;
}

/** Has the owner sign a `SessionRevocation` of the session's current grant and returns the revocation file. */
export async function signSessionRevocation(
  parameters: OwnerSignatureParameters<RevocationTarget & { sessionId: number }>,
): Promise<SignedFile> {
  const { signer, target, onProgress } = parameters;
  const { message, signature } = await signOwnerMessage(signer, target, onProgress, async (module, provider) => {
    const grantId = await assertSessionExists({
      provider,
      addresses: target.addresses,
      account: target.account,
      sessionId: target.sessionId,
    });
    return {
      types: SESSION_REVOCATION_TYPES,
      primaryType: "SessionRevocation",
      message: {
        account: target.account,
        sessionId: target.sessionId,
        grantId,
        nonce: await unusedNonce(module, target.account),
      },
    };
  });
  return {
    kind: "leash.session-revocation",
    chainId: target.addresses.chainId.toString(),
    sessionModule: target.addresses.sessionModule,
    revocation: { ...message, grantId: message.grantId.toString(), nonce: message.nonce.toString() },
    signature,
  };
}

/** Has the owner sign an `AllSessionsRevocation` (kill switch) and returns the revocation file. */
export async function signAllSessionsRevocation(parameters: OwnerSignatureParameters): Promise<SignedFile> {
  const { signer, target, onProgress } = parameters;
  const { message, signature } = await signOwnerMessage(signer, target, onProgress, async (module) => ({
    types: ALL_SESSIONS_REVOCATION_TYPES,
    primaryType: "AllSessionsRevocation",
    message: { account: target.account, nonce: await unusedNonce(module, target.account) },
  }));
  return {
    kind: "leash.all-sessions-revocation",
    chainId: target.addresses.chainId.toString(),
    sessionModule: target.addresses.sessionModule,
    revocation: { account: message.account, nonce: message.nonce.toString() },
    signature,
  };
}

/**
 * Has the owner sign a `NonceCancellation` of `nonce` (a signed grant or revocation not submitted yet) and returns
 * the cancellation file; anyone may submit it. Refused before the device is asked if the nonce is already used.
 */
export async function signNonceCancellation(
  parameters: OwnerSignatureParameters<RevocationTarget & { nonce: bigint }>,
): Promise<SignedFile> {
  const { signer, target, onProgress } = parameters;
  const { message, signature } = await signOwnerMessage(signer, target, onProgress, async (_module, provider) => {
    await assertNonceUnused(provider, target);
    return {
      types: NONCE_CANCELLATION_TYPES,
      primaryType: "NonceCancellation",
      message: { account: target.account, nonce: target.nonce },
    };
  });
  return {
    kind: "leash.nonce-cancellation",
    chainId: target.addresses.chainId.toString(),
    sessionModule: target.addresses.sessionModule,
    cancellation: { account: message.account, nonce: message.nonce.toString() },
    signature,
  };
}
