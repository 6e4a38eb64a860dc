// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Fuzz inputs arrive as memory so the test can re-encode them; gas rules do not apply to tests.
/* solhint-disable gas-calldata-parameters */

import {IAccountExecute} from "@account-abstraction/contracts/interfaces/IAccountExecute.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";

import {ExecutionCalldataLib} from "../libraries/ExecutionCalldataLib.sol";
import {LeashTest} from "./utils/LeashTest.sol";

/// @title ExecutionCalldataLibTest
/// @notice The spend-limit hook finds a user op's calls in `executeUserOp` calldata by reading its ABI head; that
/// reading gives exactly the `callData` Solidity's decoder gives, and refuses offsets that point outside the data.
contract ExecutionCalldataLibTest is LeashTest {
    /// @dev Runs the library on calldata, as an execution hook does.
    function userOpCallData(bytes calldata data) external pure returns (bytes memory) {
        return ExecutionCalldataLib.userOpCallData(data);
    }

    function testFuzz_userOpCallData_equalsSolidityDecoding(PackedUserOperation memory op, bytes32 hash) external view {
        bytes memory data = abi.encodeCall(IAccountExecute.executeUserOp, (op, hash));
        (PackedUserOperation memory decoded, ) = abi.decode(_args(data), (PackedUserOperation, bytes32));
        assertEq(this.userOpCallData(data), decoded.callData, "callData read from the head");
        assertEq(this.userOpCallData(data), op.callData, "callData encoded");
    }

    function testFuzz_userOpCallData_refusesAnOpOffsetOutsideTheData(
        PackedUserOperation memory op,
        uint256 offset
    ) external {
        bytes memory data = abi.encodeCall(IAccountExecute.executeUserOp, (op, bytes32(0)));
        vm.assume(offset > data.length);
        assembly ("memory-safe") {
            // The word after the selector: the op's offset.
            mstore(add(data, 0x24), offset)
        }
        vm.expectRevert(bytes(""));
        this.userOpCallData(data);
    }

    function test_userOpCallData_refusesALengthPastTheEnd() external {
        PackedUserOperation memory op;
        op.callData = hex"b61d27f6";
        bytes memory data = abi.encodeCall(IAccountExecute.executeUserOp, (op, bytes32(0)));
        assembly ("memory-safe") {
            // The callData's length word: at 4 (selector) + the op's offset + the callData field's offset.
            let args := add(data, 0x24)
            let opStart := add(args, mload(args))
            mstore(add(opStart, mload(add(opStart, 0x60))), 0xffff)
        }
        vm.expectRevert(bytes(""));
        this.userOpCallData(data);
    }

    function _args(bytes memory data) private pure returns (bytes memory args) {
        args = new bytes(data.length - 4);
        for (uint256 i = 0; i < args.length; ++i) args[i] = data[i + 4];
    }
}
