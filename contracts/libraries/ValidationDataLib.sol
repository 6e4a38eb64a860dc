// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {_packValidationData} from "@account-abstraction/contracts/core/Helpers.sol";

/// @title ValidationDataLib
/// @notice Combines the ERC-4337 validation data that an account's validation hooks and validation function return
/// into the one the account hands the EntryPoint.
/// @dev Bits Layout of ERC-4337 validation data (uint256):
/// - [0..160)   authorizer: 0 = valid, 1 = signature failed, anything else an aggregator
/// - [160..208) validUntil (uint48; 0 = no end)
/// - [208..256) validAfter (uint48)
library ValidationDataLib {
    /// @dev ERC-4337 authorizer value for a failed signature.
    address internal constant SIG_FAILED = address(1);
    /// @dev Bit positions of validUntil and validAfter (after the 160-bit authorizer).
    uint8 private constant _VALID_UNTIL_SHIFT = 160;
    uint8 private constant _VALID_AFTER_SHIFT = 208;

    /// @notice A hook or validation returned an authorizer other than 0 or 1 (aggregators are not supported).
    error AccountUnexpectedAuthorizer(address module, uint32 entityId, address authorizer);

    /// @notice The intersection of `current` (what was combined so far) and `next` (the answer of `module`'s entity
    /// `entityId`): the latest validAfter, the earliest validUntil, and a failed signature if either failed.
    /// @dev Read as the EntryPoint's `_parseValidationData` reads them (validUntil 0 = no end), without its memory
    /// structs. Reverts with {AccountUnexpectedAuthorizer} if `next` names an aggregator; `current` is what this
    /// function returned before (or 0), so it never does.
    function intersect(uint256 current, uint256 next, address module, uint32 entityId) internal pure returns (uint256) {
        address nextAuthorizer = address(uint160(next));
        if (nextAuthorizer != address(0) && nextAuthorizer != SIG_FAILED) {
            revert AccountUnexpectedAuthorizer(module, entityId, nextAuthorizer);
        }
        (uint48 currentAfter, uint48 currentUntil) = validityWindow(current);
        (uint48 nextAfter, uint48 nextUntil) = validityWindow(next);
        return
            _packValidationData(
                address(uint160(current)) == SIG_FAILED || nextAuthorizer == SIG_FAILED,
                currentUntil < nextUntil ? currentUntil : nextUntil,
                currentAfter > nextAfter ? currentAfter : nextAfter
            );
    }

    /// @notice validAfter and validUntil of packed validation data; a validUntil of 0 means no end (uint48 max).
    function validityWindow(uint256 validationData) internal pure returns (uint48 validAfter, uint48 validUntil) {
        validAfter = uint48(validationData >> _VALID_AFTER_SHIFT);
        validUntil = uint48(validationData >> _VALID_UNTIL_SHIFT);
        if (validUntil == 0) validUntil = type(uint48).max;
    }
}
