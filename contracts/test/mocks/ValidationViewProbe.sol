// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ModuleEntity} from "../../interfaces/erc6900/IModularAccount.sol";
import {ValidationViewLib} from "../../libraries/ValidationViewLib.sol";

/// @title ValidationViewProbe (test only)
/// @notice Exposes the modules' internal {ValidationViewLib.read}, so that its reading of each layout of
/// `getValidationData`'s answer (and of each malformed one) can be tested directly.
contract ValidationViewProbe {
    /// @notice What `account`'s view says of `validation`: the state (0 Unknown, 1 NotInstalled, 2 Installed) and
    /// the flags in the ERC layout's bits.
    function read(address account, ModuleEntity validation) external view returns (uint8 state, uint8 flags) {
        ValidationViewLib.View view_;
        (view_, flags) = ValidationViewLib.read(account, validation);
        state = uint8(view_);
    }
}
