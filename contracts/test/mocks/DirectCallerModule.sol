// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {SIG_VALIDATION_FAILED} from "@account-abstraction/contracts/core/Helpers.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {IModule} from "../../interfaces/erc6900/IModule.sol";
import {IValidationModule} from "../../interfaces/erc6900/IValidationModule.sol";

/// @title DirectCallerModule (test only)
/// @notice A module that calls accounts directly, to exercise ERC-6900 direct-call validation (entity 0xffffffff).
/// Its own validation functions refuse everything.
contract DirectCallerModule is IValidationModule {
    error DirectCallerRefuses();

    /// @notice Calls `account` with `data` and returns what it returned; bubbles its revert.
    function forward(address account, bytes calldata data) external payable returns (bytes memory result) {
        bool success;
        (success, result) = account.call{value: msg.value}(data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    function validateUserOp(uint32, PackedUserOperation calldata, bytes32) external pure returns (uint256) {
        return SIG_VALIDATION_FAILED;
    }

    function validateRuntime(address, uint32, address, uint256, bytes calldata, bytes calldata) external pure {
        revert DirectCallerRefuses();
    }

    function validateSignature(address, uint32, address, bytes32, bytes calldata) external pure returns (bytes4) {
        return 0xffffffff;
    }

    function onInstall(bytes calldata) external {}

    function onUninstall(bytes calldata) external {}

    function moduleId() external pure returns (string memory) {
        return "leash.test-direct-caller.0.0.1";
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IModule).interfaceId ||
            interfaceId == type(IValidationModule).interfaceId;
    }
}
