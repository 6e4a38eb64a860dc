// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {IModule} from "../../interfaces/erc6900/IModule.sol";
import {IValidationModule} from "../../interfaces/erc6900/IValidationModule.sol";

/// @title SilentValidationModule (test only)
/// @notice A validation module whose `validateUserOp` returns without any data, to show the account refuses an op
/// it cannot read validation data for instead of taking zero (valid, no time bounds).
contract SilentValidationModule is IModule {
    /// @notice Same selector as `IValidationModule.validateUserOp`, but answers nothing.
    function validateUserOp(uint32, PackedUserOperation calldata, bytes32) external pure {}

    function onInstall(bytes calldata) external {}

    function onUninstall(bytes calldata) external {}

    function moduleId() external pure returns (string memory) {
        return "leash.test-silent.0.0.1";
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IModule).interfaceId ||
            interfaceId == type(IValidationModule).interfaceId;
    }
}
