// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Budget, BudgetPacking} from "../libraries/BudgetPacking.sol";
import {AccountSlot, SessionKeySlot, SessionPacking, SessionStateSlot} from "../libraries/SessionPacking.sol";
import {LeashTest} from "./utils/LeashTest.sol";

/// @title PackedSlotsTest
/// @notice Fuzz round-trips of every packed storage slot: what is packed within the documented bounds unpacks
/// unchanged, and no field bleeds into another.
contract PackedSlotsTest is LeashTest {
    using SessionPacking for SessionKeySlot;
    using SessionPacking for SessionStateSlot;
    using SessionPacking for AccountSlot;
    using BudgetPacking for Budget;

    function testFuzz_sessionKey_roundTrips(address signer, uint48 validAfter, uint48 validUntil) external pure {
        SessionKeySlot slot = SessionPacking.packKey(signer, validAfter, validUntil);
        assertEq(slot.signer(), signer, "signer");
        assertEq(slot.validAfter(), validAfter, "validAfter");
        assertEq(slot.validUntil(), validUntil, "validUntil");
    }

    function testFuzz_sessionState_roundTrips(
        uint64 grantId,
        uint32 epoch,
        bool revoked,
        bool canSign,
        uint128 cap
    ) external pure {
        uint256 flags = (revoked ? SessionPacking.FLAG_REVOKED : 0) | (canSign ? SessionPacking.FLAG_CAN_SIGN : 0);
        SessionStateSlot slot = SessionPacking.packState(grantId, epoch, flags, cap);
        assertEq(slot.grantId(), grantId, "grantId");
        assertEq(slot.epoch(), epoch, "epoch");
        assertTrue(slot.isRevoked() == revoked, "revoked");
        assertTrue(slot.canSign() == canSign, "canSign");
        assertEq(slot.valueCapPerCall(), cap, "cap");
        // Unused high bits stay zero.
        assertEq(SessionStateSlot.unwrap(slot) >> 232, 0, "unused bits");
    }

    function testFuzz_sessionState_revokingChangesOnlyTheFlag(
        uint64 grantId,
        uint32 epoch,
        bool canSign,
        uint128 cap
    ) external pure {
        SessionStateSlot slot = SessionPacking.packState(
            grantId,
            epoch,
            canSign ? SessionPacking.FLAG_CAN_SIGN : 0,
            cap
        );
        SessionStateSlot revoked = slot.withRevoked();
        assertTrue(revoked.isRevoked(), "revoked");
        assertEq(revoked.grantId(), grantId, "grantId");
        assertEq(revoked.epoch(), epoch, "epoch");
        assertTrue(revoked.canSign() == canSign, "canSign");
        assertEq(revoked.valueCapPerCall(), cap, "cap");
    }

    function testFuzz_account_roundTrips(uint32 epoch, uint64 grantCount) external pure {
        AccountSlot slot = SessionPacking.packAccount(epoch, grantCount);
        assertEq(slot.epoch(), epoch, "epoch");
        assertEq(slot.grantCount(), grantCount, "grantCount");
    }

    function testFuzz_budget_roundTripsWithinBounds(
        uint256 limit,
        uint256 spent,
        uint256 start,
        uint256 period,
        bool hasCap
    ) external pure {
        limit = limit % (BudgetPacking.MAX_LIMIT + 1);
        spent = spent % (BudgetPacking.MAX_LIMIT + 1);
        start = start % (BudgetPacking.MAX_TIME + 1);
        period = period % (BudgetPacking.MAX_PERIOD + 1);
        Budget budget = BudgetPacking.pack(limit, spent, start, period, hasCap);
        assertEq(budget.limit(), limit, "limit");
        assertEq(budget.spent(), spent, "spent");
        assertEq(budget.periodStart(), start, "periodStart");
        assertEq(budget.periodLength(), period, "periodLength");
        assertTrue(budget.hasPerCallCap() == hasCap, "hasPerCallCap");
    }

    function test_budget_holdsTheExtremes() external pure {
        Budget budget = BudgetPacking.pack(
            BudgetPacking.MAX_LIMIT,
            BudgetPacking.MAX_LIMIT,
            BudgetPacking.MAX_TIME,
            BudgetPacking.MAX_PERIOD,
            true
        );
        assertEq(budget.limit(), type(uint96).max, "limit");
        assertEq(budget.spent(), type(uint96).max, "spent");
        assertEq(budget.periodStart(), type(uint40).max, "periodStart");
        assertEq(budget.periodLength(), (1 << 23) - 1, "periodLength");
        assertTrue(budget.hasPerCallCap(), "hasPerCallCap");
        assertEq(Budget.unwrap(budget), type(uint256).max, "every bit used");
    }
}
