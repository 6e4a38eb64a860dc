// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {
    ValidationData,
    _packValidationData,
    _parseValidationData
} from "@account-abstraction/contracts/core/Helpers.sol";

import {ValidationDataLib} from "../libraries/ValidationDataLib.sol";
import {LeashTest} from "./utils/LeashTest.sol";

/// @title ValidationDataIntersectionTest
/// @notice {ValidationDataLib}, which the account uses to combine its hooks' and validation's answers, intersects
/// them exactly as the EntryPoint's own helpers read them: latest validAfter, earliest validUntil (0 = no end), failed
/// if either failed, and any other authorizer (an aggregator) refused.
contract ValidationDataIntersectionTest is LeashTest {
    address private constant _SIG_FAILED = address(1);
    uint256 private constant _AUTHORIZER_MASK = type(uint160).max;

    /// @dev The library call, external so that `vm.expectRevert` sees its revert.
    function intersect(uint256 current, uint256 next) external pure returns (uint256) {
        return ValidationDataLib.intersect(current, next, address(0), 0);
    }

    function testFuzz_intersect_equalsTheEntryPointHelpers(
        uint48 currentAfter,
        uint48 currentUntil,
        bool currentFailed,
        uint48 nextAfter,
        uint48 nextUntil,
        bool nextFailed
    ) external view {
        uint256 current = _packValidationData(currentFailed, currentUntil, currentAfter);
        uint256 next = _packValidationData(nextFailed, nextUntil, nextAfter);
        assertEq(this.intersect(current, next), _reference(current, next), "intersection");
    }

    function testFuzz_intersect_refusesAnyOtherAuthorizer(uint256 next) external {
        address authorizer = address(uint160(next & _AUTHORIZER_MASK));
        vm.assume(authorizer != address(0) && authorizer != _SIG_FAILED);
        vm.expectRevert(
            abi.encodeWithSelector(ValidationDataLib.AccountUnexpectedAuthorizer.selector, address(0), 0, authorizer)
        );
        this.intersect(0, next);
    }

    /// @dev The account's former implementation, on the EntryPoint's memory structs.
    function _reference(uint256 current, uint256 next) private pure returns (uint256) {
        ValidationData memory a = _parseValidationData(current);
        ValidationData memory b = _parseValidationData(next);
        return
            _packValidationData(
                ValidationData({
                    aggregator: (a.aggregator == _SIG_FAILED || b.aggregator == _SIG_FAILED) ? _SIG_FAILED : address(0),
                    validAfter: a.validAfter > b.validAfter ? a.validAfter : b.validAfter,
                    validUntil: a.validUntil < b.validUntil ? a.validUntil : b.validUntil
                })
            );
    }
}
