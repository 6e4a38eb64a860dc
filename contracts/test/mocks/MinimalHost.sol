// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Call} from "../../interfaces/erc6900/IModularAccount.sol";
import {IModule} from "../../interfaces/erc6900/IModule.sol";
import {IValidationModule} from "../../interfaces/erc6900/IValidationModule.sol";

/// @title MinimalHost (test only)
/// @notice The smallest ERC-6900-shaped host: it installs one validation module and runs runtime validation before
/// `execute` / `executeBatch`, knowing nothing of Leash's account. It shows the session module depends only on the
/// ERC-6900 interfaces.
contract MinimalHost {
    IValidationModule public module;
    uint32 public entityId;

    error MinimalHostOnlySelf();
    error MinimalHostCallFailed(uint256 index);

    function install(IValidationModule module_, uint32 entityId_, bytes calldata installData) external {
        module = module_;
        entityId = entityId_;
        IModule(address(module_)).onInstall(installData);
    }

    function executeWithRuntimeValidation(bytes calldata data, bytes calldata) external payable returns (bytes memory) {
        module.validateRuntime(address(this), entityId, msg.sender, msg.value, data, "");
        (bool success, bytes memory result) = address(this).call{value: msg.value}(data);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
        return result;
    }

    function execute(address target, uint256 value, bytes calldata data) external payable returns (bytes memory) {
        if (msg.sender != address(this)) revert MinimalHostOnlySelf();
        (bool success, bytes memory result) = target.call{value: value}(data);
        if (!success) revert MinimalHostCallFailed(0);
        return result;
    }

    function executeBatch(Call[] calldata calls) external payable returns (bytes[] memory results) {
        if (msg.sender != address(this)) revert MinimalHostOnlySelf();
        results = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool success, bytes memory result) = calls[i].target.call{value: calls[i].value}(calls[i].data);
            if (!success) revert MinimalHostCallFailed(i);
            results[i] = result;
        }
    }

    receive() external payable {}
}
