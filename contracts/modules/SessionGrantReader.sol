// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SessionGrant, SessionGrantLib} from "../libraries/SessionGrantLib.sol";
import {SessionConfig} from "./SessionKeyValidationModule.sol";

/// @notice What the session module needs of an owner-signed grant, read by {SessionGrantReader}.
struct GrantReading {
    // EIP-712 struct hash of the SessionGrant (the module wraps it in its own domain).
    bytes32 structHash;
    address account;
    uint32 sessionId;
    bool canSignMessages;
    uint32 epoch;
    uint256 nonce;
    // The session module's onInstall data: abi.encode(SessionConfig).
    bytes sessionInstallData;
    // The spend-limit hook's install data for the grant's budgets and paymasters.
    bytes spendLimitInstallData;
    bytes ownerSignature;
}

/// @title SessionGrantReader
/// @notice Reads an owner-signed {SessionGrant} for the session module that deployed it: its EIP-712 struct hash and
/// the configuration it stands for. A separate, stateless contract only so that the module's code stays below the
/// 24,576-byte limit; it holds no storage and trusts nothing, so calling it adds no authority and no ERC-7562 access.
contract SessionGrantReader {
    /// @notice Reads `data` = `abi.encode(SessionGrant grant, bytes ownerSignature)`.
    /// @dev Reverts with {SessionGrantLib}'s errors on a function text, rule, period or amount that does not read as
    /// what would be enforced.
    /// @param data The ABI-encoded grant and signature (a `grantWithSignature` call's arguments).
    /// @return reading The grant's hash, identity and install data.
    function read(bytes calldata data) external pure returns (GrantReading memory reading) {
        (SessionGrant memory grant, bytes memory ownerSignature) = abi.decode(data, (SessionGrant, bytes));
        (address[] memory targets, bytes4[] memory selectors, uint256[] memory rules) = SessionGrantLib.scope(grant);
        reading.structHash = SessionGrantLib.hashStruct(grant);
        reading.account = grant.account;
        reading.sessionId = grant.sessionId;
        reading.canSignMessages = grant.canSignMessages;
        reading.epoch = grant.epoch;
        reading.nonce = grant.nonce;
        reading.sessionInstallData = abi.encode(
            SessionConfig({
                sessionId: grant.sessionId,
                agent: grant.agent,
                validAfter: grant.validAfter,
                validUntil: grant.validUntil,
                valueCapPerCall: SessionGrantLib.valueCap(grant),
                canSignMessages: grant.canSignMessages,
                targets: targets,
                selectors: selectors,
                argumentRules: rules
            })
        );
        reading.spendLimitInstallData = _spendLimitInstallData(grant);
        reading.ownerSignature = ownerSignature;
    }

    /// @notice The EIP-712 struct hash of the grant in `data` = `abi.encode(SessionGrant grant)` (or followed by
    /// more arguments).
    /// @param data The ABI-encoded grant.
    /// @return The struct hash.
    function structHash(bytes calldata data) external pure returns (bytes32) {
        return SessionGrantLib.hashStruct(abi.decode(data, (SessionGrant)));
    }

    function _spendLimitInstallData(SessionGrant memory grant) internal pure returns (bytes memory) {
        uint256 count = grant.budgets.length;
        address[] memory assets = new address[](count);
        uint256[] memory limits = new uint256[](count);
        uint48[] memory periods = new uint48[](count);
        uint256[] memory caps = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            assets[i] = grant.budgets[i].limit.token;
            limits[i] = grant.budgets[i].limit.amount;
            periods[i] = SessionGrantLib.periodSeconds(grant.budgets[i].period);
            caps[i] = SessionGrantLib.perCallCap(grant.budgets[i]);
        }
        return abi.encode(grant.sessionId, grant.validAfter, assets, limits, periods, caps, grant.paymasters);
    }
}
