// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IStakeManager} from "@account-abstraction/contracts/interfaces/IStakeManager.sol";

import {IExecutionHookModule} from "../interfaces/erc6900/IExecutionHookModule.sol";
import {IExecutionModule} from "../interfaces/erc6900/IExecutionModule.sol";
import {IModule} from "../interfaces/erc6900/IModule.sol";
import {IValidationHookModule} from "../interfaces/erc6900/IValidationHookModule.sol";
import {IValidationModule} from "../interfaces/erc6900/IValidationModule.sol";
import {ForbiddenInterfaceLib} from "../libraries/ForbiddenInterfaceLib.sol";
import {InterfaceReporter} from "./mocks/InterfaceReporter.sol";
import {LeashTest} from "./utils/LeashTest.sol";

/// @dev Exposes the library to calls with a chosen gas limit.
contract ForbiddenInterfaceProbe {
    function isForbidden(address target) external view returns (bool) {
        return ForbiddenInterfaceLib.isForbidden(target);
    }

    function isForbiddenOrUnsure(address target) external view returns (bool) {
        return ForbiddenInterfaceLib.isForbiddenOrUnsure(target);
    }
}

/// @title ForbiddenInterfaceLibTest
/// @notice The question the session module (at grant, and for signatures) and the spend-limit hook (before every op's
/// calls) ask: an address is forbidden exactly when it reports an ERC-6900 module interface or ERC-4337's
/// `IStakeManager` through ERC-165.
contract ForbiddenInterfaceLibTest is LeashTest {
    ForbiddenInterfaceProbe internal probe = new ForbiddenInterfaceProbe();

    function _reporter(bytes4 id, InterfaceReporter.Answer answer) internal returns (address) {
        bytes4[] memory ids = new bytes4[](id == bytes4(0) ? 0 : 1);
        if (id != bytes4(0)) ids[0] = id;
        return address(new InterfaceReporter(ids, answer));
    }

    function test_reportsEachModuleInterfaceAsAModule() external {
        bytes4[5] memory ids = [
            type(IModule).interfaceId,
            type(IValidationModule).interfaceId,
            type(IValidationHookModule).interfaceId,
            type(IExecutionModule).interfaceId,
            type(IExecutionHookModule).interfaceId
        ];
        for (uint256 i = 0; i < ids.length; ++i) {
            assertTrue(probe.isForbidden(_reporter(ids[i], InterfaceReporter.Answer.Honest)), "module interface");
        }
    }

    function test_reportsAModuleThatDoesNotReportErc165sOwnId() external {
        address module = _reporter(type(IValidationModule).interfaceId, InterfaceReporter.Answer.WithoutErc165Id);
        assertTrue(probe.isForbidden(module), "module without 0x01ffc9a7");
    }

    function test_readsAStarvedQuestionAsForbiddenWhenAskedToAnswerRatherThanRevert() external {
        // An ERC-721-only contract needs every question; with gas for about one, the answer must not be "allowed".
        address other = _reporter(0x80ac58cd, InterfaceReporter.Answer.Honest);
        assertTrue(!probe.isForbiddenOrUnsure{gas: 8 * ForbiddenInterfaceLib.PROBE_GAS_REQUIRED}(other), "full gas");
        assertTrue(probe.isForbiddenOrUnsure{gas: ForbiddenInterfaceLib.PROBE_GAS_REQUIRED + 1_000}(other), "starved");
    }

    function test_reportsAStakeManagerAsForbidden() external {
        assertTrue(
            probe.isForbidden(_reporter(type(IStakeManager).interfaceId, InterfaceReporter.Answer.Honest)),
            "stake"
        );
    }

    function test_isNoModuleForAnAddressWithoutCode() external view {
        assertTrue(!probe.isForbidden(address(0xBEEF)), "no code");
    }

    function test_isNoModuleForAContractWithoutSupportsInterface() external view {
        // This test contract has no supportsInterface: the call reverts.
        assertTrue(!probe.isForbidden(address(this)), "no supportsInterface");
    }

    function test_isNoModuleForAContractReportingOtherInterfacesOnly() external {
        assertTrue(!probe.isForbidden(_reporter(0x80ac58cd, InterfaceReporter.Answer.Honest)), "ERC-721 only");
    }

    function test_isNoModuleForAnAnswerThatIsNotOneWord() external {
        bytes4 id = type(IModule).interfaceId;
        assertTrue(!probe.isForbidden(_reporter(id, InterfaceReporter.Answer.Revert)), "revert");
        assertTrue(!probe.isForbidden(_reporter(id, InterfaceReporter.Answer.Empty)), "empty");
        assertTrue(!probe.isForbidden(_reporter(id, InterfaceReporter.Answer.ShortWord)), "31 bytes");
    }

    function test_isNoModuleForAnAnswerThatNeedsMoreThanTheProbesGas() external {
        // ERC165Checker, which accounts use at install, would not have accepted it either.
        assertTrue(!probe.isForbidden(_reporter(type(IModule).interfaceId, InterfaceReporter.Answer.BurnGas)), "gas");
    }

    function test_refusesToAskWithLessGasThanEachQuestionNeeds() external {
        address module = _reporter(type(IExecutionHookModule).interfaceId, InterfaceReporter.Answer.Honest);
        // Enough for the first questions, not for the last one: a starved probe never answers "no module".
        (bool ok, bytes memory data) = address(probe).staticcall{
            gas: ForbiddenInterfaceLib.PROBE_GAS_REQUIRED + 10_000
        }(abi.encodeCall(ForbiddenInterfaceProbe.isForbidden, (module)));
        assertTrue(!ok, "call succeeded");
        assertEq(bytes32(bytes4(data)), bytes32(ForbiddenInterfaceLib.InterfaceProbeGasTooLow.selector), "error");
        assertTrue(probe.isForbidden{gas: 6 * ForbiddenInterfaceLib.PROBE_GAS_REQUIRED}(module), "with gas");
    }
}
