// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModularAccount} from "../../interfaces/erc6900/IModularAccount.sol";
import {SpendLimitHook} from "../../modules/SpendLimitHook.sol";
import {Vm} from "../utils/LeashTest.sol";

/// @title SpendLimitHandler (invariant test handler)
/// @notice Plays the account: installs the hook with one native budget, then spends random amounts at random
/// times through the runtime hook, and keeps a ghost ledger of what the hook accepted per period.
contract SpendLimitHandler {
    Vm private constant _VM = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    uint32 public constant ENTITY = 7;
    uint256 public constant LIMIT = 1 ether;
    uint48 public constant PERIOD = 1 days;
    uint48 public constant ANCHOR = 1_000_000;
    address private constant _RECIPIENT = address(0xBEEF);

    SpendLimitHook public immutable HOOK;

    /// @notice Sum of accepted spends per period start.
    mapping(uint256 periodStart => uint256) public acceptedInPeriod;
    /// @notice The largest per-period sum ever accepted.
    uint256 public maxAcceptedInAnyPeriod;
    uint256 public accepted;
    uint256 public refused;

    constructor(SpendLimitHook hook) {
        HOOK = hook;
        address[] memory assets = new address[](1);
        uint256[] memory limits = new uint256[](1);
        uint48[] memory periods = new uint48[](1);
        uint256[] memory caps = new uint256[](1);
        limits[0] = LIMIT;
        periods[0] = PERIOD;
        hook.onInstall(abi.encode(ENTITY, ANCHOR, assets, limits, periods, caps, new address[](0)));
        _VM.warp(ANCHOR);
    }

    /// @notice Spends `amount` (bounded to twice the limit) now.
    function spend(uint256 amount) external {
        amount = amount % (2 * LIMIT + 1);
        bytes memory data = abi.encodeCall(IModularAccount.execute, (_RECIPIENT, amount, ""));
        try HOOK.preRuntimeValidationHook(ENTITY, address(this), 0, data, "") {
            (, , uint256 periodStart, , ) = HOOK.getBudget(address(this), ENTITY, address(0));
            uint256 total = acceptedInPeriod[periodStart] + amount;
            acceptedInPeriod[periodStart] = total;
            if (total > maxAcceptedInAnyPeriod) maxAcceptedInAnyPeriod = total;
            ++accepted;
        } catch {
            ++refused;
        }
    }

    /// @notice Moves time forward by up to three periods.
    function warp(uint256 seconds_) external {
        _VM.warp(block.timestamp + (seconds_ % (3 * uint256(PERIOD))) + 1);
    }
}
