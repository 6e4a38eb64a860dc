// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";

/// @title UserOpCalldataLib
/// @notice Builds the calldata of a module call that takes `(uint32 entityId, PackedUserOperation userOp, bytes32
/// userOpHash)` (`validateUserOp`, `preUserOpValidationHook`) straight from the account's calldata, with the op's
/// signature replaced by the module's own segment.
/// @dev The bytes are exactly `abi.encodeWithSelector(selector, entityId, op, userOpHash)` where `op` is `userOp`
/// with `signature` replaced (test: contracts/test/UserOpCalldataLib.t.sol compares them on fuzzed ops). Solidity
/// would first copy the whole op into memory and then encode it once per module call; this copies each field once,
/// with CALLDATACOPY.
/// Layout: selector ‖ entityId ‖ 0x60 (the op's offset) ‖ userOpHash ‖ the op's tuple: nine head words (sender,
/// nonce, initCode offset, callData offset, accountGasLimits, preVerificationGas, gasFees, paymasterAndData
/// offset, signature offset), then initCode, callData, paymasterAndData and signature, each as a length word and
/// the bytes padded with zeros to a multiple of 32.
library UserOpCalldataLib {
    /// @dev Where the op's tuple starts in the arguments: after entityId, the op's offset and userOpHash.
    uint256 private constant _TUPLE_OFFSET = 0x60;
    /// @dev Size of the tuple's head: nine words.
    uint256 private constant _TUPLE_HEAD = 0x120;

    /// @notice The calldata of `selector(entityId, userOp with signature = signature, userOpHash)`.
    function encodeCall(
        bytes4 selector,
        uint32 entityId,
        PackedUserOperation calldata userOp,
        bytes calldata signature,
        bytes32 userOpHash
    ) internal pure returns (bytes memory data) {
        bytes calldata initCode = userOp.initCode;
        bytes calldata callData = userOp.callData;
        bytes calldata paymasterAndData = userOp.paymasterAndData;
        assembly ("memory-safe") {
            // Appends `length ‖ bytes ‖ zero padding` at `at`; returns the position after it.
            function appendBytes(at, offset, length) -> next {
                mstore(at, length)
                let start := add(at, 0x20)
                calldatacopy(start, offset, length)
                let padded := and(add(length, 0x1f), not(0x1f))
                // Zero the padding: the word that ends the copied bytes, from their end on.
                mstore(add(start, length), 0)
                next := add(start, padded)
            }

            data := mload(0x40)
            let arguments := add(data, 0x24)
            mstore(add(data, 0x20), selector)
            mstore(arguments, and(entityId, 0xffffffff))
            mstore(add(arguments, 0x20), _TUPLE_OFFSET)
            mstore(add(arguments, 0x40), userOpHash)
            let tuple := add(arguments, _TUPLE_OFFSET)
            // The static fields, read in place: sender, nonce, accountGasLimits, preVerificationGas, gasFees.
            mstore(tuple, shr(96, shl(96, calldataload(userOp))))
            mstore(add(tuple, 0x20), calldataload(add(userOp, 0x20)))
            mstore(add(tuple, 0x80), calldataload(add(userOp, 0x80)))
            mstore(add(tuple, 0xa0), calldataload(add(userOp, 0xa0)))
            mstore(add(tuple, 0xc0), calldataload(add(userOp, 0xc0)))
            let at := add(tuple, _TUPLE_HEAD)
            mstore(add(tuple, 0x40), sub(at, tuple))
            at := appendBytes(at, initCode.offset, initCode.length)
            mstore(add(tuple, 0x60), sub(at, tuple))
            at := appendBytes(at, callData.offset, callData.length)
            mstore(add(tuple, 0xe0), sub(at, tuple))
            at := appendBytes(at, paymasterAndData.offset, paymasterAndData.length)
            mstore(add(tuple, 0x100), sub(at, tuple))
            at := appendBytes(at, signature.offset, signature.length)
            mstore(data, sub(at, add(data, 0x20)))
            // The padding of the last bytes may have written one word past `at`; allocate it too.
            mstore(0x40, add(at, 0x20))
        }
    }
}
