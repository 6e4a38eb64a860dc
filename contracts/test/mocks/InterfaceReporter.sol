// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @title InterfaceReporter (test only)
/// @notice Answers ERC-165 with what it is told: true for ERC-165 itself and for each interface id given at
/// construction, false otherwise; or, as {Answer} says, with a revert, no data, a short word, all its gas burnt, or
/// honestly but false for ERC-165's own id (as a module MAv2 would install without asking it).
/// It also has a counter, to show that a call that was to reach it never ran.
contract InterfaceReporter {
    /// @notice The answer of {Answer.Revert}.
    error InterfaceReporterRefuses();

    /// @notice How `supportsInterface` answers.
    enum Answer {
        Honest,
        Revert,
        Empty,
        ShortWord,
        BurnGas,
        WithoutErc165Id
    }

    /// @notice How this instance answers.
    Answer public immutable ANSWER;
    /// @notice How many times {poke} ran.
    uint256 public pokes;
    mapping(bytes4 interfaceId => bool) private _reported;

    constructor(bytes4[] memory interfaceIds, Answer answer_) {
        ANSWER = answer_;
        _reported[type(IERC165).interfaceId] = true;
        for (uint256 i = 0; i < interfaceIds.length; ++i) {
            _reported[interfaceIds[i]] = true;
        }
    }

    /// @notice Counts a call.
    function poke() external {
        ++pokes;
    }

    /// @notice ERC-165, answered as {ANSWER} says.
    function supportsInterface(bytes4 interfaceId) external view returns (bool) {
        Answer mode = ANSWER;
        if (mode == Answer.Revert) revert InterfaceReporterRefuses();
        if (mode == Answer.Empty) {
            assembly ("memory-safe") {
                return(0, 0)
            }
        }
        if (mode == Answer.ShortWord) {
            assembly ("memory-safe") {
                mstore(0, shl(248, 1))
                return(0, 31)
            }
        }
        if (mode == Answer.WithoutErc165Id && interfaceId == type(IERC165).interfaceId) return false;
        if (mode == Answer.BurnGas) {
            // Burns all the gas it is given, then would answer: an answer that needs more gas than any probe gives.
            uint256 sink = 0;
            while (sink != 1) sink = uint256(keccak256(abi.encode(sink)));
        }
        return _reported[interfaceId];
    }
}
