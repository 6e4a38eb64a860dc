// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IDeferredInstaller
/// @notice A module the Leash account may call, during a user op's validation, to install the op's own validation
/// (e.g. a session granted by the owner's signature, enabled inside the agent's first op).
/// @dev The account calls only this function, and only on an installer holding a direct-call validation for
/// `installValidation`. `data` is chosen by whoever built the op (the agent, or a bundler: it is not covered by the
/// user op hash), so an installer MUST act only on an authority it verifies itself (the owner's signature) and MUST
/// NOT treat the call as the account's own decision.
interface IDeferredInstaller {
    /// @notice Installs what `data` describes on the calling account, if an authority the installer verifies allows it.
    /// @param data Installer-specific; for the session module `abi.encode(SessionGrant, ownerSignature)`.
    function installDeferred(bytes calldata data) external;
}
