// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SessionKeyValidationModule} from "../modules/SessionKeyValidationModule.sol";
import {SessionLifecycleHandler} from "./handlers/SessionLifecycleHandler.sol";
import {LeashTest} from "./utils/LeashTest.sol";

/// @title SessionLifecycleInvariants
/// @notice For any sequence of grants, time jumps, revocations, kill switches, uninstalls and re-grants, with the
/// agent trying every session on the runtime and the user-op path after each step:
/// - Invariant: a revoked, expired, killed or removed session never validates;
/// - Invariant: revokeAll invalidates every session granted before it;
/// - Invariant: a live session in scope always validates (the suite is not vacuous);
/// - Invariant: the owner can always revoke, pull the kill switch and uninstall, whatever the sessions did.
contract SessionLifecycleInvariants is LeashTest {
    SessionKeyValidationModule private _module;
    SessionLifecycleHandler private _handler;

    function setUp() external {
        _module = new SessionKeyValidationModule(address(0), address(0xEE));
        _handler = new SessionLifecycleHandler(_module);
        vm.warp(1_000_000);
    }

    function targetContracts() external view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(_handler);
    }

    function test_handler_followsAGrantThroughRevocationKillSwitchAndRegrant() external {
        _handler.grant(0, 0); // session 1
        _handler.grant(1, 0); // session 2
        assertTrue(_module.isLive(address(_handler), 1) && _module.isLive(address(_handler), 2), "granted");
        _handler.revoke(0);
        assertTrue(!_module.isLive(address(_handler), 1), "revoked");
        _handler.revokeAll();
        assertTrue(!_module.isLive(address(_handler), 2), "killed");
        _handler.uninstall(1);
        _handler.grant(1, 0);
        assertTrue(_module.isLive(address(_handler), 2), "re-granted after the kill switch");
        _handler.warp(3 days);
        assertTrue(!_module.isLive(address(_handler), 2), "expired");
        assertEq(_handler.deadSessionValidations(), 0, "dead sessions that validated");
        assertEq(_handler.liveSessionRefusals(), 0, "live sessions refused");
        assertEq(_handler.ownerActionFailures(), 0, "owner actions that failed");
        assertLe(1, _handler.validations(), "validations seen");
        assertEq(_handler.killsOfLiveSessions(), 1, "kill switches over live sessions");
    }

    function invariant_revokedExpiredKilledOrRemovedSessionsNeverValidate() external view {
        assertEq(_handler.deadSessionValidations(), 0, "dead sessions that validated");
    }

    function invariant_revokeAllInvalidatesEverySessionGrantedBeforeIt() external view {
        uint32 epoch = _handler.epoch();
        assertEq(_module.epochOf(address(_handler)), epoch, "the module's epoch");
        for (uint32 id = 1; id <= _handler.SESSIONS(); ++id) {
            if (_handler.ghost(id).epoch < epoch) {
                assertTrue(!_module.isLive(address(_handler), id), "a session granted before the kill switch");
            }
        }
    }

    function invariant_liveSessionsValidateAndTheModuleAgreesWithTheModel() external view {
        assertEq(_handler.liveSessionRefusals(), 0, "live sessions refused");
        for (uint32 id = 1; id <= _handler.SESSIONS(); ++id) {
            assertTrue(_module.isLive(address(_handler), id) == _handler.modelLive(id), "isLive vs the model");
        }
    }

    function invariant_ownerCanAlwaysRevokeKillAndUninstall() external view {
        assertEq(_handler.ownerActionFailures(), 0, "owner actions that failed");
    }
}
