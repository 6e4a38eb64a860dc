// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// The names follow forge-std so the tests read as every Solidity auditor expects.
/// @title Vm
/// @notice The few cheatcodes Leash's Solidity tests use (Hardhat 3's runner implements them; no forge-std here).
// solhint-disable-next-line interface-starts-with-i
interface Vm {
    function warp(uint256 newTimestamp) external;
    function assume(bool condition) external pure;
    function prank(address sender) external;
    function deal(address account, uint256 newBalance) external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert(bytes calldata revertData) external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
}

/// @title LeashTest
/// @notice Base of Leash's Solidity tests: the cheatcode handle and assertion helpers that revert with the values.
abstract contract LeashTest {
    /// @dev The cheatcode address: address(uint160(uint256(keccak256("hevm cheat code")))).
    // solhint-disable-next-line const-name-snakecase
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    error AssertionFailedUint(string what, uint256 left, uint256 right);
    error AssertionFailedBytes32(string what, bytes32 left, bytes32 right);
    error AssertionFailedAddress(string what, address left, address right);
    error AssertionFailedBool(string what, bool value);
    error AssertionFailedBytes(string what, bytes left, bytes right);

    function assertEq(uint256 left, uint256 right, string memory what) internal pure {
        if (left != right) revert AssertionFailedUint(what, left, right);
    }

    function assertEq(bytes32 left, bytes32 right, string memory what) internal pure {
        if (left != right) revert AssertionFailedBytes32(what, left, right);
    }

    function assertEq(address left, address right, string memory what) internal pure {
        if (left != right) revert AssertionFailedAddress(what, left, right);
    }

    function assertEq(bytes memory left, bytes memory right, string memory what) internal pure {
        if (keccak256(left) != keccak256(right)) revert AssertionFailedBytes(what, left, right);
    }

    function assertTrue(bool value, string memory what) internal pure {
        if (!value) revert AssertionFailedBool(what, value);
    }

    function assertLe(uint256 left, uint256 right, string memory what) internal pure {
        if (left > right) revert AssertionFailedUint(what, left, right);
    }
}
