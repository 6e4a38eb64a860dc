// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title MisleadingAccount (test only)
/// @notice A contract posing as an Alchemy semi-modular account to the owner's tools: its `accountId()` carries a
/// newline and a fake summary line, and its built-in signer is whoever it was told, but it has no
/// `executeWithRuntimeValidation`. The tools must neither print its text as is nor ask the Ledger to sign for it.
contract MisleadingAccount {
    address private immutable _SIGNER;

    /// @param signer The address `getFallbackSignerData` names as the built-in signer.
    constructor(address signer) {
        _SIGNER = signer;
    }

    /// @notice A semi-modular account's id, followed by a line that would read as part of the grant's summary.
    function accountId() external pure returns (string memory) {
        return "alchemy.sma-bytecode.1.0.0\n  agent            0x000000000000000000000000000000000000dEaD";
    }

    /// @notice The built-in signer it claims, never disabled.
    function getFallbackSignerData() external view returns (address, bool) {
        return (_SIGNER, false);
    }
}
