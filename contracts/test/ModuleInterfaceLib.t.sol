// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IExecutionHookModule} from "../interfaces/erc6900/IExecutionHookModule.sol";
import {IExecutionModule} from "../interfaces/erc6900/IExecutionModule.sol";
import {IModule} from "../interfaces/erc6900/IModule.sol";
import {IValidationHookModule} from "../interfaces/erc6900/IValidationHookModule.sol";
import {IValidationModule} from "../interfaces/erc6900/IValidationModule.sol";
import {ModuleInterfaceLib} from "../libraries/ModuleInterfaceLib.sol";
import {InterfaceReporter} from "./mocks/InterfaceReporter.sol";
import {LeashTest} from "./utils/LeashTest.sol";

/// @dev Exposes the library to calls with a chosen gas limit.
contract ModuleInterfaceProbe {
    function isModule(address target) external view returns (bool) {
        return ModuleInterfaceLib.isModule(target);
    }
}

/// @title ModuleInterfaceLibTest
/// @notice The module question the session module (at grant, and for signatures) and the spend-limit hook (before
/// every op's calls) ask: an address is a module exactly when it reports a module interface through ERC-165.
contract ModuleInterfaceLibTest is LeashTest {
    ModuleInterfaceProbe internal probe = new ModuleInterfaceProbe();

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
            assertTrue(probe.isModule(_reporter(ids[i], InterfaceReporter.Answer.Honest)), "module interface");
        }
    }

    function test_isNoModuleForAnAddressWithoutCode() external view {
        assertTrue(!probe.isModule(address(0xBEEF)), "no code");
    }

    function test_isNoModuleForAContractWithoutSupportsInterface() external view {
        // This test contract has no supportsInterface: the call reverts.
        assertTrue(!probe.isModule(address(this)), "no supportsInterface");
    }

    function test_isNoModuleForAContractReportingOtherInterfacesOnly() external {
        assertTrue(!probe.isModule(_reporter(0x80ac58cd, InterfaceReporter.Answer.Honest)), "ERC-721 only");
    }

    function test_isNoModuleForAnAnswerThatIsNotOneWord() external {
        bytes4 id = type(IModule).interfaceId;
        assertTrue(!probe.isModule(_reporter(id, InterfaceReporter.Answer.Revert)), "revert");
        assertTrue(!probe.isModule(_reporter(id, InterfaceReporter.Answer.Empty)), "empty");
        assertTrue(!probe.isModule(_reporter(id, InterfaceReporter.Answer.ShortWord)), "31 bytes");
    }

    function test_isNoModuleForAnAnswerThatNeedsMoreThanTheProbesGas() external {
        // ERC165Checker, which accounts use at install, would not have accepted it either.
        assertTrue(!probe.isModule(_reporter(type(IModule).interfaceId, InterfaceReporter.Answer.BurnGas)), "gas");
    }

    function test_refusesToAskWithLessGasThanEachQuestionNeeds() external {
        address module = _reporter(type(IExecutionHookModule).interfaceId, InterfaceReporter.Answer.Honest);
        // Enough for the first questions, not for the last one: a starved probe never answers "no module".
        (bool ok, bytes memory data) = address(probe).staticcall{gas: ModuleInterfaceLib.PROBE_GAS_REQUIRED + 10_000}(
            abi.encodeCall(ModuleInterfaceProbe.isModule, (module))
        );
        assertTrue(!ok, "call succeeded");
        assertEq(bytes32(bytes4(data)), bytes32(ModuleInterfaceLib.ModuleProbeGasTooLow.selector), "error");
        assertTrue(probe.isModule{gas: 6 * ModuleInterfaceLib.PROBE_GAS_REQUIRED}(module), "with gas");
    }
}
