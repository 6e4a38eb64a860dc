// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Call, IModularAccount} from "../../interfaces/erc6900/IModularAccount.sol";
import {SpendLimitHook} from "../../modules/SpendLimitHook.sol";
import {AllowancePuller} from "../mocks/AllowancePuller.sol";
import {TestToken} from "../mocks/TestToken.sol";
import {Vm} from "../utils/LeashTest.sol";

/// @title SpendLimitHandler (invariant test handler)
/// @notice Plays the account: installs the hook with a native and a token budget, then runs random ops as an account
/// runs them (validation hook, pre execution hook, the calls, post execution hook; a revert anywhere undoes the op):
/// native payments, token transfers, pulls through the owner's standing allowance by a scoped contract, approvals,
/// approvals used in the same op; the owner approving the puller outside any op; and time jumps. It keeps a ghost
/// ledger of what the account actually lost per asset and period, measured by its own balances.
contract SpendLimitHandler {
    Vm private constant _VM = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    uint32 public constant ENTITY = 7;
    uint256 public constant NATIVE_LIMIT = 1 ether;
    uint256 public constant TOKEN_LIMIT = 100e6;
    uint48 public constant PERIOD = 1 days;
    uint48 public constant ANCHOR = 1_000_000;
    address private constant _RECIPIENT = address(0xBEEF);

    SpendLimitHook public immutable HOOK;
    TestToken public immutable TOKEN;
    AllowancePuller public immutable PULLER;

    /// @notice What the account lost of `asset` (zero: native) in the period starting at `periodStart`, in ops the
    /// hook accepted.
    mapping(address asset => mapping(uint256 periodStart => uint256)) public lostInPeriod;
    /// @notice The largest loss of each asset in any one period.
    mapping(address asset => uint256) public maxLostInAnyPeriod;
    uint256 public accepted;
    uint256 public refused;

    error HandlerOnlySelf();

    constructor(SpendLimitHook hook) {
        HOOK = hook;
        TOKEN = new TestToken("Test USD", "TUSD", 6);
        PULLER = new AllowancePuller(TOKEN, address(0xCAFE));
        address[] memory assets = new address[](2);
        uint256[] memory limits = new uint256[](2);
        uint48[] memory periods = new uint48[](2);
        uint256[] memory caps = new uint256[](2);
        assets[1] = address(TOKEN);
        limits[0] = NATIVE_LIMIT;
        limits[1] = TOKEN_LIMIT;
        periods[0] = PERIOD;
        periods[1] = PERIOD;
        hook.onInstall(abi.encode(ENTITY, ANCHOR, assets, limits, periods, caps, new address[](0)));
        _VM.warp(ANCHOR);
        _VM.deal(address(this), 1_000 ether);
        TOKEN.mint(address(this), 1_000_000e6);
    }

    /// @notice Accepts the native currency a test deals.
    receive() external payable {}

    // ─────────────────────────────────────────── actions ─────────────────────────────────────────────

    /// @notice An op paying `amount` of native currency.
    function payNative(uint256 amount) external {
        _op(_single(_RECIPIENT, amount % (2 * NATIVE_LIMIT + 1), ""));
    }

    /// @notice An op transferring `amount` of the token.
    function transferToken(uint256 amount) external {
        amount = amount % (2 * TOKEN_LIMIT + 1);
        _op(_single(address(TOKEN), 0, abi.encodeCall(TOKEN.transfer, (_RECIPIENT, amount))));
    }

    /// @notice An op calling the scoped puller, which pulls `amount` through the account's standing allowance.
    function pullThroughAllowance(uint256 amount) external {
        amount = amount % (2 * TOKEN_LIMIT + 1);
        _op(_single(address(PULLER), 0, abi.encodeCall(PULLER.pull, (amount))));
    }

    /// @notice An op approving the puller for `approved` and letting it pull `pulled` in the same batch.
    function approveAndPull(uint256 approved, uint256 pulled) external {
        approved = approved % (2 * TOKEN_LIMIT + 1);
        pulled = pulled % (approved + 1);
        Call[] memory calls = new Call[](2);
        calls[0] = Call(address(TOKEN), 0, abi.encodeCall(TOKEN.approve, (address(PULLER), approved)));
        calls[1] = Call(address(PULLER), 0, abi.encodeCall(PULLER.pull, (pulled)));
        _op(abi.encodeCall(IModularAccount.executeBatch, (calls)));
    }

    /// @notice The owner (outside any op) gives the puller a standing allowance of up to ten periods' limits.
    function ownerApproves(uint256 amount) external {
        TOKEN.approve(address(PULLER), amount % (10 * TOKEN_LIMIT + 1));
    }

    /// @notice Moves time forward by up to three periods.
    function warp(uint256 seconds_) external {
        _VM.warp(block.timestamp + (seconds_ % (3 * uint256(PERIOD))) + 1);
    }

    /// @notice Runs one op as the account would; only the handler itself may call it (from {_op}).
    function runOp(bytes calldata data) external {
        if (msg.sender != address(this)) revert HandlerOnlySelf();
        HOOK.preRuntimeValidationHook(ENTITY, address(this), 0, data, "");
        bytes memory context = HOOK.preExecutionHook(ENTITY, address(this), 0, data);
        Call[] memory calls;
        if (bytes4(data[:4]) == IModularAccount.execute.selector) {
            calls = new Call[](1);
            (calls[0].target, calls[0].value, calls[0].data) = abi.decode(data[4:], (address, uint256, bytes));
        } else {
            calls = abi.decode(data[4:], (Call[]));
        }
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool success, ) = calls[i].target.call{value: calls[i].value}(calls[i].data);
            // A failed call fails the op, as the account's execute does.
            if (!success) revert HandlerOnlySelf();
        }
        HOOK.postExecutionHook(ENTITY, context);
    }

    // ─────────────────────────────────────────── internals ───────────────────────────────────────────

    function _single(address target, uint256 value, bytes memory data) private pure returns (bytes memory) {
        return abi.encodeCall(IModularAccount.execute, (target, value, data));
    }

    function _op(bytes memory data) private {
        uint256 native = address(this).balance;
        uint256 tokens = TOKEN.balanceOf(address(this));
        try this.runOp(data) {
            ++accepted;
            uint256 periodStart = ANCHOR + ((block.timestamp - ANCHOR) / PERIOD) * PERIOD;
            _record(address(0), periodStart, native - address(this).balance);
            _record(address(TOKEN), periodStart, tokens - TOKEN.balanceOf(address(this)));
        } catch {
            ++refused;
        }
    }

    function _record(address asset, uint256 periodStart, uint256 lost) private {
        uint256 total = lostInPeriod[asset][periodStart] + lost;
        lostInPeriod[asset][periodStart] = total;
        if (total > maxLostInAnyPeriod[asset]) maxLostInAnyPeriod[asset] = total;
    }
}
