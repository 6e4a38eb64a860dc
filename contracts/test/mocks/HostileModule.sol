// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {IExecutionHookModule} from "../../interfaces/erc6900/IExecutionHookModule.sol";
import {
    ExecutionManifest,
    IExecutionModule,
    ManifestExecutionFunction,
    ManifestExecutionHook
} from "../../interfaces/erc6900/IExecutionModule.sol";
import {IModule} from "../../interfaces/erc6900/IModule.sol";
import {IValidationHookModule} from "../../interfaces/erc6900/IValidationHookModule.sol";

/// @title HostileModule (test only)
/// @notice A module an owner installed that turned hostile (THREATS 30): it reverts in every hook and every entry
/// point the account may call (`onInstall`, `onUninstall`, its execution function, every validation and execution
/// hook). Only its ERC-165 answer and its manifest work, so the account accepts installing it.
/// - `executionManifest()` installs `attack()` with a pre and post hook on it (hooks on its own function, which the
///   account allows).
/// - `manifestHookingEverything(selectors)` builds a manifest with a pre and post hook on each given selector, to
///   show the account refuses hooks on its own functions.
contract HostileModule is IExecutionModule, IExecutionHookModule, IValidationHookModule {
    /// @notice Every call the account makes into the module reverts with this.
    error HostileModuleRefuses(bytes4 selector);

    /// @notice The module's own execution function; reverts.
    function attack() external pure {
        revert HostileModuleRefuses(this.attack.selector);
    }

    /// @inheritdoc IModule
    function onInstall(bytes calldata) external pure {
        revert HostileModuleRefuses(IModule.onInstall.selector);
    }

    /// @inheritdoc IModule
    function onUninstall(bytes calldata) external pure {
        revert HostileModuleRefuses(IModule.onUninstall.selector);
    }

    /// @inheritdoc IExecutionHookModule
    function preExecutionHook(uint32, address, uint256, bytes calldata) external pure returns (bytes memory) {
        revert HostileModuleRefuses(IExecutionHookModule.preExecutionHook.selector);
    }

    /// @inheritdoc IExecutionHookModule
    function postExecutionHook(uint32, bytes calldata) external pure {
        revert HostileModuleRefuses(IExecutionHookModule.postExecutionHook.selector);
    }

    /// @inheritdoc IValidationHookModule
    function preUserOpValidationHook(uint32, PackedUserOperation calldata, bytes32) external pure returns (uint256) {
        revert HostileModuleRefuses(IValidationHookModule.preUserOpValidationHook.selector);
    }

    /// @inheritdoc IValidationHookModule
    function preRuntimeValidationHook(uint32, address, uint256, bytes calldata, bytes calldata) external pure {
        revert HostileModuleRefuses(IValidationHookModule.preRuntimeValidationHook.selector);
    }

    /// @inheritdoc IValidationHookModule
    function preSignatureValidationHook(uint32, address, bytes32, bytes calldata) external pure {
        revert HostileModuleRefuses(IValidationHookModule.preSignatureValidationHook.selector);
    }

    /// @inheritdoc IExecutionModule
    function executionManifest() external pure returns (ExecutionManifest memory manifest) {
        manifest.executionFunctions = new ManifestExecutionFunction[](1);
        manifest.executionFunctions[0] = ManifestExecutionFunction(this.attack.selector, false, true);
        manifest.executionHooks = new ManifestExecutionHook[](1);
        manifest.executionHooks[0] = ManifestExecutionHook(this.attack.selector, 1, true, true);
        manifest.interfaceIds = new bytes4[](0);
    }

    /// @notice A manifest with no function and a pre and post hook (entity 1) on each of `selectors`.
    function manifestHookingEverything(
        bytes4[] calldata selectors
    ) external pure returns (ExecutionManifest memory manifest) {
        manifest.executionFunctions = new ManifestExecutionFunction[](0);
        manifest.executionHooks = new ManifestExecutionHook[](selectors.length);
        for (uint256 i = 0; i < selectors.length; ++i) {
            manifest.executionHooks[i] = ManifestExecutionHook(selectors[i], 1, true, true);
        }
        manifest.interfaceIds = new bytes4[](0);
    }

    /// @inheritdoc IModule
    function moduleId() external pure returns (string memory) {
        return "leash.test-hostile.0.0.1";
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IModule).interfaceId ||
            interfaceId == type(IExecutionModule).interfaceId ||
            interfaceId == type(IExecutionHookModule).interfaceId ||
            interfaceId == type(IValidationHookModule).interfaceId;
    }
}
