// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Call, IModularAccount} from "../interfaces/erc6900/IModularAccount.sol";
import {SessionConfig, SessionKeyValidationModule} from "../modules/SessionKeyValidationModule.sol";
import {LeashTest} from "./utils/LeashTest.sol";

/// @title SessionScopeFuzzTest
/// @notice Random scopes and random calls: the module's runtime validation accepts a call exactly when a reference
/// model of the scope allows it. This contract plays the account.
contract SessionScopeFuzzTest is LeashTest {
    uint32 private constant _SESSION = 1;
    address private constant _AGENT = address(0xA6E47);
    uint48 private constant _VALID_AFTER = 1_000;
    uint48 private constant _VALID_UNTIL = 1_000_000;
    uint128 private constant _CAP = 1 ether;
    uint256 private constant _POOL = 4;

    SessionKeyValidationModule private _module;
    address[_POOL] private _targets;
    bytes4[_POOL] private _selectors;
    // Reference model: allowed[target index][selector index], with index _POOL = "no calldata" and _POOL + 1 = any.
    mapping(uint256 => mapping(uint256 => bool)) private _allowed;

    function setUp() external {
        _module = new SessionKeyValidationModule(address(0), address(0xEE));
        for (uint256 i = 0; i < _POOL; ++i) {
            _targets[i] = address(uint160(0x1000 + i));
            _selectors[i] = bytes4(uint32(0x11111111 * (i + 1)));
        }
        vm.warp(_VALID_AFTER + 1);
    }

    /// @dev Installs a scope from a bitmask: bit (t * 6 + s) allows target t with selector s (s = 4: empty, 5: any).
    function _install(uint256 mask) private {
        uint256 count;
        for (uint256 bit = 0; bit < _POOL * 6; ++bit) if (mask & (1 << bit) != 0) ++count;
        vm.assume(count > 0 && count <= 64);
        address[] memory targets = new address[](count);
        bytes4[] memory selectors = new bytes4[](count);
        uint256 k;
        for (uint256 bit = 0; bit < _POOL * 6; ++bit) {
            if (mask & (1 << bit) == 0) continue;
            (uint256 t, uint256 s) = (bit / 6, bit % 6);
            targets[k] = _targets[t];
            selectors[k] =
                s < _POOL ? _selectors[s] : (s == _POOL ? _module.SELECTOR_NO_CALLDATA() : _module.SELECTOR_ANY());
            _allowed[t][s] = true;
            ++k;
        }
        _module.onInstall(
            abi.encode(
                SessionConfig(
                    _SESSION,
                    _AGENT,
                    _VALID_AFTER,
                    _VALID_UNTIL,
                    _CAP,
                    false,
                    targets,
                    selectors,
                    new uint256[](0)
                )
            )
        );
    }

    function _model(uint256 t, uint256 dataKind, uint256 s) private view returns (bool) {
        if (_allowed[t][_POOL + 1]) return true; // wildcard
        if (dataKind == 0) return _allowed[t][_POOL]; // empty calldata
        if (dataKind == 1) return false; // 1..3 bytes: only the wildcard
        return _allowed[t][s];
    }

    function _data(uint256 dataKind, uint256 s, bytes32 tail) private view returns (bytes memory) {
        if (dataKind == 0) return "";
        if (dataKind == 1) return hex"abcdef";
        return abi.encodePacked(_selectors[s], tail);
    }

    function _validates(bytes memory callData) private view returns (bool) {
        try _module.validateRuntime(address(this), _SESSION, _AGENT, 0, callData, "") {
            return true;
        } catch {
            return false;
        }
    }

    function testFuzz_execute_passesExactlyWhenInScope(
        uint256 mask,
        uint256 t,
        uint256 dataKind,
        uint256 s,
        bytes32 tail,
        uint128 value
    ) external {
        _install(mask % (1 << (_POOL * 6)));
        (t, dataKind, s) = (t % _POOL, dataKind % 3, s % _POOL);
        bytes memory callData = abi.encodeCall(IModularAccount.execute, (_targets[t], value, _data(dataKind, s, tail)));
        bool expected = _model(t, dataKind, s) && value <= _CAP;
        assertTrue(_validates(callData) == expected, "execute scope decision");
    }

    function testFuzz_executeBatch_passesOnlyWhenEveryItemIsInScope(
        uint256 mask,
        uint256[3] calldata t,
        uint256[3] calldata dataKind,
        uint256[3] calldata s
    ) external {
        _install(mask % (1 << (_POOL * 6)));
        Call[] memory calls = new Call[](3);
        bool expected = true;
        for (uint256 i = 0; i < 3; ++i) {
            (uint256 ti, uint256 di, uint256 si) = (t[i] % _POOL, dataKind[i] % 3, s[i] % _POOL);
            calls[i] = Call(_targets[ti], 0, _data(di, si, bytes32(i)));
            expected = expected && _model(ti, di, si);
        }
        assertTrue(
            _validates(abi.encodeCall(IModularAccount.executeBatch, (calls))) == expected,
            "batch scope decision"
        );
    }

    function testFuzz_neverAllowsTheAccountOrTheModule(uint256 mask, uint256 which, bytes32 tail) external {
        _install(mask % (1 << (_POOL * 6)));
        address target = which % 2 == 0 ? address(this) : address(_module);
        bytes memory callData = abi.encodeCall(IModularAccount.execute, (target, 0, abi.encodePacked(tail)));
        assertTrue(!_validates(callData), "account or module as target");
    }

    function testFuzz_refusesAnyOtherAccountFunction(uint256 mask, bytes4 selector, bytes32 tail) external {
        vm.assume(selector != IModularAccount.execute.selector && selector != IModularAccount.executeBatch.selector);
        _install(mask % (1 << (_POOL * 6)));
        assertTrue(!_validates(abi.encodePacked(selector, tail)), "other account function");
    }
}
