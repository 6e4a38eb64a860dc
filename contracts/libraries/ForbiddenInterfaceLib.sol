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
/// @dev ERC-6900 requires every module to report its interfaces through ERC-165, and an account checks them before it
/// installs a module (the reference implementation, Alchemy's Modular Account v2 and Leash's account all do, with
/// OpenZeppelin's `ERC165Checker`: `supportsInterface(0x01ffc9a7)` answers true, then the module's interface). So a
/// module any such account installed answers true here, whatever view the account has or lacks. The probe mirrors
/// `ERC165Checker`: each question is a static call with 30,000 gas whose answer counts only as one 32-byte word; an
/// address that does not say it implements ERC-165 (no code, no `supportsInterface`, a revert, no word) is not
/// forbidden, after one call. The caller must hold enough gas for every question to get its full 30,000 (else a
/// caller could starve the probe to make a module look like none): the probe reverts with
/// {InterfaceProbeGasTooLow} otherwise. It calls `target`: never use it during ERC-4337 validation, where calling an
/// address without code breaks ERC-7562.
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
    /// `IStakeManager`.
    /// @param target The address to ask.
    /// @return Whether no session may call `target`, by its own answer.
    function isForbidden(address target) internal view returns (bool) {
        if (!_supports(target, type(IERC165).interfaceId)) return false;
        return
            _supports(target, type(IModule).interfaceId) ||
            _supports(target, type(IValidationModule).interfaceId) ||
            _supports(target, type(IValidationHookModule).interfaceId) ||
            _supports(target, type(IExecutionModule).interfaceId) ||
            _supports(target, type(IExecutionHookModule).interfaceId) ||
            _supports(target, type(IStakeManager).interfaceId);
    }

    /// @dev `target.supportsInterface(interfaceId)` answered with one word that is not zero, in a static call of
    /// {PROBE_GAS}.
    function _supports(address target, bytes4 interfaceId) private view returns (bool yes) {
        if (gasleft() < PROBE_GAS_REQUIRED) revert InterfaceProbeGasTooLow(gasleft());
        bytes4 selector = IERC165.supportsInterface.selector;
        assembly ("memory-safe") {
            // The 36-byte question and the one-word answer fit in scratch space (0x00-0x3f): nothing is allocated.
            mstore(0x00, selector)
            mstore(0x04, interfaceId)
            let success := staticcall(PROBE_GAS, target, 0x00, 0x24, 0x00, 0x20)
            yes := and(and(success, gt(returndatasize(), 0x1f)), iszero(iszero(mload(0x00))))
        }
    }
}
