// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {IModule} from "../../interfaces/erc6900/IModule.sol";
import {IValidationModule} from "../../interfaces/erc6900/IValidationModule.sol";

/// @title RuleBreakingValidationModule (test only)
/// @notice A validation module that breaks ERC-7562 on purpose (reads TIMESTAMP, writes a global counter, calls an
/// address without code), to show the test suite's checker catches each violation.
contract RuleBreakingValidationModule is IValidationModule {
    uint256 public globalCounter;
    uint256 public lastTimestamp;
    address public constant NO_CODE = address(0xdead);

    function validateUserOp(uint32, PackedUserOperation calldata, bytes32) external returns (uint256) {
        // solhint-disable-next-line not-rely-on-time
        lastTimestamp = block.timestamp;
        ++globalCounter;
        (bool success, ) = NO_CODE.call("");
        return success ? 0 : 0;
    }

    function validateRuntime(address, uint32, address, uint256, bytes calldata, bytes calldata) external pure {}

    function validateSignature(address, uint32, address, bytes32, bytes calldata) external pure returns (bytes4) {
        return 0xffffffff;
    }

    function onInstall(bytes calldata) external {}

    function onUninstall(bytes calldata) external {}

    function moduleId() external pure returns (string memory) {
        return "leash.test-rule-breaking.0.0.1";
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IModule).interfaceId ||
            interfaceId == type(IValidationModule).interfaceId;
    }
}
