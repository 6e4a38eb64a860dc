// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SpendLimitHook} from "../modules/SpendLimitHook.sol";
import {SpendLimitHandler} from "./handlers/SpendLimitHandler.sol";
import {LeashTest} from "./utils/LeashTest.sol";

/// @title SpendLimitHookInvariants
/// @notice For any sequence of ops (payments, transfers, pulls through standing allowances by a scoped contract,
/// approvals, approvals used in the same op), owner approvals and time jumps: what the account actually lost of
/// each budgeted asset within any one period never exceeds that period's limit, the recorded `spent` never exceeds
/// the limit, and periods stay on the grant's grid.
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
        _handler.payNative(0.6 ether);
        _handler.payNative(0.6 ether);
        _handler.warp(1 days);
        _handler.payNative(0.6 ether);
        assertEq(_handler.accepted(), 2, "accepted ops");
        assertEq(_handler.refused(), 1, "refused ops");
    }

    function test_handler_refusesAPullThroughAStandingAllowanceBeyondTheLimit() external {
        _handler.ownerApproves(1_000e6);
        _handler.pullThroughAllowance(60e6);
        _handler.pullThroughAllowance(60e6);
        assertEq(_handler.accepted(), 1, "accepted pulls");
        assertEq(_handler.refused(), 1, "refused pulls");
        assertEq(_handler.maxLostInAnyPeriod(address(_handler.TOKEN())), 60e6, "tokens lost");
    }

    function invariant_measuredLossWithinAnyPeriodIsAtMostTheLimit() external view {
        assertLe(_handler.maxLostInAnyPeriod(address(0)), _handler.NATIVE_LIMIT(), "native lost in a period");
        assertLe(_handler.maxLostInAnyPeriod(address(_handler.TOKEN())), _handler.TOKEN_LIMIT(), "tokens lost");
    }

    function invariant_spentWithinAnyPeriodIsAtMostTheLimit() external view {
        (uint256 limit, uint256 spent, , , ) = _hook.getBudget(address(_handler), _handler.ENTITY(), address(0));
        assertLe(spent, limit, "recorded native spent");
        (limit, spent, , , ) = _hook.getBudget(address(_handler), _handler.ENTITY(), address(_handler.TOKEN()));
        assertLe(spent, limit, "recorded token spent");
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
