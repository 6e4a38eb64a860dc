// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IStakeManager} from "@account-abstraction/contracts/interfaces/IStakeManager.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {IExecutionHookModule} from "../interfaces/erc6900/IExecutionHookModule.sol";
import {IExecutionModule} from "../interfaces/erc6900/IExecutionModule.sol";
import {IModule} from "../interfaces/erc6900/IModule.sol";
import {IValidationHookModule} from "../interfaces/erc6900/IValidationHookModule.sol";
import {IValidationModule} from "../interfaces/erc6900/IValidationModule.sol";

/// @title ForbiddenInterfaceLib
/// @notice Whether an address is one no session may call, asked the way the standards let anyone ask: through ERC-165.
/// Forbidden: an ERC-6900 module (`IModule`, `IValidationModule`, `IValidationHookModule`, `IExecutionModule`,
/// `IExecutionHookModule`), which trusts calls from the account it is installed on, and an ERC-4337 stake manager
/// (`IStakeManager`: every EntryPoint since v0.7 reports it, with the same id in v0.7 and v0.8), which holds the
/// account's deposit (`withdrawTo` would move it past the native budget).
/// @dev ERC-6900 requires every module to report its interfaces through ERC-165 (the reference implementation's,
/// Alchemy's Modular Account v2's and Leash's modules do; accounts check it at install, the reference and MAv2 only
/// when install data is given, MAv2 without asking ERC-165's own id). So a module answers true here whatever view its
/// account has or lacks. Each question is a static call with 30,000 gas whose answer counts only as one 32-byte word,
/// as OpenZeppelin's `ERC165Checker` reads it. The first question is `IModule`: an address that answers it with no
/// word (no code, no `supportsInterface`, a revert) answers no interface, and is not forbidden after one call; any
/// other goes through every interface, without requiring ERC-165's own id (MAv2 does not). The caller must hold
/// enough gas for every question to get its full 30,000 (else a caller could starve the probe to make a module look
/// like none): {isForbidden} reverts with {InterfaceProbeGasTooLow} otherwise, {isForbiddenOrUnsure} answers true. It
/// calls `target`: never use it during ERC-4337 validation, where calling an address without code breaks ERC-7562.
library ForbiddenInterfaceLib {
    /// @notice Fewer than {PROBE_GAS_REQUIRED} gas were left for a question; retry with more gas.
    /// @param gasLeft The gas left when the question was to be asked.
    error InterfaceProbeGasTooLow(uint256 gasLeft);

    /// @notice Gas given to each `supportsInterface` question, as `ERC165Checker` gives it.
    uint256 internal constant PROBE_GAS = 30_000;

    /// @notice Gas the caller must hold before each question: the question's gas with the 1/64 the EVM keeps back
    /// (EIP-150), and the call's own cost.
    uint256 internal constant PROBE_GAS_REQUIRED = (PROBE_GAS * 64) / 63 + 5_000;

    /// @notice True if `target` reports, through ERC-165, one of ERC-6900's module interfaces or ERC-4337's
    /// `IStakeManager`. Reverts with {InterfaceProbeGasTooLow} if a question cannot get its full gas.
    /// @param target The address to ask.
    /// @return Whether no session may call `target`, by its own answer.
    function isForbidden(address target) internal view returns (bool) {
        return _isForbidden(target, true);
    }

    /// @notice As {isForbidden}, but true instead of a revert when a question cannot get its full gas: for a view that
    /// must answer (ERC-1271), where "unsure" must read as "forbidden".
    /// @param target The address to ask.
    /// @return Whether `target` is forbidden, or could not be asked.
    function isForbiddenOrUnsure(address target) internal view returns (bool) {
        return _isForbidden(target, false);
    }

    /// @dev `IModule` first: an address that answers it with no word answers no interface.
    function _isForbidden(address target, bool strict) private view returns (bool) {
        (bool answered, bool yes) = _ask(target, type(IModule).interfaceId, strict);
        if (!answered) return false;
        return
            yes ||
            _supports(target, type(IValidationModule).interfaceId, strict) ||
            _supports(target, type(IValidationHookModule).interfaceId, strict) ||
            _supports(target, type(IExecutionModule).interfaceId, strict) ||
            _supports(target, type(IExecutionHookModule).interfaceId, strict) ||
            _supports(target, type(IStakeManager).interfaceId, strict);
    }

    /// @dev `target.supportsInterface(interfaceId)` answered with one word that is not zero.
    function _supports(address target, bytes4 interfaceId, bool strict) private view returns (bool yes) {
        (, yes) = _ask(target, interfaceId, strict);
    }

    /// @dev Asks `target.supportsInterface(interfaceId)` in a static call of {PROBE_GAS}: whether it answered with one
    /// word (`answered`), and whether that word is not zero (`yes`). With less than {PROBE_GAS_REQUIRED} gas left it
    /// reverts (`strict`) or reports a yes.
    function _ask(address target, bytes4 interfaceId, bool strict) private view returns (bool answered, bool yes) {
        if (gasleft() < PROBE_GAS_REQUIRED) {
            if (strict) revert InterfaceProbeGasTooLow(gasleft());
            return (true, true);
        }
        bytes4 selector = IERC165.supportsInterface.selector;
        assembly ("memory-safe") {
            // The 36-byte question and the one-word answer fit in scratch space (0x00-0x3f): nothing is allocated.
            mstore(0x00, selector)
            mstore(0x04, interfaceId)
            let success := staticcall(PROBE_GAS, target, 0x00, 0x24, 0x00, 0x20)
            answered := and(success, gt(returndatasize(), 0x1f))
            yes := and(answered, iszero(iszero(mload(0x00))))
        }
    }
}
