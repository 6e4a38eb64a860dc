/**
 * The owner's account, whichever ERC-6900 account it is: Leash's own, or one Leash did not deploy (Alchemy's Modular
 * Account v2, the ERC-6900 reference account, …). What differs between them for the owner's tools is which validation
 * authorizes the owner's calls, and whether the owner can sign a grant the Ledger shows field by field.
 *
 * The owner's calls are the same on every ERC-6900 v0.8 account: `executeWithRuntimeValidation(data, authorization)`
 * sent from the owner's address, `authorization` naming the owner's validation (ModuleEntity ‖ global flag ‖ 0xFF).
 * Which validation that is comes from the account's `accountId()` (ERC-6900) for the accounts Leash knows, else from
 * the owner (`--owner-validation <module>:<entityId>`).
 */
import { Contract, ZeroAddress, type Provider } from "ethers";

import type { LeashChainAddresses } from "./addresses.js";
import { ModularAccount__factory, OwnerValidationModule__factory } from "./contracts.js";
import type { ModuleFunction } from "./encoding.js";
import { OWNER_ENTITY_ID } from "./grant.js";
import { InvalidAddressError, NotAccountOwnerError } from "./inputErrors.js";
import { parseAddress } from "./parse.js";

/**
 * How the owner's validation is reached:
 * - `leash`: Leash's account, the owner on entity 0 of Leash's owner validation module;
 * - `built-in-signer`: a semi-modular account's built-in (fallback) signer, `ModuleEntity(address(0), 0)` (MAv2);
 * - `validation-module`: a validation module installed on the account, e.g. a `SingleSignerValidationModule`.
 */
export type OwnerValidationKind = "leash" | "built-in-signer" | "validation-module";

/** The owner's account and how the owner acts on it. */
export interface OwnerAccount {
  account: string;
  /** What the account says it is (ERC-6900 `accountId()`), e.g. `alchemy.sma-bytecode.1.0.0`. */
  accountId: string;
  kind: OwnerValidationKind;
  /** The validation that authorizes the owner's calls (global). */
  validation: ModuleFunction;
  /**
   * Whether the owner can sign grants and revocations on the Ledger, every field shown (else why not, and what to do
   * instead). Only Leash's owner validation checks the nested typed data a SessionGrant is shown as.
   */
  signedActions: { supported: true } | { supported: false; reason: string };
}

/** The account ids of Alchemy's semi-modular accounts, whose owner is a built-in signer unless a module is named. */
const SEMI_MODULAR_ACCOUNT_ID = /^alchemy\.sma-/;
/** The account id of Leash's own account. */
const LEASH_ACCOUNT_ID = /^leash\.modular-account\./;

/** Whether an `accountId()` is Leash's own account's. */
export function isLeashAccountId(accountId: string): boolean {
  return LEASH_ACCOUNT_ID.test(accountId);
}

/** The account's ERC-6900 `accountId()`, or undefined if it answers none (no code, not an ERC-6900 account). */
export async function readAccountId(provider: Provider, account: string): Promise<string | undefined> {
  return readOrUndefined(async () => ModularAccount__factory.connect(account, provider).accountId());
}

/** `--owner-validation` for a semi-modular account's built-in signer. */
export const BUILT_IN_SIGNER = "built-in";

/** Views of third-party accounts and modules, which Leash's own ABIs do not have. */
const SEMI_MODULAR_ABI = ["function getFallbackSignerData() view returns (address, bool)"];
/** The owner view of the ERC-6900 reference's and Alchemy's `SingleSignerValidationModule`. */
const SINGLE_SIGNER_ABI = ["function signers(uint32 entityId, address account) view returns (address)"];

/**
 * Parses `--owner-validation`: `built-in` (a semi-modular account's own signer) or `<module address>[:<entity id>]`
 * (entity id 0 if omitted). Throws {@link InvalidAddressError} saying what to write.
 */
export function parseOwnerValidation(text: string, field = "--owner-validation"): ModuleFunction {
  const trimmed = text.trim();
  if (trimmed === BUILT_IN_SIGNER) return { module: ZeroAddress, entityId: 0 };
  const match = /^(0x[0-9a-fA-F]{40})(?::(\d{1,10}))?$/.exec(trimmed);
  if (match === null) {
    throw new InvalidAddressError(
      `${field}: "${text}" is not "${BUILT_IN_SIGNER}" or "<module address>:<entity id>", e.g. ` +
        '"0x1234…abcd:0" for entity 0 of a SingleSignerValidationModule',
      field,
    );
  }
  const entityId = match[2] === undefined ? 0 : Number(match[2]);
  if (entityId > 0xfffffffe) {
    throw new InvalidAddressError(`${field}: entity id ${entityId} is above 4294967294`, field);
  }
  const module = parseAddress(match[1]!, field);
  if (module === ZeroAddress && entityId !== 0) {
    throw new InvalidAddressError(
      `${field}: the zero address stands for a semi-modular account's built-in signer, entity 0 only; write ` +
        `"${BUILT_IN_SIGNER}"`,
      field,
    );
  }
  return { module, entityId };
}

/** What {@link resolveOwnerAccount} needs. */
export interface ResolveOwnerAccountParameters {
  provider: Provider;
  addresses: LeashChainAddresses;
  account: string;
  /** The address that must own the account (the Ledger's). */
  owner: string;
  /** `--owner-validation` as written; default: what the account's `accountId()` implies. */
  ownerValidation?: string;
}

/** An `accountId()` the summary and messages may show: printable ASCII without spaces, at most this many characters. */
const DISPLAYABLE_ACCOUNT_ID = /^[\x21-\x7e]{1,64}$/;

/**
 * What is shown of an account's own `accountId()`: the account chooses it, so anything that could rewrite a summary
 * line (newlines, terminal escapes, long text) is replaced.
 */
