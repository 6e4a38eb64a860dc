// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {HookConfig, ModuleEntity} from "../interfaces/erc6900/IModularAccount.sol";

/// @title HookConfigLib
/// @notice Packs and unpacks an ERC-6900 `HookConfig`.
/// @dev Bits Layout of `HookConfig` (bytes25, left-aligned):
/// - [0..20)  module address
/// - [20..24) entity id (uint32, big-endian)
/// - [24]     flags: bit 2 hasPre (exec only), bit 1 hasPost (exec only), bit 0 hook type (0 exec, 1 validation)
library HookConfigLib {
    /// @dev Flag bit: the execution hook has a pre hook.
    uint8 internal constant HAS_PRE = 1 << 2;
    /// @dev Flag bit: the execution hook has a post hook.
    uint8 internal constant HAS_POST = 1 << 1;
    /// @dev Flag bit: the hook is a validation hook (otherwise an execution hook).
    uint8 internal constant IS_VALIDATION_HOOK = 1;
    /// @dev Width of the flags byte, in bits.
    uint8 private constant _FLAGS_BITS = 8;
    /// @dev Width of the entity id, in bits.
    uint8 private constant _ENTITY_ID_BITS = 32;

    /// @notice Packs a validation hook.
    function packValidationHook(address hookModule, uint32 hookEntityId) internal pure returns (HookConfig) {
        return _pack(hookModule, hookEntityId, IS_VALIDATION_HOOK);
    }

    /// @notice Packs an execution hook.
    function packExecHook(
        address hookModule,
        uint32 hookEntityId,
        bool hasPre,
        bool hasPost
    ) internal pure returns (HookConfig) {
        return _pack(hookModule, hookEntityId, (hasPre ? HAS_PRE : 0) | (hasPost ? HAS_POST : 0));
    }

    /// @notice The hook function (module and entity id).
    function moduleEntity(HookConfig config) internal pure returns (ModuleEntity) {
        return ModuleEntity.wrap(bytes24(uint192(uint200(HookConfig.unwrap(config)) >> _FLAGS_BITS)));
    }

    /// @notice The module address of a hook.
    function module(HookConfig config) internal pure returns (address) {
        return address(uint160(uint200(HookConfig.unwrap(config)) >> (_FLAGS_BITS + _ENTITY_ID_BITS)));
    }

    /// @notice The entity id of a hook.
    function entityId(HookConfig config) internal pure returns (uint32) {
        return uint32(uint200(HookConfig.unwrap(config)) >> _FLAGS_BITS);
    }

    /// @notice True for a validation hook, false for an execution hook.
    function isValidationHook(HookConfig config) internal pure returns (bool) {
        return uint8(uint200(HookConfig.unwrap(config))) & IS_VALIDATION_HOOK != 0;
    }

    /// @notice True if the execution hook has a pre hook.
    function hasPreHook(HookConfig config) internal pure returns (bool) {
        return uint8(uint200(HookConfig.unwrap(config))) & HAS_PRE != 0;
    }

    /// @notice True if the execution hook has a post hook.
    function hasPostHook(HookConfig config) internal pure returns (bool) {
        return uint8(uint200(HookConfig.unwrap(config))) & HAS_POST != 0;
    }

    function _pack(address module_, uint32 entityId_, uint8 flags) private pure returns (HookConfig) {
        uint200 packed =
            (uint200(uint160(module_)) << (_ENTITY_ID_BITS + _FLAGS_BITS)) |
                (uint200(entityId_) << _FLAGS_BITS) |
                flags;
        return HookConfig.wrap(bytes25(packed));
    }
}
