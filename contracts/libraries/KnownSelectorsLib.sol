// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccount} from "@account-abstraction/contracts/interfaces/IAccount.sol";
import {IAccountExecute} from "@account-abstraction/contracts/interfaces/IAccountExecute.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {ModularAccount} from "../account/ModularAccount.sol";
import {ModularAccountView} from "../account/ModularAccountView.sol";
import {IExecutionHookModule} from "../interfaces/erc6900/IExecutionHookModule.sol";
import {IModularAccount} from "../interfaces/erc6900/IModularAccount.sol";
import {IModularAccountView} from "../interfaces/erc6900/IModularAccountView.sol";
import {IModule} from "../interfaces/erc6900/IModule.sol";
import {IValidationHookModule} from "../interfaces/erc6900/IValidationHookModule.sol";
import {IValidationModule} from "../interfaces/erc6900/IValidationModule.sol";

/// @title KnownSelectorsLib
/// @notice The account's rules about function selectors, in one place: which functions it implements itself, which a
/// global validation may validate, which control the account, which dispatch to validation, and which no execution
/// module may claim.
/// @dev The account's own functions are named through the interfaces that declare them (ERC-4337, ERC-6900, ERC-1271,
/// ERC-5267, ERC-165, UUPS) and, for the few only Leash's account has, through {ModularAccount} and
/// {ModularAccountView}.
library KnownSelectorsLib {
    /// @dev The getters of the account's public constants `DIRECT_CALL_VALIDATION_ENTITY_ID` and (UUPS)
    /// `UPGRADE_INTERFACE_VERSION`: a constant's getter has no `.selector` member to name it by.
    bytes4 private constant _DIRECT_CALL_VALIDATION_ENTITY_ID_GETTER = bytes4(
        keccak256("DIRECT_CALL_VALIDATION_ENTITY_ID()")
    );
    bytes4 private constant _UPGRADE_INTERFACE_VERSION_GETTER = bytes4(keccak256("UPGRADE_INTERFACE_VERSION()"));

    /// @notice Native functions a global validation may validate: the executions, module management and upgrades.
    function isGlobalNativeFunction(bytes4 selector) internal pure returns (bool) {
        return
            selector == IModularAccount.execute.selector ||
            selector == IModularAccount.executeBatch.selector ||
            isControlSelector(selector);
    }

    /// @notice Native functions that change the account's modules or code: a validation that applies to one of them
    /// (or is global) controls the account and may carry no hooks.
    function isControlSelector(bytes4 selector) internal pure returns (bool) {
        return
            selector == IModularAccount.installExecution.selector ||
            selector == IModularAccount.uninstallExecution.selector ||
            selector == IModularAccount.installValidation.selector ||
            selector == IModularAccount.uninstallValidation.selector ||
            selector == UUPSUpgradeable.upgradeToAndCall.selector;
    }

    /// @notice Entry points that dispatch to validation themselves: never the target of a validation.
    function isDispatcherSelector(bytes4 selector) internal pure returns (bool) {
        return
            selector == IAccountExecute.executeUserOp.selector ||
            selector == IModularAccount.executeWithRuntimeValidation.selector ||
            selector == IAccount.validateUserOp.selector;
    }

    /// @notice Every function the account implements itself.
    function isNativeFunction(bytes4 selector) internal pure returns (bool) {
        return
            isGlobalNativeFunction(selector) ||
            isDispatcherSelector(selector) ||
            selector == ModularAccount.initialize.selector ||
            selector == ModularAccount.entryPoint.selector ||
            selector == IERC1271.isValidSignature.selector ||
            selector == IERC5267.eip712Domain.selector ||
            selector == IModularAccount.accountId.selector ||
            selector == ModularAccountView.isModuleInstalled.selector ||
            selector == IERC165.supportsInterface.selector ||
            selector == IModularAccountView.getExecutionData.selector ||
            selector == IModularAccountView.getValidationData.selector ||
            selector == UUPSUpgradeable.proxiableUUID.selector ||
            selector == _DIRECT_CALL_VALIDATION_ENTITY_ID_GETTER ||
            selector == _UPGRADE_INTERFACE_VERSION_GETTER;
    }

    /// @notice Selectors an execution module may not claim, nor hook: the native ones and the module interfaces' own
    /// functions.
    function isReservedSelector(bytes4 selector) internal pure returns (bool) {
        return
            isNativeFunction(selector) ||
            selector == IModule.onInstall.selector ||
            selector == IModule.onUninstall.selector ||
            selector == IModule.moduleId.selector ||
            selector == IValidationModule.validateRuntime.selector ||
            selector == IValidationModule.validateSignature.selector ||
            selector == IValidationModule.validateUserOp.selector ||
            selector == IValidationHookModule.preUserOpValidationHook.selector ||
            selector == IValidationHookModule.preRuntimeValidationHook.selector ||
            selector == IValidationHookModule.preSignatureValidationHook.selector ||
            selector == IExecutionHookModule.preExecutionHook.selector ||
            selector == IExecutionHookModule.postExecutionHook.selector;
    }
}
