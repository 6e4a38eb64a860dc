// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {
    ExecutionManifest,
    IExecutionModule,
    ManifestExecutionFunction,
    ManifestExecutionHook
} from "../../interfaces/erc6900/IExecutionModule.sol";
import {IModule} from "../../interfaces/erc6900/IModule.sol";

/// @title GreeterExecutionModule (test only)
/// @notice An execution module that adds `greet(string)` (validated) and `ping()` (open to anyone) to an account.
contract GreeterExecutionModule is IExecutionModule {
    /// @notice An interface id the module asks the account to advertise.
    bytes4 public constant GREETER_INTERFACE_ID = 0x12345678;

    mapping(address account => string) public greeting;

    event Greeted(address indexed account, string greeting);

    function greet(string calldata text) external returns (string memory) {
        greeting[msg.sender] = text;
        emit Greeted(msg.sender, text);
        return string.concat("hello ", text);
    }

    function ping() external pure returns (uint256) {
        return 42;
    }

    function onInstall(bytes calldata) external {}

    function onUninstall(bytes calldata) external {
        delete greeting[msg.sender];
    }

    function executionManifest() external pure returns (ExecutionManifest memory manifest) {
        manifest.executionFunctions = new ManifestExecutionFunction[](2);
        manifest.executionFunctions[0] = ManifestExecutionFunction(this.greet.selector, false, true);
        manifest.executionFunctions[1] = ManifestExecutionFunction(this.ping.selector, true, false);
        manifest.executionHooks = new ManifestExecutionHook[](0);
        manifest.interfaceIds = new bytes4[](1);
        manifest.interfaceIds[0] = GREETER_INTERFACE_ID;
    }

    function moduleId() external pure returns (string memory) {
        return "leash.test-greeter.0.0.1";
    }

    function supportsInterface(bytes4 interfaceId) public view virtual returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IModule).interfaceId ||
            interfaceId == type(IExecutionModule).interfaceId;
    }
}
