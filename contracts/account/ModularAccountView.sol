// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {ModuleEntity} from "../interfaces/erc6900/IModularAccount.sol";
import {
    ExecutionDataView,
    IModularAccountView,
    ValidationDataView
} from "../interfaces/erc6900/IModularAccountView.sol";
import {KnownSelectorsLib} from "../libraries/KnownSelectorsLib.sol";
import {ExecutionStorage, ValidationStorage, getAccountStorage} from "./AccountStorage.sol";
import {ModuleManagerInternals} from "./ModuleManagerInternals.sol";

/// @title ModularAccountView
/// @notice The account's views of what is installed: ERC-6900's {IModularAccountView}, and whether a module is in
/// use at all (which Leash's modules ask so that no session is scoped to call a module).
abstract contract ModularAccountView is IModularAccountView, ModuleManagerInternals {
    using EnumerableSet for EnumerableSet.Bytes32Set;

    /// @inheritdoc IModularAccountView
    /// @dev The account's own functions report the account as their module, no runtime-validation skip, and
    /// whether a global validation may validate them; they never carry execution hooks.
    function getExecutionData(bytes4 selector) external view returns (ExecutionDataView memory data) {
        ExecutionStorage storage execution = getAccountStorage().executionStorage[selector];
        if (KnownSelectorsLib.isNativeFunction(selector)) {
            data.module = address(this);
            data.allowGlobalValidation = KnownSelectorsLib.isGlobalNativeFunction(selector);
        } else {
            data.module = execution.module;
            data.skipRuntimeValidation = execution.skipRuntimeValidation;
            data.allowGlobalValidation = execution.allowGlobalValidation;
        }
        data.executionHooks = _toHookConfigs(execution.executionHooks.values());
    }

    /// @inheritdoc IModularAccountView
    function getValidationData(ModuleEntity validationFunction) external view returns (ValidationDataView memory data) {
        ValidationStorage storage validation = getAccountStorage().validationStorage[validationFunction];
        data.validationFlags = validation.flags;
        data.validationHooks = _validationHooks(validation);
        data.executionHooks = _toHookConfigs(_entityExecutionHooks(validation));
        data.selectors = _selectorsOf(validation);
    }

    /// @notice Whether `module` is used by any installed validation, hook or execution function of this account.
    /// @dev Lets a module refuse to treat another installed module as an ordinary call target (Leash's session
    /// module does, so no session can be scoped to call a module that trusts the account).
    /// @param module The module address asked about.
    /// @return Whether any installation on this account uses `module`.
    function isModuleInstalled(address module) external view returns (bool) {
        return getAccountStorage().moduleInstalls[module] != 0;
    }
}
