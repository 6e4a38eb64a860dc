// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";

import {IModularAccount} from "../../interfaces/erc6900/IModularAccount.sol";
import {SessionConfig, SessionKeyValidationModule} from "../../modules/SessionKeyValidationModule.sol";
import {Vm} from "../utils/LeashTest.sol";

/// @title SessionLifecycleHandler (invariant test handler)
/// @notice Plays the account and its owner: grants, revokes, kills, uninstalls and re-grants sessions at random
/// times, and after each step has the agent try its session on both validation paths (runtime, and user op signed
/// with the agent's key). A ghost model says which sessions are live; the handler counts every disagreement.
contract SessionLifecycleHandler {
    Vm private constant _VM = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    /// @notice Session ids 1..SESSIONS are used.
    uint32 public constant SESSIONS = 4;
    uint256 private constant _AGENT_KEY = 0xA11CE;
    address private constant _PAYEE = address(0xBEEF);
    uint256 private constant _MIN_TTL = 1 hours;
    uint256 private constant _MAX_TTL = 3 days;
    uint256 private constant _MAX_WARP = 2 days;
    uint8 private constant _MODULE_ENTITY_SHIFT = 32;
    uint256 private constant _NONCE_KEY_SHIFT = 64;
    uint256 private constant _VALID_UNTIL_SHIFT = 160;
    uint256 private constant _VALID_AFTER_SHIFT = 208;

    /// @notice What the owner did to one session id, as the model sees it.
    struct Ghost {
        bool installed;
        bool revoked;
        uint32 epoch;
        uint48 validAfter;
        uint48 validUntil;
    }

    SessionKeyValidationModule public immutable MODULE;
    address public immutable AGENT;

    mapping(uint32 sessionId => Ghost) private _ghosts;
    /// @notice The account's revocation epoch, as the model counts kill switches.
    uint32 public epoch;
    /// @notice Validations that passed for a session the model says is dead (revoked, killed, expired or removed).
    uint256 public deadSessionValidations;
    /// @notice Validations refused for a session the model says is live (calls are always in scope).
    uint256 public liveSessionRefusals;
    /// @notice Owner actions (revoke, kill switch, uninstall, grant) that reverted.
    uint256 public ownerActionFailures;
    /// @notice Validations that passed, on either path (shows the run exercised live sessions).
    uint256 public validations;
    /// @notice Kill switches pulled while some session was live (shows the run exercised the kill switch).
    uint256 public killsOfLiveSessions;
    uint256 private _opCounter;

    constructor(SessionKeyValidationModule module) {
        MODULE = module;
        AGENT = _VM.addr(_AGENT_KEY);
    }

    /// @notice The model's state of `sessionId`.
    function ghost(uint32 sessionId) external view returns (Ghost memory) {
        return _ghosts[sessionId];
    }

    /// @notice Whether the model says `sessionId` validates now.
    function modelLive(uint32 sessionId) public view returns (bool) {
        Ghost memory g = _ghosts[sessionId];
        return
            g.installed &&
            !g.revoked &&
            g.epoch == epoch &&
            block.timestamp > g.validAfter &&
            block.timestamp <= g.validUntil;
    }

    /// @notice The owner grants (or re-grants, after an uninstall) a session for a random time-to-live.
    function grant(uint256 idSeed, uint256 ttlSeed) external {
        uint32 id = _id(idSeed);
        if (_ghosts[id].installed) return; // an account refuses to install the same validation twice
        uint48 validAfter = uint48(block.timestamp - 1);
        uint48 validUntil = uint48(block.timestamp + _MIN_TTL + (ttlSeed % (_MAX_TTL - _MIN_TTL)));
        address[] memory targets = new address[](1);
        bytes4[] memory selectors = new bytes4[](1);
        targets[0] = _PAYEE;
        selectors[0] = MODULE.SELECTOR_NO_CALLDATA();
        SessionConfig memory config = SessionConfig(
            id,
            AGENT,
            validAfter,
            validUntil,
            0,
            false,
            targets,
            selectors,
            new uint256[](0)
        );
        try MODULE.onInstall(abi.encode(config)) {
            _ghosts[id] = Ghost(true, false, epoch, validAfter, validUntil);
        } catch {
            ++ownerActionFailures;
        }
        _tryAll();
    }

    /// @notice The owner revokes one session.
    function revoke(uint256 idSeed) external {
        uint32 id = _id(idSeed);
        if (!_ghosts[id].installed) return;
        try MODULE.revoke(id) {
            _ghosts[id].revoked = true;
        } catch {
            ++ownerActionFailures;
        }
        _tryAll();
    }

    /// @notice The owner pulls the kill switch.
    function revokeAll() external {
        for (uint32 id = 1; id <= SESSIONS; ++id) {
            if (modelLive(id)) {
                ++killsOfLiveSessions;
                break;
            }
        }
        try MODULE.revokeAll() {
            ++epoch;
        } catch {
            ++ownerActionFailures;
        }
        _tryAll();
    }

    /// @notice The owner uninstalls a session (the account calls onUninstall with the session id).
    function uninstall(uint256 idSeed) external {
        uint32 id = _id(idSeed);
        if (!_ghosts[id].installed) return;
        try MODULE.onUninstall(abi.encode(id)) {
            delete _ghosts[id];
        } catch {
            ++ownerActionFailures;
        }
        _tryAll();
    }

    /// @notice Time passes.
    function warp(uint256 seconds_) external {
        _VM.warp(block.timestamp + 1 + (seconds_ % _MAX_WARP));
        _tryAll();
    }

    /// @dev The agent tries every session id on both paths; each outcome is compared with the model.
    function _tryAll() private {
        for (uint32 id = 1; id <= SESSIONS; ++id) {
            bool live = modelLive(id);
            _record(live, _runtimeValidates(id));
            _record(live, _userOpValidates(id));
        }
    }

    function _record(bool live, bool validated) private {
        if (validated) ++validations;
        if (validated && !live) ++deadSessionValidations;
        if (!validated && live) ++liveSessionRefusals;
    }

    function _runtimeValidates(uint32 id) private view returns (bool) {
        bytes memory data = abi.encodeCall(IModularAccount.execute, (_PAYEE, 0, ""));
        try MODULE.validateRuntime(address(this), id, AGENT, 0, data, "") {
            return true;
        } catch {
            return false;
        }
    }

    /// @dev Validates an op the agent signed; it passes if the module accepts it and the EntryPoint's time rule
    /// (validAfter < now <= validUntil) holds for the returned validation data.
    function _userOpValidates(uint32 id) private returns (bool) {
        uint192 nonceKey = (uint192(uint160(address(MODULE))) << _MODULE_ENTITY_SHIFT) | id;
        bytes32 hash = keccak256(abi.encode(id, block.timestamp, ++_opCounter));
        (uint8 v, bytes32 r, bytes32 s) = _VM.sign(_AGENT_KEY, hash);
        PackedUserOperation memory op = PackedUserOperation({
            sender: address(this),
            nonce: uint256(nonceKey) << _NONCE_KEY_SHIFT,
            initCode: "",
            callData: abi.encodeCall(IModularAccount.execute, (_PAYEE, 0, "")),
            accountGasLimits: bytes32(0),
            preVerificationGas: 0,
            gasFees: bytes32(0),
            paymasterAndData: "",
            signature: abi.encodePacked(r, s, v)
        });
        try MODULE.validateUserOp(id, op, hash) returns (uint256 validationData) {
            bool sigFailed = uint160(validationData) != 0;
            uint48 validUntil = uint48(validationData >> _VALID_UNTIL_SHIFT);
            uint48 validAfter = uint48(validationData >> _VALID_AFTER_SHIFT);
            if (validUntil == 0) validUntil = type(uint48).max;
            return !sigFailed && block.timestamp > validAfter && block.timestamp <= validUntil;
        } catch {
            return false;
        }
    }

    function _id(uint256 seed) private pure returns (uint32) {
        return uint32(seed % SESSIONS) + 1;
    }
}
