// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {GreeterExecutionModule} from "./GreeterExecutionModule.sol";

/// @title LateModule (test only)
/// @notice A contract that is no ERC-6900 module when a session is granted and becomes one later, as a proxy upgraded
/// to a module's implementation or a counterfactual address deployed with a module's code would: until {becomeModule}
/// it reports ERC-165 alone; after it, the greeter's module interfaces, so an account installs it.
contract LateModule is GreeterExecutionModule {
    /// @notice Whether it reports its module interfaces yet.
    bool public isModule;

    /// @notice From now on, report the module interfaces.
    function becomeModule() external {
        isModule = true;
    }

    /// @inheritdoc GreeterExecutionModule
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return isModule ? super.supportsInterface(interfaceId) : interfaceId == type(IERC165).interfaceId;
    }
}
