// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title TestFaucet (test only)
/// @notice Pays its caller tokens from its own balance: stands for any inflow during an op (a swap's output, a
/// reward claim, a vault withdrawal, a loan).
contract TestFaucet {
    IERC20 public immutable TOKEN;

    constructor(IERC20 token) {
        TOKEN = token;
    }

    /// @notice Sends `amount` of the token to the caller.
    function drip(uint256 amount) external {
        // slither-disable-next-line unchecked-transfer
        TOKEN.transfer(msg.sender, amount);
    }
}
