// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @dev A session's key slot. Bits Layout (low to high):
/// - [0..160)   signer: the agent's address (zero: no session)
/// - [160..208) validAfter (uint48, unix seconds): the session is valid strictly after it
/// - [208..256) validUntil (uint48, unix seconds): the session is valid up to and including it
/// Bounds: uint48 seconds reach the year 8,921,556; ERC-4337 validation data uses the same width.
type SessionKeySlot is uint256;

/// @dev A session's state slot. Bits Layout (low to high):
/// - [0..64)    grantId (uint64): unique per account (the account's grant counter); keys the session's scope
/// - [64..96)   epoch (uint32): the account's revocation epoch when the session was granted
/// - [96..104)  flags (uint8): bit 0 revoked, bit 1 may sign ERC-1271 messages
/// - [104..232) valueCapPerCall (uint128): most native value one call may carry (0: none)
/// - [232..256) unused (zero)
type SessionStateSlot is uint256;

/// @dev An account's slot. Bits Layout (low to high):
/// - [0..32)   epoch (uint32): incremented by revokeAll; sessions granted in an older epoch are dead
/// - [32..96)  grantCount (uint64): number of sessions ever granted on the account
/// - [96..256) unused (zero)
/// Bounds: 2^32 - 1 kill switches and 2^64 - 1 grants per account; beyond that the operations revert (checked
/// arithmetic) rather than wrap, so no dead session can come back.
type AccountSlot is uint256;

/// @title SessionPacking
/// @notice Packs and unpacks the session module's storage slots (see the Bits Layout of each type).
library SessionPacking {
    uint256 private constant _ADDRESS_MASK = type(uint160).max;
    uint256 private constant _UINT48_MASK = type(uint48).max;
    uint256 private constant _UINT32_MASK = type(uint32).max;
    uint256 private constant _UINT64_MASK = type(uint64).max;
    uint256 private constant _UINT128_MASK = type(uint128).max;

    uint8 private constant _VALID_AFTER_SHIFT = 160;
    uint8 private constant _VALID_UNTIL_SHIFT = 208;

    uint8 private constant _EPOCH_SHIFT = 64;
    uint8 private constant _FLAGS_SHIFT = 96;
    uint8 private constant _VALUE_CAP_SHIFT = 104;

    uint8 private constant _GRANT_COUNT_SHIFT = 32;

    /// @dev Flag bit: the session was revoked.
    uint256 internal constant FLAG_REVOKED = 1;
    /// @dev Flag bit: the session may sign ERC-1271 messages.
    uint256 internal constant FLAG_CAN_SIGN = 2;

    // ───────────────────────────── key slot ─────────────────────────────

    function packKey(address agent, uint48 after_, uint48 until_) internal pure returns (SessionKeySlot) {
        return
            SessionKeySlot.wrap(
                uint256(uint160(agent)) |
                    (uint256(after_) << _VALID_AFTER_SHIFT) |
                    (uint256(until_) << _VALID_UNTIL_SHIFT)
            );
    }

    function signer(SessionKeySlot slot) internal pure returns (address) {
        return address(uint160(SessionKeySlot.unwrap(slot) & _ADDRESS_MASK));
    }

    function validAfter(SessionKeySlot slot) internal pure returns (uint48) {
        return uint48((SessionKeySlot.unwrap(slot) >> _VALID_AFTER_SHIFT) & _UINT48_MASK);
    }

    function validUntil(SessionKeySlot slot) internal pure returns (uint48) {
        return uint48(SessionKeySlot.unwrap(slot) >> _VALID_UNTIL_SHIFT);
    }

    // ──────────────────────────── state slot ────────────────────────────

    function packState(
        uint64 id,
        uint32 grantEpoch,
        uint256 flagBits,
        uint128 valueCap
    ) internal pure returns (SessionStateSlot) {
        return
            SessionStateSlot.wrap(
                uint256(id) |
                    (uint256(grantEpoch) << _EPOCH_SHIFT) |
                    ((flagBits & 0xff) << _FLAGS_SHIFT) |
                    (uint256(valueCap) << _VALUE_CAP_SHIFT)
            );
    }

    function grantId(SessionStateSlot slot) internal pure returns (uint64) {
        return uint64(SessionStateSlot.unwrap(slot) & _UINT64_MASK);
    }

    function epoch(SessionStateSlot slot) internal pure returns (uint32) {
        return uint32((SessionStateSlot.unwrap(slot) >> _EPOCH_SHIFT) & _UINT32_MASK);
    }

    function flags(SessionStateSlot slot) internal pure returns (uint256) {
        return (SessionStateSlot.unwrap(slot) >> _FLAGS_SHIFT) & 0xff;
    }

    function isRevoked(SessionStateSlot slot) internal pure returns (bool) {
        return flags(slot) & FLAG_REVOKED != 0;
    }

    function canSign(SessionStateSlot slot) internal pure returns (bool) {
        return flags(slot) & FLAG_CAN_SIGN != 0;
    }

    function valueCapPerCall(SessionStateSlot slot) internal pure returns (uint128) {
        return uint128((SessionStateSlot.unwrap(slot) >> _VALUE_CAP_SHIFT) & _UINT128_MASK);
    }

    /// @dev The same slot with the revoked flag set (one word, one SSTORE).
    function withRevoked(SessionStateSlot slot) internal pure returns (SessionStateSlot) {
        return SessionStateSlot.wrap(SessionStateSlot.unwrap(slot) | (FLAG_REVOKED << _FLAGS_SHIFT));
    }

    // ─────────────────────────── account slot ───────────────────────────

    function packAccount(uint32 accountEpoch, uint64 grants) internal pure returns (AccountSlot) {
        return AccountSlot.wrap(uint256(accountEpoch) | (uint256(grants) << _GRANT_COUNT_SHIFT));
    }

    function epoch(AccountSlot slot) internal pure returns (uint32) {
        return uint32(AccountSlot.unwrap(slot) & _UINT32_MASK);
    }

    function grantCount(AccountSlot slot) internal pure returns (uint64) {
        return uint64((AccountSlot.unwrap(slot) >> _GRANT_COUNT_SHIFT) & _UINT64_MASK);
    }
}
