// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IEntryPoint} from "@account-abstraction/contracts/interfaces/IEntryPoint.sol";
import {IPaymaster} from "@account-abstraction/contracts/interfaces/IPaymaster.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";

/// @title AcceptAllPaymaster (test only)
/// @notice Pays for every op from its EntryPoint deposit, to test sessions that use a paymaster.
contract AcceptAllPaymaster is IPaymaster {
    IEntryPoint public immutable ENTRY_POINT;

    constructor(IEntryPoint entryPoint) {
        ENTRY_POINT = entryPoint;
    }

    function deposit() external payable {
        ENTRY_POINT.depositTo{value: msg.value}(address(this));
    }

    function validatePaymasterUserOp(
        PackedUserOperation calldata,
        bytes32,
        uint256
    ) external pure returns (bytes memory context, uint256 validationData) {
        return ("", 0);
    }

    function postOp(PostOpMode, bytes calldata, uint256, uint256) external pure {}
}
