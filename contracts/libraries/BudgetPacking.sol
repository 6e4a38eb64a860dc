// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @dev One budget: what a session may spend of one asset per period, and what it spent in the current period.
/// Bits Layout (low to high):
/// - [0..96)    limit (uint96): most the session may spend per period; never zero for a set budget
/// - [96..192)  spent (uint96): spent in the period that starts at periodStart; always <= limit after a spend
/// - [192..232) periodStart (uint40, unix seconds): start of the period `spent` belongs to
/// - [232..255) periodLength (uint23, seconds): 0 = one period that never ends (a lifetime budget)
/// - [255]      hasPerCallCap: a per-call cap is stored apart (read only when this bit is set)
/// Bounds: limit and spent < 2^96 (7.9e28 base units: 79 billion tokens of 18 decimals); periodLength <= 8,388,607 s
/// (97 days); periodStart < 2^40 s (the year 36812). Setters refuse values beyond these bounds rather than truncate.
type Budget is uint256;

/// @title BudgetPacking
/// @notice Packs and unpacks {Budget} (see its Bits Layout).
library BudgetPacking {
    /// @notice Largest limit a budget can hold.
    uint256 internal constant MAX_LIMIT = type(uint96).max;
    /// @notice Longest period a budget can have, in seconds.
    uint256 internal constant MAX_PERIOD = (1 << 23) - 1;
    /// @notice Latest period start a budget can hold.
    uint256 internal constant MAX_TIME = type(uint40).max;

    uint256 private constant _UINT96_MASK = type(uint96).max;
    uint256 private constant _UINT40_MASK = type(uint40).max;
    uint256 private constant _PERIOD_MASK = (1 << 23) - 1;
    uint8 private constant _SPENT_SHIFT = 96;
    uint8 private constant _START_SHIFT = 192;
    uint8 private constant _PERIOD_SHIFT = 232;
    uint8 private constant _CAP_FLAG_SHIFT = 255;

    /// @dev Packs a budget. The caller guarantees the bounds (limit, spent <= MAX_LIMIT, periodStart <= MAX_TIME,
    /// periodLength <= MAX_PERIOD); values are masked, so an unchecked caller would truncate.
    function pack(
        uint256 limit_,
        uint256 spent_,
        uint256 periodStart_,
        uint256 periodLength_,
        bool hasPerCallCap_
    ) internal pure returns (Budget) {
        return
            Budget.wrap(
                (limit_ & _UINT96_MASK) |
                    ((spent_ & _UINT96_MASK) << _SPENT_SHIFT) |
                    ((periodStart_ & _UINT40_MASK) << _START_SHIFT) |
                    ((periodLength_ & _PERIOD_MASK) << _PERIOD_SHIFT) |
                    ((hasPerCallCap_ ? uint256(1) : 0) << _CAP_FLAG_SHIFT)
            );
    }

    function isSet(Budget budget) internal pure returns (bool) {
        return Budget.unwrap(budget) != 0;
    }

    function limit(Budget budget) internal pure returns (uint256) {
        return Budget.unwrap(budget) & _UINT96_MASK;
    }

    function spent(Budget budget) internal pure returns (uint256) {
        return (Budget.unwrap(budget) >> _SPENT_SHIFT) & _UINT96_MASK;
    }

    function periodStart(Budget budget) internal pure returns (uint256) {
        return (Budget.unwrap(budget) >> _START_SHIFT) & _UINT40_MASK;
    }

    function periodLength(Budget budget) internal pure returns (uint256) {
        return (Budget.unwrap(budget) >> _PERIOD_SHIFT) & _PERIOD_MASK;
    }

    function hasPerCallCap(Budget budget) internal pure returns (bool) {
        return Budget.unwrap(budget) >> _CAP_FLAG_SHIFT != 0;
    }
}