function displayableAccountId(accountId: string): string {
  return DISPLAYABLE_ACCOUNT_ID.test(accountId) ? accountId : "(an accountId() that is not printable)";
}

async function readOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}

/**
 * Finds how `owner` acts on `account`, and checks, as far as the account's views allow, that it is the owner: the
 * Leash owner module's `owner`, a semi-modular account's `getFallbackSignerData`, a single-signer module's `signers`.
 * A validation module without such a view is checked when the owner's first call is simulated, before the Ledger
 * is asked (`sendOwnerTransaction`). Throws {@link NotAccountOwnerError} or {@link InvalidAddressError}, reading the
 * chain only.
 */
export async function resolveOwnerAccount(parameters: ResolveOwnerAccountParameters): Promise<OwnerAccount> {
  const { provider, addresses } = parameters;
  const account = parseAddress(parameters.account, "--account");
  const owner = parseAddress(parameters.owner, "ledgerAccounts");
  const named = parameters.ownerValidation === undefined ? undefined : parseOwnerValidation(parameters.ownerValidation);
  if ((await provider.getCode(account)) === "0x") {
    throw new NotAccountOwnerError(
      `no account is deployed at ${account} on chain ${addresses.chainId}; create it first (account create) or ` +
        "check the address",
      "--account",
    );
  }
  const answeredId = await readAccountId(provider, account);
  if (answeredId === undefined) {
    throw new NotAccountOwnerError(
      `${account} answers no accountId(): it is not an ERC-6900 account, so Leash's modules cannot be installed on ` +
        "it; check the address",
      "--account",
    );
  }
  const accountId = displayableAccountId(answeredId);
  const leashOwner = { module: addresses.ownerModule, entityId: OWNER_ENTITY_ID };
  const validation =
    named ??
    (LEASH_ACCOUNT_ID.test(accountId)
      ? leashOwner
      : SEMI_MODULAR_ACCOUNT_ID.test(accountId)
        ? { module: ZeroAddress, entityId: 0 }
        : undefined);
  if (validation === undefined) {
    throw new NotAccountOwnerError(
      `${account} is "${accountId}", an ERC-6900 account Leash did not deploy; say which validation authorizes your ` +
        "calls with --owner-validation <module address>:<entity id> (e.g. its SingleSignerValidationModule, entity " +
        `0), or "${BUILT_IN_SIGNER}" for a semi-modular account's own signer`,
      "--owner-validation",
    );
  }
  const mismatch = (current: string, where: string) =>
    new NotAccountOwnerError(
      `the configured Ledger address ${owner} does not own account ${account} (${where} is ` +
        `${current === ZeroAddress ? "nobody" : current}); use the right --account, --owner-validation or ` +
        "ledgerAccounts entry",
      "--account",
    );
  let kind: OwnerValidationKind;
  if (validation.module === ZeroAddress) {
    kind = "built-in-signer";
    const data = await readOrUndefined(
      async () =>
        (await new Contract(account, SEMI_MODULAR_ABI, provider).getFunction("getFallbackSignerData")()) as [
          string,
          boolean,
        ],
    );
    if (data === undefined) {
      throw new NotAccountOwnerError(
        `${account} ("${accountId}") has no built-in signer (no getFallbackSignerData()); name the owner's ` +
          "validation with --owner-validation <module address>:<entity id>",
        "--owner-validation",
      );
    }
    if (data[1]) {
      throw new NotAccountOwnerError(
        `the built-in signer of ${account} is disabled; name the validation that owns it now with ` +
          "--owner-validation <module address>:<entity id>",
        "--owner-validation",
      );
    }
    if (data[0].toLowerCase() !== owner.toLowerCase()) throw mismatch(data[0], "its built-in signer");
  } else if (validation.module === addresses.ownerModule && validation.entityId === OWNER_ENTITY_ID) {
    kind = "leash";
    const current = await OwnerValidationModule__factory.connect(addresses.ownerModule, provider).owner(
      OWNER_ENTITY_ID,
      account,
    );
    if (current.toLowerCase() !== owner.toLowerCase()) {
      throw mismatch(current, LEASH_ACCOUNT_ID.test(accountId) ? "its Leash owner" : "Leash's owner module's owner");
    }
  } else {
    kind = "validation-module";
    if ((await provider.getCode(validation.module)) === "0x") {
      throw new InvalidAddressError(
        `--owner-validation: no contract at ${validation.module} on chain ${addresses.chainId}; give the address of ` +
          "the validation module that authorizes your calls",
        "--owner-validation",
      );
    }
    // Most owner modules are single-signer ones; any other is checked by simulating the owner's call.
    const signer = await readOrUndefined(
      async () =>
        (await new Contract(validation.module, SINGLE_SIGNER_ABI, provider).getFunction("signers")(
          validation.entityId,
          account,
        )) as string,
    );
    if (signer !== undefined && signer.toLowerCase() !== owner.toLowerCase()) {
      throw mismatch(signer, `the signer of entity ${validation.entityId} of ${validation.module}`);
    }
  }
  return {
    account,
    accountId,
    kind,
    validation,
    signedActions:
      kind === "leash"
        ? { supported: true }
        : {
            supported: false,
            reason:
              `account ${account} ("${accountId}") checks its owner's signatures in a form the Ledger cannot show ` +
              "field by field (" +
              (kind === "built-in-signer"
                ? "ERC-7739 nested typed data whose contents type must sort first among its types, which a " +
                  "SessionGrant's does not, or else a PersonalSign hash"
                : "the validation module's own wrapper of the message hash") +
              "), so a signed grant or revocation could not be read on the device; act by transaction instead " +
              "(--by-transaction, which a real Ledger signs with blind signing on)",
          },
  };
}
