// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ModuleEntity} from "../../interfaces/erc6900/IModularAccount.sol";

/// @title ScriptedViewAccount (test only)
/// @notice An account whose ERC-6900 `getValidationData` answers, for any validation, the raw bytes the test set (or
/// reverts), so that every layout of the answer, well-formed or not, can be served to {ValidationViewLib}.
contract ScriptedViewAccount {
    bytes private _answer;
    bool private _reverts;

    error ScriptedViewAccountReverted();

    /// @notice The raw return data of every later `getValidationData` call.
    function setAnswer(bytes calldata answer) external {
        _answer = answer;
    }

    /// @notice Makes every later `getValidationData` call revert (or answer again).
    function setReverts(bool reverts) external {
        _reverts = reverts;
    }

    /// @notice Same selector as `IModularAccountView.getValidationData`; returns the scripted bytes as they are.
    function getValidationData(ModuleEntity) external view {
        if (_reverts) revert ScriptedViewAccountReverted();
        bytes memory answer = _answer;
        assembly ("memory-safe") {
            return(add(answer, 0x20), mload(answer))
        }
    }
}
