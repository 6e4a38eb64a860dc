// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ReentrantTarget (test only)
/// @notice When called, calls back `account` with the calldata it was given, to show the account refuses re-entry.
contract ReentrantTarget {
    address public account;
    bytes public reentry;

    function arm(address account_, bytes calldata reentry_) external {
        account = account_;
        reentry = reentry_;
    }

    fallback() external {
        (bool success, bytes memory result) = account.call(reentry);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
