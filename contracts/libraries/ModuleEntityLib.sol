// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ModuleEntity} from "../interfaces/erc6900/IModularAccount.sol";

/// @title ModuleEntityLib
/// @notice Packs and unpacks an ERC-6900 `ModuleEntity`.
/// @dev Bits Layout of `ModuleEntity` (bytes24, left-aligned):
/// - [0..20)  module address
/// - [20..24) entity id (uint32, big-endian)
library ModuleEntityLib {
    /// @dev Width of the entity id, in bits.
    uint8 private constant _ENTITY_ID_BITS = 32;

    /// @notice Packs a module address and an entity id.
    function pack(address moduleAddress, uint32 id) internal pure returns (ModuleEntity) {
        return ModuleEntity.wrap(bytes24((uint192(uint160(moduleAddress)) << _ENTITY_ID_BITS) | uint192(id)));
    }

    /// @notice Unpacks a `ModuleEntity` into its module address and entity id.
    function unpack(ModuleEntity moduleEntity) internal pure returns (address moduleAddress, uint32 id) {
        uint192 raw = uint192(ModuleEntity.unwrap(moduleEntity));
        moduleAddress = address(uint160(raw >> _ENTITY_ID_BITS));
        id = uint32(raw);
    }

    /// @notice The module address of a `ModuleEntity`.
    function module(ModuleEntity moduleEntity) internal pure returns (address) {
        return address(uint160(uint192(ModuleEntity.unwrap(moduleEntity)) >> _ENTITY_ID_BITS));
    }

    /// @notice The entity id of a `ModuleEntity`.
    function entityId(ModuleEntity moduleEntity) internal pure returns (uint32) {
        return uint32(uint192(ModuleEntity.unwrap(moduleEntity)));
    }

    /// @notice True if the `ModuleEntity` is all zero.
    function isEmpty(ModuleEntity moduleEntity) internal pure returns (bool) {
        return ModuleEntity.unwrap(moduleEntity) == bytes24(0);
    }

    /// @notice True if both values are equal.
    function eq(ModuleEntity a, ModuleEntity b) internal pure returns (bool) {
        return ModuleEntity.unwrap(a) == ModuleEntity.unwrap(b);
    }
}
