// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ModuleEntity} from "../interfaces/erc6900/IModularAccount.sol";
import {IModularAccountView} from "../interfaces/erc6900/IModularAccountView.sol";

/// @title ValidationViewLib
/// @notice What an account reports of one of its validations through ERC-6900's optional `IModularAccountView`,
/// read so that one answer means the same on every account that has the view.
/// @dev Two layouts of `getValidationData`'s answer are in use, and decoding one as the other does not reliably fail:
/// - the ERC text's: `(uint8 validationFlags, HookConfig[] validationHooks, HookConfig[] executionHooks, bytes4[]
///   selectors)`, flags bit 0 user-op validation, bit 1 signature validation, bit 2 global (Leash's account);
/// - ERC-6900 v0.8.0-rc.5 / rc.6's: `(bool isGlobal, bool isSignatureValidation, bool isUserOpValidation, ...the three
///   arrays)` (the reference implementation, Alchemy's Modular Account v2).
/// The raw answer is therefore read word by word: it is one of the two layouts only if its tuple offset, its flag
/// words and its array offsets are exactly what that layout gives, every array's length word lies inside the answer
/// and its elements fit; anything else (no view, a revert, a third shape) is {View.Unknown}, and callers must then
/// fall back to what needs no view. A validation is installed if any flag is set or any array is non-empty (a
/// validation with nothing at all can validate nothing).
library ValidationViewLib {
    /// @notice What the account's view says of the validation.
    enum View {
        Unknown,
        NotInstalled,
        Installed
    }

    uint8 internal constant FLAG_USER_OP = 1;
    uint8 internal constant FLAG_SIGNATURE = 2;
    uint8 internal constant FLAG_GLOBAL = 4;

    /// @dev The ERC layout's tuple is 4 head words (its first array starts at 0x80); rc.6's is 6 (0xc0).
    uint256 private constant _ERC_HEAD = 0x80;
    uint256 private constant _RC6_HEAD = 0xc0;

    /// @notice Reads `account`'s answer for `validation`.
    /// @return state Whether the view says the validation is installed, or {View.Unknown}.
    /// @return flags The validation's flags in the ERC layout's bits (0 unless known).
    function read(address account, ModuleEntity validation) internal view returns (View state, uint8 flags) {
        (bool success, bytes memory answer) = account.staticcall(
            abi.encodeCall(IModularAccountView.getValidationData, (validation))
        );
        if (!success || answer.length < 32 + _ERC_HEAD + 3 * 32 || _word(answer, 0) != 0x20) {
            return (View.Unknown, 0);
        }
        uint256 flagWords;
        if (_word(answer, 32 + 32) == _ERC_HEAD) {
            uint256 value = _word(answer, 32);
            if (value > type(uint8).max) return (View.Unknown, 0);
            flags = uint8(value);
            flagWords = 1;
        } else if (answer.length >= 32 + _RC6_HEAD + 3 * 32 && _word(answer, 32 + 3 * 32) == _RC6_HEAD) {
            uint256 isGlobal = _word(answer, 32);
            uint256 isSignature = _word(answer, 64);
            uint256 isUserOp = _word(answer, 96);
            if (isGlobal > 1 || isSignature > 1 || isUserOp > 1) return (View.Unknown, 0);
            flags = uint8((isGlobal * FLAG_GLOBAL) | (isSignature * FLAG_SIGNATURE) | (isUserOp * FLAG_USER_OP));
            flagWords = 3;
        } else {
            return (View.Unknown, 0);
        }
        bool anyElement = false;
        for (uint256 i = 0; i < 3; ++i) {
            uint256 offset = _word(answer, 32 + 32 * (flagWords + i));
            // The length word must lie inside the answer, and so must the elements it counts (one word each).
            if (offset > answer.length - 64) return (View.Unknown, 0);
            uint256 length = _word(answer, 32 + offset);
            if (length > (answer.length - 64 - offset) / 32) return (View.Unknown, 0);
            if (length != 0) anyElement = true;
        }
        state = flags != 0 || anyElement ? View.Installed : View.NotInstalled;
    }

    /// @dev The 32-byte word at byte `at` of `data` (the caller checked `at + 32 <= data.length`).
    function _word(bytes memory data, uint256 at) private pure returns (uint256 value) {
        assembly ("memory-safe") {
            value := mload(add(add(data, 0x20), at))
        }
    }
}
