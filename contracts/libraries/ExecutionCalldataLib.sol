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

    function _selector(bytes calldata data) private pure returns (bytes4) {
        if (data.length < 4) revert ExecutionCalldataUnsupported(bytes4(0));
        return bytes4(data[:4]);
    }
}
