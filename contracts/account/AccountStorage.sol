// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {HookConfig, ModuleEntity, ValidationFlags} from "../interfaces/erc6900/IModularAccount.sol";

/// @dev What the account knows about one execution selector installed by an execution module.
struct ExecutionStorage {
    // The module that implements the function (zero for native functions and for uninstalled selectors).
    address module;
    // If true, anyone may call the function without runtime validation.
    bool skipRuntimeValidation;
    // If true, a global validation may validate the function.
    bool allowGlobalValidation;
    // Selector-associated execution hooks, as HookConfig values (bytes25 stored left-aligned in bytes32).
    EnumerableSet.Bytes32Set executionHooks;
}

/// @dev What the account knows about one installed validation function.
/// Slot 0 packs what every validation reads (Bits Layout, low to high): flags (8) ‖ isInstalled (8) ‖
/// validationHookCount (8) ‖ executionHookCount (8) ‖ nativeSelectors (8) ‖ firstValidationHook (200) ‖
/// installGeneration (16), so the common case (no hook or one validation hook, no execution hook, `execute` /
/// `executeBatch`) costs one SLOAD, and `executeUserOp` checks the installation with the same SLOAD.
// Slot 0 is full (5 × 8 + 200 + 16 = 256 bits); solhint's heuristic misreads the HookConfig value type's size.
// solhint-disable-next-line gas-struct-packing
struct ValidationStorage {
    // The ERC-6900 validation flags (isGlobal, isSignatureValidation, isUserOpValidation).
    ValidationFlags flags;
    // True while the validation function is installed (flags may legitimately be all zero).
    bool isInstalled;
    // Number of validation hooks (at most 255: the hook data segments index them with one byte, 0xFF reserved).
    uint8 validationHookCount;
    // Number of entity-associated execution hooks (at most 255).
    uint8 executionHookCount;
    // Bit 0: the validation applies to `execute`; bit 1: to `executeBatch` (kept here rather than in `selectors`).
    uint8 nativeSelectors;
    // Validation hook 0 (run first); hooks 1.. are in laterValidationHooks.
    HookConfig firstValidationHook;
    // Counts installs of this validation (never reset by an uninstall; wraps at 2^16): an op validated by one
    // installation must not execute under another (see ModularAccount.executeUserOp). Fills slot 0's last 16 bits,
    // so the fields after it keep their slots.
    uint16 installGeneration;
    mapping(uint256 index => HookConfig) laterValidationHooks;
    // Entity-associated execution hooks in installation order: hook 0 here, hooks 1.. in laterExecutionHooks (the
    // common case, one hook, costs one slot to install and one SLOAD per op; these two fields take the two slots an
    // enumerable set took before, so the fields after them keep their slots).
    HookConfig firstExecutionHook;
    mapping(uint256 index => HookConfig) laterExecutionHooks;
    // Other selectors the validation applies to (besides the global flag and nativeSelectors).
    EnumerableSet.Bytes32Set selectors;
}

/// @dev The account's whole state, in one ERC-7201 namespace.
/// @custom:storage-location erc7201:leash.storage.ModularAccount
struct AccountStorage {
    mapping(bytes4 selector => ExecutionStorage) executionStorage;
    mapping(ModuleEntity validationFunction => ValidationStorage) validationStorage;
    // How many installed execution modules declared each ERC-165 interface id.
    mapping(bytes4 interfaceId => uint256 count) supportedInterfaces;
    // How many installations (validation, hook, execution) use each module address.
    mapping(address module => uint256 count) moduleInstalls;
    // keccak256(abi.encode(manifest)) of each installed execution module (zero: not installed as execution).
    mapping(address module => bytes32 manifestHash) executionManifests;
}

/// @dev keccak256(abi.encode(uint256(keccak256("leash.storage.ModularAccount")) - 1)) & ~bytes32(uint256(0xff))
bytes32 constant ACCOUNT_STORAGE_SLOT = 0x3c7998c847b5aab000462fac8f3cdc434f03395164ae0bf5daf4ead3994dc600;

/// @dev The account's storage struct.
function getAccountStorage() pure returns (AccountStorage storage $) {
    assembly ("memory-safe") {
        $.slot := ACCOUNT_STORAGE_SLOT
    }
}
