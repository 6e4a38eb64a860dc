// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title HookDataLib
/// @notice Splits the per-hook data out of a validation signature / authorization (the reference account's layout).
/// @dev After the validation selection prefix, the data is a sequence of segments:
///   `index (uint8) ‖ length (uint32, big-endian) ‖ data`   for each validation hook that receives data,
///   in strictly ascending hook index, each with a non-zero length (an empty segment must be omitted), then
///   `0xFF ‖ the validation function's own signature` (the rest of the bytes).
/// A hook without a segment receives empty data. The encoding is canonical: segments out of order, empty,
/// addressed to a hook that does not exist, or a missing `0xFF` marker all revert.
library HookDataLib {
    /// @dev Index byte that starts the validation function's own segment.
    uint8 internal constant VALIDATION_SEGMENT = 0xFF;
    /// @dev Byte length of a segment header: index (1) + length (4).
    uint256 private constant _HEADER = 5;

    /// @notice The signature / authorization does not follow the segment layout.
    error HookDataMalformed();

    /// @notice Takes the data for hook `hookIndex` off the front of `data`, if the next segment is addressed to it.
    /// @return hookData The hook's data (empty if it has no segment).
    /// @return rest The bytes after the consumed segment.
    function takeHookData(
        bytes calldata data,
        uint256 hookIndex
    ) internal pure returns (bytes calldata hookData, bytes calldata rest) {
        if (data.length == 0) revert HookDataMalformed();
        if (uint8(data[0]) != hookIndex) return (data[0:0], data);
        if (data.length < _HEADER) revert HookDataMalformed();
        uint256 length = uint32(bytes4(data[1:_HEADER]));
        if (length == 0 || data.length < _HEADER + length) revert HookDataMalformed();
        hookData = data[_HEADER:_HEADER + length];
        rest = data[_HEADER + length:];
    }

    /// @notice Returns the validation function's own segment; reverts unless `data` starts with the 0xFF marker.
    function takeValidationData(bytes calldata data) internal pure returns (bytes calldata) {
        if (data.length == 0 || uint8(data[0]) != VALIDATION_SEGMENT) revert HookDataMalformed();
        return data[1:];
    }
}
