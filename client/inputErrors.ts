/**
 * Errors for input that is refused before anything is signed (THREATS item 19). One class per kind of mistake;
 * each message says what was wrong and what to do instead, so a task can print it as is.
 */

/** Base class: the input was refused before anything reached the Ledger. `field` names the option at fault. */
export class LeashInputError extends Error {
  override readonly name: string = "LeashInputError";
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** An address is malformed or its EIP-55 checksum does not match. */
export class InvalidAddressError extends LeashInputError {
  override readonly name = "InvalidAddressError";
}

/** A token symbol is not known on this chain. */
export class UnknownTokenError extends LeashInputError {
  override readonly name = "UnknownTokenError";
}

/** A token's decimals could not be read on chain (no contract there, or no `decimals()`). */
export class TokenDecimalsError extends LeashInputError {
  override readonly name = "TokenDecimalsError";
}

/** A budget or an amount is malformed, zero, negative, too precise, or beyond what the spend-limit hook stores. */
export class InvalidAmountError extends LeashInputError {
  override readonly name = "InvalidAmountError";
}

/** A budget period is malformed or beyond what the spend-limit hook stores. */
export class InvalidPeriodError extends LeashInputError {
  override readonly name = "InvalidPeriodError";
}

/** A time or duration is malformed, in the past, in the wrong order, or beyond the session's packing range. */
export class InvalidTimeError extends LeashInputError {
  override readonly name = "InvalidTimeError";
}

/** A scope entry (`--allow`) is malformed or names a target a session may never call. */
export class InvalidScopeError extends LeashInputError {
  override readonly name = "InvalidScopeError";
}

/** The connected chain is not the one the Leash addresses (or a signed file) are for. */
export class WrongChainError extends LeashInputError {
  override readonly name = "WrongChainError";
}

/** The Leash contracts are not where the address book says, or no address book exists for the chain. */
export class LeashNotDeployedError extends LeashInputError {
  override readonly name = "LeashNotDeployedError";
}

/** The account does not exist, or the configured Ledger address does not own it. */
export class NotAccountOwnerError extends LeashInputError {
  override readonly name = "NotAccountOwnerError";
}

/** The account refused the owner's call when it was simulated, before the Ledger was asked to sign it. */
export class OwnerCallRefusedError extends LeashInputError {
  override readonly name = "OwnerCallRefusedError";
}

/** The owner's account cannot check a signed grant or revocation the Ledger shows: act by transaction instead. */
export class SignedActionUnsupportedError extends LeashInputError {
  override readonly name = "SignedActionUnsupportedError";
}

/** A session id is malformed, already used (grant), or does not exist (revoke, status). */
export class InvalidSessionIdError extends LeashInputError {
  override readonly name = "InvalidSessionIdError";
}

/** A grant or revocation file is malformed or does not match the chain / module it is submitted to. */
export class InvalidSignedFileError extends LeashInputError {
  override readonly name = "InvalidSignedFileError";
}
