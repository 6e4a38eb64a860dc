// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccountExecute} from "@account-abstraction/contracts/interfaces/IAccountExecute.sol";

import {Call, IModularAccount} from "../interfaces/erc6900/IModularAccount.sol";

/// @title ExecutionCalldataLib
/// @notice Decodes the calls an ERC-6900 account will perform from the calldata it validates.
/// @dev Decoding uses Solidity's ABI decoder, the same one the account's `execute` / `executeBatch` use, so a module
/// sees exactly the calls the account will make: no parser differential, whatever the encoding's offsets.
library ExecutionCalldataLib {
    /// @notice The calldata is not `execute` / `executeBatch` (optionally wrapped in `executeUserOp`).
    error ExecutionCalldataUnsupported(bytes4 selector);

    /// @dev Position of the `callData` offset word in a PackedUserOperation's ABI head (sender, nonce, initCode,
    /// callData, ...: the fourth word).
    uint256 private constant _CALLDATA_FIELD_OFFSET = 3 * 32;

    /// @notice Returns the calls of `callData`, which must be `execute`, `executeBatch`, or (if `allowUserOpWrapper`)
    /// one of them behind the four-byte `executeUserOp` selector, as an account's `executeUserOp` receives it.
    function decodeCalls(bytes calldata callData, bool allowUserOpWrapper) internal pure returns (Call[] memory calls) {
        bytes4 selector = _selector(callData);
        if (allowUserOpWrapper && selector == IAccountExecute.executeUserOp.selector) {
            callData = callData[4:];
            selector = _selector(callData);
        }
        if (selector == IModularAccount.execute.selector) {
            calls = new Call[](1);
            (calls[0].target, calls[0].value, calls[0].data) = abi.decode(callData[4:], (address, uint256, bytes));
        } else if (selector == IModularAccount.executeBatch.selector) {
            calls = abi.decode(callData[4:], (Call[]));
        } else {
            revert ExecutionCalldataUnsupported(selector);
        }
    }

    /// @notice Whether `data` is `execute` or `executeBatch` calldata (by its selector).
    function isExecuteCalldata(bytes calldata data) internal pure returns (bool) {
        if (data.length < 4) return false;
        bytes4 selector = bytes4(data[:4]);
        return selector == IModularAccount.execute.selector || selector == IModularAccount.executeBatch.selector;
    }

    /// @notice The `userOp.callData` field of `executeUserOp(PackedUserOperation userOp, bytes32 userOpHash)`
    /// calldata, as an execution hook receives it, without copying the op to memory.
    /// @dev Reads the ABI head the way Solidity's decoder does (the op's offset after the selector, then the offset
    /// of `callData`, the op's fourth field, and its length); every slice is bounds-checked, so offsets that point
    /// outside `data` revert. `contracts/test/ExecutionCalldataLib.t.sol` compares it with `abi.decode`.
    function userOpCallData(bytes calldata data) internal pure returns (bytes calldata callData) {
        bytes calldata args = data[4:];
        bytes calldata op = args[uint256(bytes32(args[:32])):];
        bytes calldata field = op[uint256(bytes32(op[_CALLDATA_FIELD_OFFSET:_CALLDATA_FIELD_OFFSET + 32])):];
        uint256 length = uint256(bytes32(field[:32]));
        callData = field[32:32 + length];
    }

    function _selector(bytes calldata data) private pure returns (bytes4) {
        if (data.length < 4) revert ExecutionCalldataUnsupported(bytes4(0));
        return bytes4(data[:4]);
    }
}
