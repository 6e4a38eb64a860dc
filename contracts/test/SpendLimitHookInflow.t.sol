// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SpendLimitHook} from "../modules/SpendLimitHook.sol";
import {SpendLimitInflowHandler} from "./handlers/SpendLimitInflowHandler.sol";
import {AllowancePuller} from "./mocks/AllowancePuller.sol";
import {TestToken} from "./mocks/TestToken.sol";
import {LeashTest} from "./utils/LeashTest.sol";

/// @title SpendLimitHookInflowTest
/// @notice For any sequence of ops that are paid tokens during their execution and send tokens away (a transfer, or
/// a pull through the account's standing allowance): what left the account within the period never exceeds the
/// period's limit. An inflow cannot hide an outflow (the #12 review's H-1).
contract SpendLimitHookInflowTest is LeashTest {
    SpendLimitInflowHandler private _handler;

    function setUp() external {
        TestToken token = new TestToken("Test USD", "TUSD", 6);
        _handler = new SpendLimitInflowHandler(
            new SpendLimitHook(),
            token,
            new AllowancePuller(token, address(0xCAFE))
        );
    }

    function test_handler_chargesATransferOutThatAnInflowOffsets() external {
        _handler.inflowThenTransfer(100e6, 100e6);
        _handler.inflowThenTransfer(100e6, 1);
        assertEq(_handler.accepted(), 1, "accepted ops");
        assertEq(_handler.maxLeftInAnyPeriod(), 100e6, "tokens sent");
    }

    function test_handler_chargesAPullThatAnInflowOffsets() external {
        _handler.inflowThenPull(100e6, 100e6);
        _handler.inflowThenPull(100e6, 1);
        assertEq(_handler.accepted(), 1, "accepted ops");
        assertEq(_handler.maxLeftInAnyPeriod(), 100e6, "tokens pulled");
    }

    /// @dev A fuzzed sequence of ops in one period, each paid tokens during its execution and then transferring or
    /// letting the puller pull (the invariant runner could not target this handler, so the sequence is fuzzed here).
    function testFuzz_whatLeftWithinAPeriodIsAtMostTheLimitWhateverCameIn(
        uint256[6] calldata received,
        uint256[6] calldata sent,
        bool[6] calldata pull
    ) external {
        for (uint256 i = 0; i < received.length; ++i) {
            if (pull[i]) _handler.inflowThenPull(received[i], sent[i]);
            else _handler.inflowThenTransfer(received[i], sent[i]);
        }
        assertLe(_handler.maxLeftInAnyPeriod(), _handler.LIMIT(), "tokens that left in the period");
    }
}
