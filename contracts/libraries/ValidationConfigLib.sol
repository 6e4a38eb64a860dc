// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ModuleEntity, ValidationConfig, ValidationFlags} from "../interfaces/erc6900/IModularAccount.sol";
import {ModuleEntityLib} from "./ModuleEntityLib.sol";

/// @title ValidationConfigLib
/// @notice Packs and unpacks an ERC-6900 `ValidationConfig` and its `ValidationFlags`.
/// @dev Bits Layout of `ValidationConfig` (bytes25, left-aligned):
/// - [0..20)  module address
/// - [20..24) entity id (uint32, big-endian)
/// - [24]     ValidationFlags: bit 2 isGlobal, bit 1 isSignatureValidation, bit 0 isUserOpValidation
library ValidationConfigLib {
    /// @dev Flag bit: the validation applies to every selector that allows global validation.
    uint8 internal constant IS_GLOBAL = 1 << 2;
    /// @dev Flag bit: the validation may be used for ERC-1271 signatures.
    uint8 internal constant IS_SIGNATURE_VALIDATION = 1 << 1;
    /// @dev Flag bit: the validation may be used for user operations.
    uint8 internal constant IS_USER_OP_VALIDATION = 1;
    /// @dev Width of the flags byte, in bits.
    uint8 private constant _FLAGS_BITS = 8;

    /// @notice Packs a validation function and its flags.
    function pack(
        ModuleEntity validationFunction,
        bool global,
        bool signatureValidation,
        bool userOpValidation
    ) internal pure returns (ValidationConfig) {
        uint8 packedFlags =
            (global ? IS_GLOBAL : 0) |
                (signatureValidation ? IS_SIGNATURE_VALIDATION : 0) |
                (userOpValidation ? IS_USER_OP_VALIDATION : 0);
        return
            ValidationConfig.wrap(
                bytes25((uint200(uint192(ModuleEntity.unwrap(validationFunction))) << _FLAGS_BITS) | packedFlags)
            );
    }

    /// @notice Packs a module address, an entity id and the flags.
    function pack(
        address validationModule,
        uint32 validationEntityId,
        bool global,
        bool signatureValidation,
        bool userOpValidation
    ) internal pure returns (ValidationConfig) {
        return
            pack(
                ModuleEntityLib.pack(validationModule, validationEntityId),
                global,
                signatureValidation,
                userOpValidation
            );
    }

    /// @notice The validation function (module and entity id) of a config.
    function moduleEntity(ValidationConfig config) internal pure returns (ModuleEntity) {
        return ModuleEntity.wrap(bytes24(uint192(uint200(ValidationConfig.unwrap(config)) >> _FLAGS_BITS)));
    }

    /// @notice The module address of a config.
    function module(ValidationConfig config) internal pure returns (address) {
        return address(uint160(uint200(ValidationConfig.unwrap(config)) >> (_FLAGS_BITS + 32)));
    }

    /// @notice The entity id of a config.
    function entityId(ValidationConfig config) internal pure returns (uint32) {
        return uint32(uint200(ValidationConfig.unwrap(config)) >> _FLAGS_BITS);
    }

    /// @notice The flags byte of a config.
    function flags(ValidationConfig config) internal pure returns (ValidationFlags) {
        return ValidationFlags.wrap(uint8(uint200(ValidationConfig.unwrap(config))));
    }

    /// @notice True if the flags mark a global validation.
    function isGlobal(ValidationFlags f) internal pure returns (bool) {
        return ValidationFlags.unwrap(f) & IS_GLOBAL != 0;
    }

    /// @notice True if the flags allow ERC-1271 signature validation.
    function isSignatureValidation(ValidationFlags f) internal pure returns (bool) {
        return ValidationFlags.unwrap(f) & IS_SIGNATURE_VALIDATION != 0;
    }

    /// @notice True if the flags allow user operation validation.
    function isUserOpValidation(ValidationFlags f) internal pure returns (bool) {
        return ValidationFlags.unwrap(f) & IS_USER_OP_VALIDATION != 0;
    }
}
