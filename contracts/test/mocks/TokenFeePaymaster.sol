// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IEntryPoint} from "@account-abstraction/contracts/interfaces/IEntryPoint.sol";
import {IPaymaster} from "@account-abstraction/contracts/interfaces/IPaymaster.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title TokenFeePaymaster (test only)
/// @notice An ERC-20 paymaster: pays every op's gas from its EntryPoint deposit and, after the op, takes a fixed
/// fee in `TOKEN` from the account through the account's allowance (after the account's execution hooks ran).
contract TokenFeePaymaster is IPaymaster {
    IEntryPoint public immutable ENTRY_POINT;
    IERC20 public immutable TOKEN;
    uint256 public immutable FEE;

    constructor(IEntryPoint entryPoint, IERC20 token, uint256 fee) {
        ENTRY_POINT = entryPoint;
        TOKEN = token;
        FEE = fee;
    }

    function deposit() external payable {
        ENTRY_POINT.depositTo{value: msg.value}(address(this));
    }

    function validatePaymasterUserOp(
        PackedUserOperation calldata userOp,
        bytes32,
        uint256
    ) external pure returns (bytes memory context, uint256 validationData) {
        return (abi.encode(userOp.sender), 0);
    }

    function postOp(PostOpMode, bytes calldata context, uint256, uint256) external {
        address account = abi.decode(context, (address));
        // slither-disable-next-line unchecked-transfer
        TOKEN.transferFrom(account, address(this), FEE);
    }
}
