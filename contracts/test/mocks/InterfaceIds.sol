// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IExecutionHookModule} from "../../interfaces/erc6900/IExecutionHookModule.sol";
import {IExecutionModule} from "../../interfaces/erc6900/IExecutionModule.sol";
import {IModularAccount} from "../../interfaces/erc6900/IModularAccount.sol";
import {IModularAccountView} from "../../interfaces/erc6900/IModularAccountView.sol";
import {IModule} from "../../interfaces/erc6900/IModule.sol";
import {IValidationHookModule} from "../../interfaces/erc6900/IValidationHookModule.sol";
import {IValidationModule} from "../../interfaces/erc6900/IValidationModule.sol";

/// @title InterfaceIds (test only)
/// @notice Exposes the compiler's `type(I).interfaceId` of each ERC-6900 interface for the conformance test.
contract InterfaceIds {
    function ids() external pure returns (bytes4[7] memory) {
        return
            [
                type(IModule).interfaceId,
                type(IValidationModule).interfaceId,
                type(IValidationHookModule).interfaceId,
                type(IExecutionModule).interfaceId,
                type(IExecutionHookModule).interfaceId,
                type(IModularAccount).interfaceId,
                type(IModularAccountView).interfaceId
            ];
    }
}
