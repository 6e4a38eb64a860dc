// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModularAccount} from "../../interfaces/erc6900/IModularAccount.sol";
import {SpendLimitHook} from "../../modules/SpendLimitHook.sol";
import {AllowancePuller} from "../mocks/AllowancePuller.sol";
import {TestToken} from "../mocks/TestToken.sol";
import {Vm} from "../utils/LeashTest.sol";

/// @title SpendLimitInflowHandler (invariant test handler)
/// @notice Plays an account with a token budget whose ops are paid tokens during their execution (a swap's output, a
/// reward) and then transfer tokens away or let a scoped contract pull them through the account's standing
/// allowance, as an account runs them (validation hook, pre execution hook, the inflow and the call, post execution
/// hook; a revert anywhere undoes the op). Its ghost ledger counts what actually left: what reached the recipient and
/// the puller's sink, so an inflow cannot hide an outflow.
contract SpendLimitInflowHandler {
    Vm private constant _VM = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    uint32 public constant ENTITY = 9;
    uint256 public constant LIMIT = 100e6;
    uint48 public constant PERIOD = 1 days;
    uint48 public constant ANCHOR = 1_000_000;
    address private constant _RECIPIENT = address(0xBEEF);
    address private constant _SINK = address(0xCAFE);

    SpendLimitHook public immutable HOOK;
    TestToken public immutable TOKEN;
    AllowancePuller public immutable PULLER;

    /// @notice What left the account in the period starting at `periodStart`, in ops the hook accepted.
    mapping(uint256 periodStart => uint256) public leftInPeriod;
    /// @notice The most that left in any one period.
    uint256 public maxLeftInAnyPeriod;
    uint256 public accepted;

    error HandlerOnlySelf();

    constructor(SpendLimitHook hook, TestToken token, AllowancePuller puller) {
        HOOK = hook;
        TOKEN = token;
        PULLER = puller;
        address[] memory assets = new address[](1);
        uint256[] memory limits = new uint256[](1);
        uint48[] memory periods = new uint48[](1);
        assets[0] = address(token);
        limits[0] = LIMIT;
        periods[0] = PERIOD;
        hook.onInstall(abi.encode(ENTITY, ANCHOR, assets, limits, periods, new uint256[](1), new address[](0)));
        _VM.warp(ANCHOR);
        token.mint(address(this), 1_000_000e6);
        token.approve(address(puller), type(uint128).max);
    }

    /// @notice An op paid `received` tokens during its execution that then transfers `sent` away.
    function inflowThenTransfer(uint256 received, uint256 sent) external {
        _op(address(TOKEN), abi.encodeCall(TOKEN.transfer, (_RECIPIENT, sent % (2 * LIMIT + 1))), received);
    }

    /// @notice An op paid `received` tokens during its execution whose scoped contract then pulls `pulled`.
    function inflowThenPull(uint256 received, uint256 pulled) external {
        _op(address(PULLER), abi.encodeCall(PULLER.pull, (pulled % (2 * LIMIT + 1))), received);
    }

    /// @notice Moves time forward by up to three periods.
    function warp(uint256 seconds_) external {
        _VM.warp(block.timestamp + (seconds_ % (3 * uint256(PERIOD))) + 1);
    }

    /// @notice Runs one op as the account would; only the handler itself may call it.
    function runOp(address target, bytes calldata callData, uint256 inflow) external {
        if (msg.sender != address(this)) revert HandlerOnlySelf();
        bytes memory data = abi.encodeCall(IModularAccount.execute, (target, 0, callData));
        HOOK.preRuntimeValidationHook(ENTITY, address(this), 0, data, "");
        bytes memory context = HOOK.preExecutionHook(ENTITY, address(this), 0, data);
        TOKEN.mint(address(this), inflow);
        (bool success, ) = target.call(callData);
        if (!success) revert HandlerOnlySelf();
        HOOK.postExecutionHook(ENTITY, context);
    }

    function _op(address target, bytes memory callData, uint256 inflow) private {
        uint256 before = TOKEN.balanceOf(_RECIPIENT) + TOKEN.balanceOf(_SINK);
        try this.runOp(target, callData, inflow % (4 * LIMIT + 1)) {
            ++accepted;
            uint256 periodStart = ANCHOR + ((block.timestamp - ANCHOR) / PERIOD) * PERIOD;
            uint256 total = leftInPeriod[periodStart] + TOKEN.balanceOf(_RECIPIENT) + TOKEN.balanceOf(_SINK) - before;
            leftInPeriod[periodStart] = total;
            if (total > maxLeftInAnyPeriod) maxLeftInAnyPeriod = total;
        } catch {}
    }
}
