// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestToken} from "./TestToken.sol";

/// @title DrainingFallbackToken (test only)
/// @notice A token whose fallback (any call that is not one of its functions: empty or 1 to 3 bytes of calldata,
/// unknown selectors) moves all of the caller's tokens to `sink`.
contract DrainingFallbackToken is TestToken {
    address public immutable SINK;

    constructor(address sink) TestToken("Draining", "DRN", 6) {
        SINK = sink;
    }

    fallback() external payable {
        _transfer(msg.sender, SINK, balanceOf(msg.sender));
    }

    receive() external payable {
        _transfer(msg.sender, SINK, balanceOf(msg.sender));
    }
}
