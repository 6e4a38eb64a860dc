// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IExecutionHookModule} from "../interfaces/erc6900/IExecutionHookModule.sol";
import {
    ExecutionManifest,
    ManifestExecutionFunction,
    ManifestExecutionHook
} from "../interfaces/erc6900/IExecutionModule.sol";
import {
    HookConfig,
    IModularAccount,
    ModuleEntity,
    ValidationConfig,
    ValidationFlags
} from "../interfaces/erc6900/IModularAccount.sol";
import {IModule} from "../interfaces/erc6900/IModule.sol";
import {IValidationHookModule} from "../interfaces/erc6900/IValidationHookModule.sol";
import {IValidationModule} from "../interfaces/erc6900/IValidationModule.sol";
import {HookConfigLib} from "../libraries/HookConfigLib.sol";
import {KnownSelectorsLib} from "../libraries/KnownSelectorsLib.sol";
import {ModuleEntityLib} from "../libraries/ModuleEntityLib.sol";
import {ValidationConfigLib} from "../libraries/ValidationConfigLib.sol";
import {AccountStorage, ExecutionStorage, ValidationStorage, getAccountStorage} from "./AccountStorage.sol";

/// @title ModuleManagerInternals
/// @notice The account's module bookkeeping: installing and uninstalling execution modules and validations, their
/// hooks, and the selectors each validation applies to, in {AccountStorage}. Access control is the account's: these
/// functions are internal, and {ModularAccount} calls them from its native functions after checking the caller (or
/// from `initialize`).
/// @dev Rules kept here so that no module can freeze the account (see {ModularAccount}):
/// - an execution manifest may neither claim nor hook a native or reserved selector ({KnownSelectorsLib});
/// - a validation that controls the account (global, or listing a control selector) carries no hooks;
/// - uninstalling always succeeds for the account: a module's `onUninstall` revert is caught and reported.
/// Invariant: `moduleInstalls[module]` counts the installed validations, hooks and execution installs that use
/// `module`; it is never decremented below zero.
abstract contract ModuleManagerInternals is IModularAccount {
    using EnumerableSet for EnumerableSet.Bytes32Set;
    using HookConfigLib for HookConfig;
    using ModuleEntityLib for ModuleEntity;
    using ValidationConfigLib for ValidationConfig;
    using ValidationConfigLib for ValidationFlags;

    /// @dev Most hooks of each kind per validation: hook data segments are indexed by one byte (0xFF is the
    /// validation's own marker) and the counts are uint8.
    uint256 internal constant _MAX_HOOKS = 255;
    /// @dev `nativeSelectors` bits of a validation.
    uint8 internal constant _EXECUTE_BIT = 1;
    uint8 internal constant _EXECUTE_BATCH_BIT = 2;
    /// @dev Length of a HookConfig at the start of each `hooks` item of `installValidation`.
    uint256 internal constant _HOOK_CONFIG_LENGTH = 25;

    /// @notice `validation` is not installed on this account.
    error AccountValidationNotInstalled(ModuleEntity validation);
    /// @notice `validation` is already installed on this account.
    error AccountValidationAlreadyInstalled(ModuleEntity validation);
    /// @notice `selector` cannot be validated or called that way (a dispatcher, or a nested `execute*` self-call).
    error AccountSelectorNotAllowed(bytes4 selector);
    /// @notice The module address of a validation, hook or execution install is invalid.
    error AccountModuleInvalid(address module, bytes4 expectedInterfaceId);
    /// @notice A hook config of `installValidation` is malformed or duplicated.
    error AccountHookConfigInvalid(HookConfig hook);
    /// @notice More than 255 validation hooks, or 255 execution hooks, on one validation.
    error AccountTooManyHooks();
    /// @notice `selector` is listed twice for one validation.
    error AccountSelectorDuplicated(bytes4 selector);
    /// @notice `hookUninstallData` must be empty or have one item per hook.
    error AccountHookUninstallDataLength(uint256 expected, uint256 given);
    /// @notice `selector` is native, reserved or already installed.
    error AccountExecutionSelectorConflict(bytes4 selector);
    /// @notice `selector` is not installed by `module`.
    error AccountExecutionSelectorNotInstalled(address module, bytes4 selector);
    /// @notice An execution manifest declares an interface id the account must not add.
    error AccountInterfaceIdInvalid(bytes4 interfaceId);
    /// @notice An execution hook of a manifest is missing or duplicated.
    error AccountExecutionHookInvalid(bytes4 selector, uint32 entityId);
    /// @notice `module` has no execution installation on this account.
    error AccountExecutionNotInstalled(address module);
    /// @notice `module` is already installed as an execution module.
    error AccountExecutionAlreadyInstalled(address module);
    /// @notice The manifest given to uninstall `module` is not the one it was installed with.
    error AccountExecutionManifestMismatch(address module);
    /// @notice A manifest puts an execution hook on `selector`, one of the account's own (or reserved) functions:
    /// no module may run code around what the owner needs to keep control.
    error AccountExecutionHookOnNativeFunction(bytes4 selector);
    /// @notice `validation` controls the account (global, or listing a module-management or upgrade function), so
    /// it may carry no hooks: a hook that reverted would lock the owner out.
    error AccountControlValidationHooked(ModuleEntity validation);

    // ─────────────────────────────────────── execution modules ───────────────────────────────────────

    /// @dev {IModularAccount-installExecution}, after the account checked the caller.
    function _installExecution(
        address module,
        ExecutionManifest calldata manifest,
        bytes calldata installData
    ) internal {
        if (!ERC165Checker.supportsInterface(module, type(IModule).interfaceId)) {
            revert AccountModuleInvalid(module, type(IModule).interfaceId);
        }
        AccountStorage storage $ = getAccountStorage();
        if ($.executionManifests[module] != bytes32(0)) revert AccountExecutionAlreadyInstalled(module);
        $.executionManifests[module] = keccak256(abi.encode(manifest));
        ++$.moduleInstalls[module];
        for (uint256 i = 0; i < manifest.executionFunctions.length; ++i) {
            ManifestExecutionFunction calldata fn = manifest.executionFunctions[i];
            bytes4 selector = fn.executionSelector;
            ExecutionStorage storage execution = $.executionStorage[selector];
            if (KnownSelectorsLib.isReservedSelector(selector) || execution.module != address(0)) {
                revert AccountExecutionSelectorConflict(selector);
            }
            execution.module = module;
            execution.skipRuntimeValidation = fn.skipRuntimeValidation;
            execution.allowGlobalValidation = fn.allowGlobalValidation;
        }
        for (uint256 i = 0; i < manifest.executionHooks.length; ++i) {
            ManifestExecutionHook calldata hook = manifest.executionHooks[i];
            // The account's own functions carry no module's hooks: a reverting one would lock the owner out.
            if (KnownSelectorsLib.isReservedSelector(hook.executionSelector)) {
                revert AccountExecutionHookOnNativeFunction(hook.executionSelector);
            }
            if (!hook.isPreHook && !hook.isPostHook)
                revert AccountExecutionHookInvalid(hook.executionSelector, hook.entityId);
            HookConfig config = HookConfigLib.packExecHook(module, hook.entityId, hook.isPreHook, hook.isPostHook);
            if (!$.executionStorage[hook.executionSelector].executionHooks.add(_toBytes32(config))) {
                revert AccountExecutionHookInvalid(hook.executionSelector, hook.entityId);
            }
        }
        for (uint256 i = 0; i < manifest.interfaceIds.length; ++i) {
            bytes4 interfaceId = manifest.interfaceIds[i];
            if (interfaceId == type(IModule).interfaceId || interfaceId == 0xffffffff) {
                revert AccountInterfaceIdInvalid(interfaceId);
            }
            ++$.supportedInterfaces[interfaceId];
        }
        if (installData.length != 0) IModule(module).onInstall(installData);
        emit ExecutionInstalled(module, manifest);
    }

    /// @dev {IModularAccount-uninstallExecution}, after the account checked the caller.
    function _uninstallExecution(
        address module,
        ExecutionManifest calldata manifest,
        bytes calldata uninstallData
    ) internal {
        AccountStorage storage $ = getAccountStorage();
        // Only the manifest it was installed with: a partial or foreign manifest would leave functions routed to the
        // module while forgetting it (and lower another installation's count).
        bytes32 installed = $.executionManifests[module];
        if (installed == bytes32(0)) revert AccountExecutionNotInstalled(module);
        if (installed != keccak256(abi.encode(manifest))) revert AccountExecutionManifestMismatch(module);
        delete $.executionManifests[module];
        _forgetModule(module);
        for (uint256 i = 0; i < manifest.executionFunctions.length; ++i) {
            bytes4 selector = manifest.executionFunctions[i].executionSelector;
            ExecutionStorage storage execution = $.executionStorage[selector];
            if (execution.module != module) revert AccountExecutionSelectorNotInstalled(module, selector);
            execution.module = address(0);
            execution.skipRuntimeValidation = false;
            execution.allowGlobalValidation = false;
        }
        for (uint256 i = 0; i < manifest.executionHooks.length; ++i) {
            ManifestExecutionHook calldata hook = manifest.executionHooks[i];
            HookConfig config = HookConfigLib.packExecHook(module, hook.entityId, hook.isPreHook, hook.isPostHook);
            if (!$.executionStorage[hook.executionSelector].executionHooks.remove(_toBytes32(config))) {
                revert AccountExecutionHookInvalid(hook.executionSelector, hook.entityId);
            }
        }
        for (uint256 i = 0; i < manifest.interfaceIds.length; ++i) {
            // Underflow reverts: an interface id is only removed as often as it was added.
            --$.supportedInterfaces[manifest.interfaceIds[i]];
        }
        bool onUninstallSucceeded = _tryOnUninstall(module, uninstallData);
        emit ExecutionUninstalled(module, onUninstallSucceeded, manifest);
    }

    // ────────────────────────────────────────── validations ──────────────────────────────────────────

    /// @dev {IModularAccount-installValidation}, after the account checked the caller (or from `initialize`).
    function _installValidation(
        ValidationConfig validationConfig,
        bytes4[] calldata selectors,
        bytes calldata installData,
        bytes[] calldata hooks
    ) internal {
        ModuleEntity validationFunction = validationConfig.moduleEntity();
        (address module, uint32 entityId) = validationFunction.unpack();
        if (!ERC165Checker.supportsInterface(module, type(IValidationModule).interfaceId)) {
            revert AccountModuleInvalid(module, type(IValidationModule).interfaceId);
        }
        ValidationStorage storage validation = getAccountStorage().validationStorage[validationFunction];
        if (validation.isInstalled) revert AccountValidationAlreadyInstalled(validationFunction);
        validation.isInstalled = true;
        ++getAccountStorage().moduleInstalls[module];
        validation.flags = validationConfig.flags();

        bool controlsAccount = validationConfig.flags().isGlobal();
        for (uint256 i = 0; i < selectors.length; ++i) {
            bytes4 selector = selectors[i];
            if (KnownSelectorsLib.isDispatcherSelector(selector)) revert AccountSelectorNotAllowed(selector);
            controlsAccount = controlsAccount || KnownSelectorsLib.isControlSelector(selector);
            _addSelector(validation, selector);
        }
        // What the owner needs to keep control runs no other module's code: no hooks on a validation that controls.
        if (controlsAccount && hooks.length != 0) revert AccountControlValidationHooked(validationFunction);
        // Wraps after 2^16 installs of one validation: telling apart installs 2^16 apart within one transaction
        // (between an op's validation and its execution) is not needed.
        unchecked {
            ++validation.installGeneration;
        }

        HookConfig[] memory seen = new HookConfig[](hooks.length);
        for (uint256 i = 0; i < hooks.length; ++i) {
            bytes calldata hookItem = hooks[i];
            if (hookItem.length < _HOOK_CONFIG_LENGTH) revert AccountHookConfigInvalid(HookConfig.wrap(0));
            HookConfig hook = HookConfig.wrap(bytes25(hookItem[:_HOOK_CONFIG_LENGTH]));
            // A fresh validation's hooks all come from this list: a duplicate can only be an earlier item.
            for (uint256 j = 0; j < i; ++j) {
                if (HookConfig.unwrap(seen[j]) == HookConfig.unwrap(hook)) revert AccountHookConfigInvalid(hook);
            }
            seen[i] = hook;
            _installHook(validation, hook);
            if (hookItem.length > _HOOK_CONFIG_LENGTH) IModule(hook.module()).onInstall(hookItem[_HOOK_CONFIG_LENGTH:]);
        }

        if (installData.length != 0) IModule(module).onInstall(installData);
        emit ValidationInstalled(module, entityId);
    }

    /// @dev Stores one hook of a validation being installed (the caller refused duplicates).
    function _installHook(ValidationStorage storage validation, HookConfig hook) internal {
        ++getAccountStorage().moduleInstalls[hook.module()];
        uint8 flags = uint8(uint200(HookConfig.unwrap(hook)));
        if (hook.isValidationHook()) {
            if (flags != HookConfigLib.IS_VALIDATION_HOOK) revert AccountHookConfigInvalid(hook);
            if (!ERC165Checker.supportsInterface(hook.module(), type(IValidationHookModule).interfaceId)) {
                revert AccountModuleInvalid(hook.module(), type(IValidationHookModule).interfaceId);
            }
            uint256 count = validation.validationHookCount;
            if (count == _MAX_HOOKS) revert AccountTooManyHooks();
            if (count == 0) validation.firstValidationHook = hook;
            else validation.laterValidationHooks[count] = hook;
            // count < _MAX_HOOKS = 255: the increment fits uint8.
            validation.validationHookCount = uint8(count + 1);
        } else {
            if (flags == 0 || flags > (HookConfigLib.HAS_PRE | HookConfigLib.HAS_POST))
                revert AccountHookConfigInvalid(hook);
            if (!ERC165Checker.supportsInterface(hook.module(), type(IExecutionHookModule).interfaceId)) {
                revert AccountModuleInvalid(hook.module(), type(IExecutionHookModule).interfaceId);
            }
            uint256 count = validation.executionHookCount;
            if (count == _MAX_HOOKS) revert AccountTooManyHooks();
            if (count == 0) validation.firstExecutionHook = hook;
            else validation.laterExecutionHooks[count] = hook;
            // count < _MAX_HOOKS = 255: the increment fits uint8.
            validation.executionHookCount = uint8(count + 1);
        }
    }

    /// @dev {IModularAccount-uninstallValidation}, after the account checked the caller.
    function _uninstallValidation(
        ModuleEntity validationFunction,
        bytes calldata uninstallData,
        bytes[] calldata hookUninstallData
    ) internal {
        ValidationStorage storage validation = getAccountStorage().validationStorage[validationFunction];
        if (!validation.isInstalled) revert AccountValidationNotInstalled(validationFunction);

        HookConfig[] memory validationHooks = _validationHooks(validation);
        bytes32[] memory executionHooks = _entityExecutionHooks(validation);
        uint256 hookCount = validationHooks.length + executionHooks.length;
        if (hookUninstallData.length != 0 && hookUninstallData.length != hookCount) {
            revert AccountHookUninstallDataLength(hookCount, hookUninstallData.length);
        }

        // Clear the whole configuration first: a module reverting in onUninstall cannot keep it alive.
        _clearHooks(validation, validationHooks.length, executionHooks);
        _clearSelectors(validation);
        validation.flags = ValidationFlags.wrap(0);
        validation.isInstalled = false;
        _forgetModule(validationFunction.module());
        for (uint256 i = 0; i < hookCount; ++i) {
            _forgetModule(
                i < validationHooks.length
                    ? validationHooks[i].module()
                    : _toHookConfig(executionHooks[i - validationHooks.length]).module()
            );
        }

        bool onUninstallSucceeded = true;
        if (hookUninstallData.length != 0) {
            for (uint256 i = 0; i < hookCount; ++i) {
                address hookModule =
                    i < validationHooks.length
                        ? validationHooks[i].module()
                        : _toHookConfig(executionHooks[i - validationHooks.length]).module();
                onUninstallSucceeded = _tryOnUninstall(hookModule, hookUninstallData[i]) && onUninstallSucceeded;
            }
        }
        (address module, uint32 entityId) = validationFunction.unpack();
        // The validation module is told of its removal even with empty data, so that a module which knows its
        // entities (OwnerValidationModule) can clear the one removed without trusting any data (THREATS 31).
        try IModule(module).onUninstall(uninstallData) {} catch {
            onUninstallSucceeded = false;
        }
        emit ValidationUninstalled(module, entityId, onUninstallSucceeded);
    }

    // ──────────────────────────────────── selector and hook storage ───────────────────────────────────

    /// @dev Bit of `nativeSelectors` for `execute` / `executeBatch`, or 0 for any other selector.
    function _nativeSelectorBit(bytes4 selector) internal pure returns (uint8) {
        if (selector == IModularAccount.execute.selector) return _EXECUTE_BIT;
        if (selector == IModularAccount.executeBatch.selector) return _EXECUTE_BATCH_BIT;
        return 0;
    }

    /// @dev Adds `selector` to the validation's list; reverts with {AccountSelectorDuplicated} if it is listed.
    function _addSelector(ValidationStorage storage validation, bytes4 selector) internal {
        uint8 bit = _nativeSelectorBit(selector);
        if (bit != 0) {
            if (validation.nativeSelectors & bit != 0) revert AccountSelectorDuplicated(selector);
            validation.nativeSelectors |= bit;
        } else if (!validation.selectors.add(bytes32(selector))) {
            revert AccountSelectorDuplicated(selector);
        }
    }

    /// @dev Whether the validation lists `selector`.
    function _hasSelector(ValidationStorage storage validation, bytes4 selector) internal view returns (bool) {
        uint8 bit = _nativeSelectorBit(selector);
        return bit != 0 ? validation.nativeSelectors & bit != 0 : validation.selectors.contains(bytes32(selector));
    }

    /// @dev The validation's selectors: `execute` and `executeBatch` first (if listed), then the others.
    function _selectorsOf(ValidationStorage storage validation) internal view returns (bytes4[] memory selectors) {
        uint8 native = validation.nativeSelectors;
        bytes32[] memory others = validation.selectors.values();
        uint256 nativeCount = (native & _EXECUTE_BIT != 0 ? 1 : 0) + (native & _EXECUTE_BATCH_BIT != 0 ? 1 : 0);
        selectors = new bytes4[](nativeCount + others.length);
        uint256 k;
        if (native & _EXECUTE_BIT != 0) selectors[k++] = IModularAccount.execute.selector;
        if (native & _EXECUTE_BATCH_BIT != 0) selectors[k++] = IModularAccount.executeBatch.selector;
        for (uint256 i = 0; i < others.length; ++i) {
            selectors[k++] = bytes4(others[i]);
        }
    }

    /// @dev Empties the validation's selector list.
    function _clearSelectors(ValidationStorage storage validation) internal {
        validation.nativeSelectors = 0;
        bytes32[] memory others = validation.selectors.values();
        for (uint256 i = 0; i < others.length; ++i) {
            validation.selectors.remove(others[i]);
        }
    }

    /// @dev Removes every hook of a validation (the caller read them first).
    function _clearHooks(
        ValidationStorage storage validation,
        uint256 validationHookCount,
        bytes32[] memory executionHooks
    ) internal {
        for (uint256 i = 1; i < validationHookCount; ++i) {
            validation.laterValidationHooks[i] = HookConfig.wrap(0);
        }
        validation.firstValidationHook = HookConfig.wrap(0);
        validation.validationHookCount = 0;
        for (uint256 i = 1; i < executionHooks.length; ++i) {
            validation.laterExecutionHooks[i] = HookConfig.wrap(0);
        }
        validation.firstExecutionHook = HookConfig.wrap(0);
        validation.executionHookCount = 0;
    }

    /// @dev The validation's hooks, in installation order (slot 0 holds the count and the first one).
    function _validationHooks(ValidationStorage storage validation) internal view returns (HookConfig[] memory hooks) {
        uint256 count = validation.validationHookCount;
        hooks = new HookConfig[](count);
        if (count == 0) return hooks;
        hooks[0] = validation.firstValidationHook;
        for (uint256 i = 1; i < count; ++i) {
            hooks[i] = validation.laterValidationHooks[i];
        }
    }

    /// @dev The validation's execution hooks, in installation order (slot 0 holds the count).
    function _entityExecutionHooks(
        ValidationStorage storage validation
    ) internal view returns (bytes32[] memory hooks) {
        uint256 count = validation.executionHookCount;
        hooks = new bytes32[](count);
        if (count == 0) return hooks;
        hooks[0] = _toBytes32(validation.firstExecutionHook);
        for (uint256 i = 1; i < count; ++i) {
            hooks[i] = _toBytes32(validation.laterExecutionHooks[i]);
        }
    }

    /// @dev One installation of `module` less (never below zero).
    function _forgetModule(address module) internal {
        mapping(address => uint256) storage installs = getAccountStorage().moduleInstalls;
        if (installs[module] != 0) --installs[module];
    }

    /// @dev Calls `module.onUninstall(data)` if `data` is not empty; whether it succeeded (a revert is caught).
    function _tryOnUninstall(address module, bytes calldata data) internal returns (bool) {
        if (data.length == 0) return true;
        try IModule(module).onUninstall(data) {
            return true;
        } catch {
            return false;
        }
    }

    function _toBytes32(HookConfig hook) internal pure returns (bytes32) {
        return bytes32(HookConfig.unwrap(hook));
    }

    function _toHookConfig(bytes32 value) internal pure returns (HookConfig) {
        return HookConfig.wrap(bytes25(value));
    }

    function _toHookConfigs(bytes32[] memory values) internal pure returns (HookConfig[] memory hooks) {
        hooks = new HookConfig[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            hooks[i] = _toHookConfig(values[i]);
        }
    }
}
