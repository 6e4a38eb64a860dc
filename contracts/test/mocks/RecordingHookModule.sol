// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {IExecutionHookModule} from "../../interfaces/erc6900/IExecutionHookModule.sol";
import {IModule} from "../../interfaces/erc6900/IModule.sol";
import {IValidationHookModule} from "../../interfaces/erc6900/IValidationHookModule.sol";

/// @title RecordingHookModule (test only)
/// @notice A validation hook + execution hook that records every call as an event, so tests can check what the
/// account sent. It can be told to refuse (revert) on any hook, or on `onUninstall`.
contract RecordingHookModule is IValidationHookModule, IExecutionHookModule {
    /// @notice Which call of the module reverts (per account).
    enum Fail {
        None,
        PreUserOp,
        PreRuntime,
        PreSignature,
        PreExecution,
        PostExecution,
        OnUninstall
    }

    mapping(address account => Fail) public failOn;
    mapping(address account => uint256) public installCount;
    mapping(address account => bytes) public lastInstallData;

    event Installed(address indexed account, bytes data);
    event Uninstalled(address indexed account, bytes data);
    event PreUserOpValidationHookCalled(address indexed account, uint32 entityId, bytes32 userOpHash, bytes hookData);
    event PreRuntimeValidationHookCalled(
        address indexed account,
        uint32 entityId,
        address sender,
        uint256 value,
        bytes data,
        bytes hookData
    );
    event PreExecutionHookCalled(address indexed account, uint32 entityId, address sender, uint256 value, bytes data);
    event PostExecutionHookCalled(address indexed account, uint32 entityId, bytes context);

    error RecordingHookRefused(Fail where);

    /// @notice Makes the next calls of `where` from `account` revert.
    function setFailOn(address account, Fail where) external {
        failOn[account] = where;
    }

    function onInstall(bytes calldata data) external {
        ++installCount[msg.sender];
        lastInstallData[msg.sender] = data;
        emit Installed(msg.sender, data);
    }

    function onUninstall(bytes calldata data) external {
        if (failOn[msg.sender] == Fail.OnUninstall) revert RecordingHookRefused(Fail.OnUninstall);
        emit Uninstalled(msg.sender, data);
    }

    function preUserOpValidationHook(
        uint32 entityId,
        PackedUserOperation calldata userOp,
        bytes32 userOpHash
    ) external returns (uint256) {
        if (failOn[msg.sender] == Fail.PreUserOp) revert RecordingHookRefused(Fail.PreUserOp);
        emit PreUserOpValidationHookCalled(msg.sender, entityId, userOpHash, userOp.signature);
        return 0;
    }

    function preRuntimeValidationHook(
        uint32 entityId,
        address sender,
        uint256 value,
        bytes calldata data,
        bytes calldata authorization
    ) external {
        if (failOn[msg.sender] == Fail.PreRuntime) revert RecordingHookRefused(Fail.PreRuntime);
        emit PreRuntimeValidationHookCalled(msg.sender, entityId, sender, value, data, authorization);
    }

    function preSignatureValidationHook(uint32, address, bytes32, bytes calldata) external view {
        if (failOn[msg.sender] == Fail.PreSignature) revert RecordingHookRefused(Fail.PreSignature);
    }

    function preExecutionHook(
        uint32 entityId,
        address sender,
        uint256 value,
        bytes calldata data
    ) external returns (bytes memory) {
        if (failOn[msg.sender] == Fail.PreExecution) revert RecordingHookRefused(Fail.PreExecution);
        emit PreExecutionHookCalled(msg.sender, entityId, sender, value, data);
        return abi.encode(entityId, data.length);
    }

    function postExecutionHook(uint32 entityId, bytes calldata preExecHookData) external {
        if (failOn[msg.sender] == Fail.PostExecution) revert RecordingHookRefused(Fail.PostExecution);
        emit PostExecutionHookCalled(msg.sender, entityId, preExecHookData);
    }

    function moduleId() external pure returns (string memory) {
        return "leash.test-recording-hook.0.0.1";
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IModule).interfaceId ||
            interfaceId == type(IValidationHookModule).interfaceId ||
            interfaceId == type(IExecutionHookModule).interfaceId;
    }
}
