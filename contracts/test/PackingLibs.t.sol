// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Fuzz inputs arrive as memory so the test can re-encode them; gas rules do not apply to tests.
/* solhint-disable gas-calldata-parameters, gas-strict-inequalities */

import {HookConfig, ModuleEntity, ValidationConfig} from "../interfaces/erc6900/IModularAccount.sol";
import {HookConfigLib} from "../libraries/HookConfigLib.sol";
import {HookDataLib} from "../libraries/HookDataLib.sol";
import {ModuleEntityLib} from "../libraries/ModuleEntityLib.sol";
import {ValidationConfigLib} from "../libraries/ValidationConfigLib.sol";
import {LeashTest} from "./utils/LeashTest.sol";

/// @title PackingLibsTest
/// @notice Fuzz tests of the ERC-6900 value packing libraries and of the hook data segment parser.
contract PackingLibsTest is LeashTest {
    using ModuleEntityLib for ModuleEntity;
    using ValidationConfigLib for ValidationConfig;
    using HookConfigLib for HookConfig;

    function testFuzz_moduleEntity_roundTrips(address module, uint32 entityId) external pure {
        ModuleEntity packed = ModuleEntityLib.pack(module, entityId);
        (address m, uint32 e) = packed.unpack();
        assertEq(m, module, "module");
        assertEq(e, entityId, "entityId");
        // Layout: address in the top 20 bytes, entity id in the low 4 bytes, as the standard says.
        assertEq(bytes32(ModuleEntity.unwrap(packed)), bytes32(abi.encodePacked(module, entityId)), "layout");
    }

    function testFuzz_validationConfig_roundTrips(
        address module,
        uint32 entityId,
        bool isGlobal,
        bool isSignature,
        bool isUserOp
    ) external pure {
        ValidationConfig config = ValidationConfigLib.pack(module, entityId, isGlobal, isSignature, isUserOp);
        assertEq(config.module(), module, "module");
        assertEq(config.entityId(), entityId, "entityId");
        assertTrue(config.moduleEntity().eq(ModuleEntityLib.pack(module, entityId)), "moduleEntity");
        assertTrue(ValidationConfigLib.isGlobal(config.flags()) == isGlobal, "isGlobal");
        assertTrue(ValidationConfigLib.isSignatureValidation(config.flags()) == isSignature, "isSignature");
        assertTrue(ValidationConfigLib.isUserOpValidation(config.flags()) == isUserOp, "isUserOp");
        uint8 flags = (isGlobal ? 4 : 0) | (isSignature ? 2 : 0) | (isUserOp ? 1 : 0);
        assertEq(
            bytes32(ValidationConfig.unwrap(config)),
            bytes32(abi.encodePacked(module, entityId, flags)),
            "layout"
        );
    }

    function testFuzz_hookConfig_roundTrips(address module, uint32 entityId, bool hasPre, bool hasPost) external pure {
        HookConfig exec = HookConfigLib.packExecHook(module, entityId, hasPre, hasPost);
        assertEq(exec.module(), module, "exec module");
        assertEq(exec.entityId(), entityId, "exec entityId");
        assertTrue(!exec.isValidationHook(), "exec type");
        assertTrue(exec.hasPreHook() == hasPre && exec.hasPostHook() == hasPost, "exec flags");

        HookConfig validation = HookConfigLib.packValidationHook(module, entityId);
        assertTrue(validation.isValidationHook(), "validation type");
        assertTrue(!validation.hasPreHook() && !validation.hasPostHook(), "validation flags");
        assertEq(
            bytes32(HookConfig.unwrap(validation)),
            bytes32(abi.encodePacked(module, entityId, uint8(1))),
            "layout"
        );
    }

    /// @dev Parses `data` the way the account does for a validation with `hookCount` hooks.
    function parse(
        bytes calldata data,
        uint256 hookCount
    ) external pure returns (bytes[] memory hookData, bytes memory own) {
        hookData = new bytes[](hookCount);
        bytes calldata rest = data;
        for (uint256 i = 0; i < hookCount; ++i) {
            (hookData[i], rest) = HookDataLib.takeHookData(rest, i);
        }
        own = HookDataLib.takeValidationData(rest);
    }

    function testFuzz_hookData_givesEachHookItsSegment(
        bytes memory first,
        bytes memory third,
        bytes memory own
    ) external view {
        vm.assume(first.length > 0 && third.length > 0);
        bytes memory encoded = abi.encodePacked(
            uint8(0),
            uint32(first.length),
            first,
            uint8(2),
            uint32(third.length),
            third,
            uint8(0xff),
            own
        );
        (bytes[] memory hookData, bytes memory parsedOwn) = this.parse(encoded, 3);
        assertEq(hookData[0], first, "hook 0");
        assertEq(hookData[1], "", "hook 1 has no segment");
        assertEq(hookData[2], third, "hook 2");
        assertEq(parsedOwn, own, "validation data");
    }

    function testFuzz_hookData_refusesSegmentsOutOfOrder(bytes memory a, bytes memory b) external {
        vm.assume(a.length > 0 && b.length > 0);
        bytes memory encoded = abi.encodePacked(
            uint8(1),
            uint32(a.length),
            a,
            uint8(0),
            uint32(b.length),
            b,
            uint8(0xff)
        );
        vm.expectRevert(HookDataLib.HookDataMalformed.selector);
        this.parse(encoded, 2);
    }

    function testFuzz_hookData_refusesSegmentForMissingHook(bytes memory a, uint8 index) external {
        vm.assume(a.length > 0 && index < 0xff);
        bytes memory encoded = abi.encodePacked(index, uint32(a.length), a, uint8(0xff));
        // A validation with `index` hooks has none at position `index`.
        vm.expectRevert(HookDataLib.HookDataMalformed.selector);
        this.parse(encoded, index);
    }

    function test_hookData_refusesEmptySegment() external {
        bytes memory encoded = abi.encodePacked(uint8(0), uint32(0), uint8(0xff));
        vm.expectRevert(HookDataLib.HookDataMalformed.selector);
        this.parse(encoded, 1);
    }

    function testFuzz_hookData_refusesTruncatedSegment(bytes memory a, uint32 extra) external {
        vm.assume(a.length > 0 && extra > 0 && uint256(a.length) + extra <= type(uint32).max);
        bytes memory encoded = abi.encodePacked(uint8(0), uint32(a.length + extra), a);
        vm.expectRevert(HookDataLib.HookDataMalformed.selector);
        this.parse(encoded, 1);
    }
}
