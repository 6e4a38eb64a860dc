// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {IModule} from "../../interfaces/erc6900/IModule.sol";
import {IValidationModule} from "../../interfaces/erc6900/IValidationModule.sol";

/// @title AggregatorValidationModule (test only)
/// @notice A validation module whose user op validation names a signature aggregator (an address in the low 160
/// bits of its validation data), which the account must refuse: ERC-6900 validations may not delegate to one.
contract AggregatorValidationModule is IValidationModule {
    address public constant AGGREGATOR = address(0xA66);

    function validateUserOp(uint32, PackedUserOperation calldata, bytes32) external pure returns (uint256) {
        return uint160(AGGREGATOR);
    }

    function validateRuntime(address, uint32, address, uint256, bytes calldata, bytes calldata) external pure {}

    function validateSignature(address, uint32, address, bytes32, bytes calldata) external pure returns (bytes4) {
        return 0xffffffff;
    }

    function onInstall(bytes calldata) external {}

    function onUninstall(bytes calldata) external {}

    function moduleId() external pure returns (string memory) {
        return "leash.test-aggregator.0.0.1";
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IModule).interfaceId ||
            interfaceId == type(IValidationModule).interfaceId;
    }
}
