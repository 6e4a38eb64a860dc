// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Fuzz inputs arrive as memory so the test can re-encode them; gas rules do not apply to tests.
/* solhint-disable gas-calldata-parameters */

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";

import {UserOpCalldataLib} from "../libraries/UserOpCalldataLib.sol";
import {LeashTest} from "./utils/LeashTest.sol";

/// @title UserOpCalldataLibTest
/// @notice The account's hand-built module calldata is byte for byte Solidity's own ABI encoding.
contract UserOpCalldataLibTest is LeashTest {
    /// @dev Runs the library on calldata, as the account does.
    function encodeFromCalldata(
        bytes4 selector,
        uint32 entityId,
        PackedUserOperation calldata userOp,
        bytes calldata signature,
        bytes32 userOpHash
    ) external pure returns (bytes memory data) {
        _dirtyFreeMemory();
        data = UserOpCalldataLib.encodeCall(selector, entityId, userOp, signature, userOpHash);
        // Memory allocated after the call must not overlap it: write a marker right after, then compare again.
        bytes memory next = new bytes(64);
        for (uint256 i = 0; i < next.length; ++i) next[i] = 0xee;
        _dirtyFreeMemory();
        bytes memory copy = UserOpCalldataLib.encodeCall(selector, entityId, userOp, signature, userOpHash);
        assertEq(copy, data, "the first encoding, after more memory was allocated and dirtied");
    }

    function testFuzz_encodeCall_equalsSolidityEncoding(
        bytes4 selector,
        uint32 entityId,
        bytes32 userOpHash,
        PackedUserOperation memory op,
        bytes memory segment
    ) external view {
        bytes memory built = this.encodeFromCalldata(selector, entityId, op, segment, userOpHash);
        op.signature = segment;
        assertEq(built, abi.encodeWithSelector(selector, entityId, op, userOpHash), "calldata");
    }

    function test_encodeCall_padsEveryLengthToWholeWords() external view {
        PackedUserOperation memory op;
        op.sender = address(0x1234);
        op.nonce = 7;
        op.accountGasLimits = bytes32(uint256((1 << 128) | 2));
        op.preVerificationGas = 3;
        op.gasFees = bytes32(uint256((4 << 128) | 5));
        // Lengths 0, 31, 32 and 33: no padding, one short of a word, exactly a word, one past it.
        op.initCode = "";
        op.callData = _bytes(31, 0xaa);
        op.paymasterAndData = _bytes(32, 0xbb);
        bytes memory segment = _bytes(33, 0xcc);
        op.signature = hex"ffff";
        bytes memory built = this.encodeFromCalldata(0x12345678, 9, op, segment, bytes32(uint256(10)));
        op.signature = segment;
        assertEq(built, abi.encodeWithSelector(bytes4(0x12345678), uint32(9), op, bytes32(uint256(10))), "calldata");
    }

    /// @dev Fills the memory past the free pointer with ones, so that bytes the encoder does not write (padding
    /// above all) show up as differences instead of happening to be zero.
    function _dirtyFreeMemory() private pure {
        // Memory-safe: it only writes past the free memory pointer, without claiming that memory.
        assembly ("memory-safe") {
            let free := mload(0x40)
            for {
                let i := 0
            } lt(i, 0x1000) {
                i := add(i, 0x20)
            } {
                mstore(add(free, i), not(0))
            }
        }
    }

    function _bytes(uint256 length, bytes1 fill) private pure returns (bytes memory data) {
        data = new bytes(length);
        for (uint256 i = 0; i < length; ++i) data[i] = fill;
    }
}
