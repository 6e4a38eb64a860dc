// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SpendLimitHook} from "../modules/SpendLimitHook.sol";
import {SpendLimitHandler} from "./handlers/SpendLimitHandler.sol";
import {LeashTest} from "./utils/LeashTest.sol";

/// @title SpendLimitHookInvariants
/// @notice For any sequence of spends and time jumps: what was spent inside any one period never exceeds the
/// period's limit, and the recorded `spent` equals the sum of the spends accepted in the recorded period.
contract SpendLimitHookInvariants is LeashTest {
    SpendLimitHook private _hook;
    SpendLimitHandler private _handler;

    function setUp() external {
        _hook = new SpendLimitHook();
        _handler = new SpendLimitHandler(_hook);
    }

    function targetContracts() external view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(_handler);
    }

    function test_handler_acceptsWithinAndRefusesBeyondTheLimit() external {
        _handler.spend(0.6 ether);
        _handler.spend(0.6 ether);
        _handler.warp(1 days);
        _handler.spend(0.6 ether);
        assertEq(_handler.accepted(), 2, "accepted spends");
        assertEq(_handler.refused(), 1, "refused spends");
    }

    function invariant_spentWithinAnyPeriodIsAtMostTheLimit() external view {
        assertLe(_handler.maxAcceptedInAnyPeriod(), _handler.LIMIT(), "a period's accepted spends");
        (uint256 limit, uint256 spent, , , ) = _hook.getBudget(address(_handler), _handler.ENTITY(), address(0));
        assertLe(spent, limit, "recorded spent");
    }

    function invariant_recordedSpentEqualsAcceptedSpendsOfThePeriod() external view {
        (, uint256 spent, uint256 periodStart, , ) = _hook.getBudget(address(_handler), _handler.ENTITY(), address(0));
        assertEq(spent, _handler.acceptedInPeriod(periodStart), "recorded spent vs accepted");
    }

    function invariant_periodsStayOnTheGrantGrid() external view {
        (, , uint256 periodStart, uint256 periodLength, ) = _hook.getBudget(
            address(_handler),
            _handler.ENTITY(),
            address(0)
        );
        assertEq((periodStart - _handler.ANCHOR()) % periodLength, 0, "period start on the grid");
    }
}
