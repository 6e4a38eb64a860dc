// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {_packValidationData} from "@account-abstraction/contracts/core/Helpers.sol";
import {UserOperationLib} from "@account-abstraction/contracts/core/UserOperationLib.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {Call} from "../interfaces/erc6900/IModularAccount.sol";
import {IModule} from "../interfaces/erc6900/IModule.sol";
import {IValidationHookModule} from "../interfaces/erc6900/IValidationHookModule.sol";
import {Budget, BudgetPacking} from "../libraries/BudgetPacking.sol";
import {ExecutionCalldataLib} from "../libraries/ExecutionCalldataLib.sol";

/// @title SpendLimitHook
/// @notice ERC-6900 v0.8 validation hook that enforces per-period budgets on a session (its entity id): native
/// currency (call values plus the op's maximum gas cost when the account pays gas) and ERC-20 tokens.
/// - Per (account, entity, asset): a limit per period, an optional per-call cap (most one op / runtime call may
///   spend of the asset, gas included for native), what was spent in the current period. Periods are a fixed grid
///   from the start time set at install (the session's validAfter) and roll over lazily on the first spend of a
///   new period. A full budget at the end of one period and again at the start of the next is allowed by design.
/// - All accounting happens in validation, so an op whose execution reverts still counts (its gas above all).
///   ERC-7562 forbids TIMESTAMP there: the op carries the time it expects in its hook data and the hook returns
///   that period's window as validAfter / validUntil, which the EntryPoint enforces. A wrong hint only makes the op
///   invalid (the EntryPoint refuses it and nothing is recorded); periods never roll back.
/// - Native spend needs a native budget. Gas is charged as the EntryPoint's prefund:
///   (verificationGasLimit + callGasLimit + preVerificationGas) x maxFeePerGas (the paymaster limits are zero
///   without a paymaster). With a paymaster the gas is not the account's, but only allow-listed paymasters pass.
/// - ERC-20: `transfer`, `approve`, `increaseAllowance` and `transferFrom(account, ...)` are charged to the target's
///   budget; they are refused on a token without a budget. Any other function of a token that has a budget is
///   refused (no `permit`, `transferAndCall`, `burn`...); `transferFrom` from another address is refused.
/// - The hook's own config (budgets, paymasters) changes only through the account (owner) or a fresh install;
///   budgets are keyed by an install generation, so a re-installed entity never inherits old counters or budgets.
/// @dev Invariant: after any accepted spend, `spent <= limit` in the recorded period. Invariant: `spent` equals the
/// sum of the amounts accepted in the recorded period. Storage is keyed with the account innermost (ERC-7562).
contract SpendLimitHook is IValidationHookModule {
    using BudgetPacking for Budget;

    // ─────────────────────────────────────────── constants ───────────────────────────────────────────

    /// @notice The asset id of native currency.
    address public constant NATIVE = address(0);
    /// @notice Most budgets one session may have.
    uint256 public constant MAX_BUDGETS = 16;
    /// @notice Most paymasters one session may allow.
    uint256 public constant MAX_PAYMASTERS = 8;
    /// @dev Hook data of a user op: the unix time the op expects to execute at (uint40, 5 bytes), or empty.
    uint256 private constant _TIME_HINT_LENGTH = 5;
    uint8 private constant _GENERATION_SHIFT = 192;
    uint8 private constant _ENTITY_SHIFT = 160;
    /// @dev Calldata lengths (selector + words) of ERC-20 calls; in memory, `data + length` is the last word's
    /// address because the first 32 bytes hold the length.
    uint256 private constant _FIRST_ARG_END = 4 + 32;
    uint256 private constant _TWO_ARGS_LENGTH = 4 + 2 * 32;
    uint256 private constant _THREE_ARGS_LENGTH = 4 + 3 * 32;
    /// @dev The common OpenZeppelin 4 extension `increaseAllowance(address,uint256)`.
    bytes4 private constant _INCREASE_ALLOWANCE = bytes4(keccak256("increaseAllowance(address,uint256)"));

    // ──────────────────────────────────────────── storage ────────────────────────────────────────────

    /// @dev Install generation of (entityId, account); 0 = never installed. Keys every budget and paymaster.
    mapping(uint32 entityId => mapping(address account => uint64)) private _generations;
    /// @dev budgetKey = generation (64) ‖ entityId (32) ‖ asset (160).
    mapping(uint256 budgetKey => mapping(address account => Budget)) private _budgets;
    /// @dev Read (and meaningful) only while the budget's `hasPerCallCap` bit is set; written only with a cap, so a
    /// budget without one costs no slot.
    mapping(uint256 budgetKey => mapping(address account => uint256)) private _perCallCaps;
    /// @dev paymasterKey = generation (64) ‖ entityId (32) ‖ paymaster (160).
    mapping(uint256 paymasterKey => mapping(address account => bool)) private _paymasters;

    // ─────────────────────────────────────────── types ───────────────────────────────────────────────

    /// @dev A time window [start, end) an op must execute in; end == 0 means unbounded.
    struct Window {
        uint256 start;
        uint256 end;
    }

    // ─────────────────────────────────────────── events ──────────────────────────────────────────────

    /// @notice The hook was installed for (account, entityId), starting a new generation of budgets.
    event SpendLimitInstalled(address indexed account, uint32 indexed entityId, uint64 generation);
    /// @notice The hook was uninstalled for (account, entityId): every budget of it is gone.
    event SpendLimitUninstalled(address indexed account, uint32 indexed entityId);
    /// @notice A budget was set or changed.
    event BudgetSet(
        address indexed account,
        uint32 indexed entityId,
        address indexed asset,
        uint256 limit,
        uint256 periodLength,
        uint256 perCallCap,
        uint256 periodStart,
        uint256 spent
    );
    /// @notice A budget was removed.
    event BudgetRemoved(address indexed account, uint32 indexed entityId, address indexed asset);
    /// @notice The first spend of a new period reset the budget's counter.
    event BudgetPeriodStarted(
        address indexed account,
        uint32 indexed entityId,
        address indexed asset,
        uint256 periodStart
    );
    /// @notice A paymaster was allowed or disallowed.
    event PaymasterSet(address indexed account, uint32 indexed entityId, address indexed paymaster, bool allowed);

    // ─────────────────────────────────────────── errors ──────────────────────────────────────────────

    /// @notice The spend would take the period's total over the limit.
    error SpendLimitExceeded(address account, uint32 entityId, address asset, uint256 requested, uint256 remaining);
    /// @notice One op / call would spend more of `asset` than its per-call cap.
    error SpendLimitPerCallCapExceeded(address account, uint32 entityId, address asset, uint256 requested, uint256 cap);
    /// @notice The session has no budget for `asset`.
    error SpendLimitNoBudget(address account, uint32 entityId, address asset);
    /// @notice `selector` may not be called on `token`, which has a budget.
    error SpendLimitTokenCallRefused(address token, bytes4 selector);
    /// @notice The op uses a paymaster the session does not allow.
    error SpendLimitPaymasterRefused(address paymaster);
    /// @notice The install's budget arrays differ in length.
    error SpendLimitBudgetArraysMismatch();
    /// @notice More budgets or paymasters than MAX_BUDGETS / MAX_PAYMASTERS.
    error SpendLimitTooManyEntries(uint256 budgets, uint256 paymasters);
    /// @notice `asset` is listed twice in one install.
    error SpendLimitAssetDuplicated(address asset);
    /// @notice The limit must be 1 to 2^96 - 1.
    error SpendLimitLimitOutOfRange(uint256 limit);
    /// @notice The period must be at most 8,388,607 seconds (0: lifetime).
    error SpendLimitPeriodOutOfRange(uint256 periodLength);
    /// @notice The period start must fit 40 bits.
    error SpendLimitPeriodStartOutOfRange(uint256 periodStart);
    /// @notice The hook is not installed for (account, entityId).
    error SpendLimitNotInstalled(address account, uint32 entityId);
    /// @notice The hook data is not a 5-byte time hint (or empty).
    error SpendLimitHookDataInvalid();

    // ───────────────────────────────────── install / uninstall ───────────────────────────────────────

    /// @inheritdoc IModule
    /// @dev `data` = `abi.encode(uint32 entityId, uint48 periodAnchor, address[] assets, uint256[] limits,
    /// uint48[] periodLengths, uint256[] perCallCaps, address[] paymasters)`; `perCallCaps[i] == 0` means no cap,
    /// `periodLengths[i] == 0` a lifetime budget, asset zero native currency. Starts a new generation: nothing of an
    /// earlier install of the same entity survives.
    function onInstall(bytes calldata data) external {
        (
            uint32 entityId,
            uint48 periodAnchor,
            address[] memory assets,
            uint256[] memory limits,
            uint48[] memory periodLengths,
            uint256[] memory perCallCaps,
            address[] memory paymasters
        ) = abi.decode(data, (uint32, uint48, address[], uint256[], uint48[], uint256[], address[]));
        uint256 count = assets.length;
        if (count != limits.length || count != periodLengths.length || count != perCallCaps.length) {
            revert SpendLimitBudgetArraysMismatch();
        }
        if (count > MAX_BUDGETS || paymasters.length > MAX_PAYMASTERS) {
            revert SpendLimitTooManyEntries(count, paymasters.length);
        }

        address account = msg.sender;
        uint64 generation = _generations[entityId][account] + 1;
        _generations[entityId][account] = generation;
        emit SpendLimitInstalled(account, entityId, generation);

        for (uint256 i = 0; i < count; ++i) {
            for (uint256 j = 0; j < i; ++j) {
                if (assets[j] == assets[i]) revert SpendLimitAssetDuplicated(assets[i]);
            }
            _setBudget(
                account,
                generation,
                entityId,
                assets[i],
                limits[i],
                periodLengths[i],
                perCallCaps[i],
                periodAnchor,
                0
            );
        }
        for (uint256 i = 0; i < paymasters.length; ++i) {
            _paymasters[_key(generation, entityId, paymasters[i])][account] = true;
            emit PaymasterSet(account, entityId, paymasters[i], true);
        }
    }

    /// @inheritdoc IModule
    /// @dev `data` = `abi.encode(uint32 entityId)`. One write: the next generation has no budgets.
    function onUninstall(bytes calldata data) external {
        uint32 entityId = abi.decode(data, (uint32));
        ++_generations[entityId][msg.sender];
        emit SpendLimitUninstalled(msg.sender, entityId);
    }

    // ───────────────────────────────────────── owner controls ────────────────────────────────────────

    /// @notice Sets or changes the calling account's budget of `asset` for session `entityId`.
    /// @dev Changing a budget keeps its period and what was spent in it, unless `resetSpent`. A new budget's first
    /// period starts now.
    /// @param entityId The session (validation entity) the budget belongs to.
    /// @param asset The token, or zero for native currency.
    /// @param limit Most the session may spend per period (1 to 2^96 - 1).
    /// @param periodLength The period in seconds (0: lifetime; at most 8,388,607).
    /// @param perCallCap Most one op may spend of the asset (0: no cap).
    /// @param resetSpent Whether to forget what was spent in the current period.
    function setBudget(
        uint32 entityId,
        address asset,
        uint256 limit,
        uint48 periodLength,
        uint256 perCallCap,
        bool resetSpent
    ) external {
        address account = msg.sender;
        uint64 generation = _installedGeneration(account, entityId);
        Budget current = _budgets[_key(generation, entityId, asset)][account];
        // solhint-disable-next-line not-rely-on-time
        uint256 start =
            current.isSet() && current.periodLength() == periodLength ? current.periodStart() : block.timestamp;
        uint256 spent = current.isSet() && !resetSpent ? current.spent() : 0;
        _setBudget(account, generation, entityId, asset, limit, periodLength, perCallCap, start, spent);
    }

    /// @notice Removes the calling account's budget of `asset` for session `entityId`: the asset can no longer be
    /// spent by the session.
    function removeBudget(uint32 entityId, address asset) external {
        address account = msg.sender;
        uint256 key = _key(_installedGeneration(account, entityId), entityId, asset);
        // The cleared budget has no per-call-cap bit: its cap slot is never read again.
        _budgets[key][account] = Budget.wrap(0);
        emit BudgetRemoved(account, entityId, asset);
    }

    /// @notice Allows or disallows a paymaster for the calling account's session `entityId`.
    function setPaymaster(uint32 entityId, address paymaster, bool allowed) external {
        address account = msg.sender;
        _paymasters[_key(_installedGeneration(account, entityId), entityId, paymaster)][account] = allowed;
        emit PaymasterSet(account, entityId, paymaster, allowed);
    }

    // ─────────────────────────────────────────── hooks ───────────────────────────────────────────────

    /// @inheritdoc IValidationHookModule
    /// @dev `userOp.signature` here is the hook's data: empty, or the time the op expects to run at (uint40, 5
    /// bytes) so the budgets' periods can roll over without TIMESTAMP. Returns the intersection of the periods'
    /// windows as validAfter / validUntil.
    function preUserOpValidationHook(
        uint32 entityId,
        PackedUserOperation calldata userOp,
        bytes32
    ) external returns (uint256) {
        bytes calldata hookData = userOp.signature;
        uint256 timeHint;
        if (hookData.length == _TIME_HINT_LENGTH) {
            timeHint = uint40(bytes5(hookData));
        } else if (hookData.length != 0) {
            revert SpendLimitHookDataInvalid();
        }

        address account = msg.sender;
        uint64 generation = _installedGeneration(account, entityId);
        Call[] memory calls = ExecutionCalldataLib.decodeCalls(userOp.callData, true);

        uint256 gasCost;
        if (userOp.paymasterAndData.length == 0) {
            gasCost =
                (UserOperationLib.unpackVerificationGasLimit(userOp) +
                    UserOperationLib.unpackCallGasLimit(userOp) +
                    userOp.preVerificationGas) * UserOperationLib.unpackMaxFeePerGas(userOp);
        } else {
            address paymaster = address(bytes20(userOp.paymasterAndData[:20]));
            if (!_paymasters[_key(generation, entityId, paymaster)][account])
                revert SpendLimitPaymasterRefused(paymaster);
        }

        Window memory window = _spendAll(account, generation, entityId, calls, gasCost, timeHint);
        uint256 validAfter = window.start == 0 ? 0 : window.start - 1;
        uint256 validUntil = window.end == 0 ? 0 : window.end - 1;
        return _packValidationData(false, uint48(validUntil), uint48(validAfter));
    }

    /// @inheritdoc IValidationHookModule
    /// @dev Runtime calls (the agent's EOA) pay their own gas: only values and tokens are charged, with the block's
    /// time. `authorization` (the hook's data) must be empty.
    function preRuntimeValidationHook(
        uint32 entityId,
        address,
        uint256,
        bytes calldata data,
        bytes calldata authorization
    ) external {
        if (authorization.length != 0) revert SpendLimitHookDataInvalid();
        address account = msg.sender;
        uint64 generation = _installedGeneration(account, entityId);
        // solhint-disable-next-line not-rely-on-time
        _spendAll(account, generation, entityId, ExecutionCalldataLib.decodeCalls(data, false), 0, block.timestamp);
    }

    /// @inheritdoc IValidationHookModule
    /// @dev Signing spends nothing; whether a session may sign at all is the validation module's decision.
    function preSignatureValidationHook(uint32, address, bytes32, bytes calldata) external pure {}

    // ───────────────────────────────────────────── views ─────────────────────────────────────────────

    /// @notice The budget of `asset` for `account`'s session `entityId`, as stored (the period is not rolled over).
    function getBudget(
        address account,
        uint32 entityId,
        address asset
    )
        external
        view
        returns (uint256 limit, uint256 spent, uint256 periodStart, uint256 periodLength, uint256 perCallCap)
    {
        uint256 key = _key(_generations[entityId][account], entityId, asset);
        Budget budget = _budgets[key][account];
        return (
            budget.limit(),
            budget.spent(),
            budget.periodStart(),
            budget.periodLength(),
            budget.hasPerCallCap() ? _perCallCaps[key][account] : 0
        );
    }

    /// @notice What `account`'s session `entityId` may still spend of `asset` now, and when the current period ends
    /// (0 for a lifetime budget). Zero for an asset without a budget.
    function remainingBudget(
        address account,
        uint32 entityId,
        address asset
    ) external view returns (uint256 remaining, uint256 periodEnd) {
        Budget budget = _budgets[_key(_generations[entityId][account], entityId, asset)][account];
        if (!budget.isSet()) return (0, 0);
        uint256 start = budget.periodStart();
        uint256 length = budget.periodLength();
        uint256 spent = budget.spent();
        if (length != 0) {
            // solhint-disable-next-line not-rely-on-time
            uint256 current = _periodStartAt(start, length, block.timestamp);
            if (current != start) spent = 0;
            start = current;
            periodEnd = start + length;
        }
        remaining = spent >= budget.limit() ? 0 : budget.limit() - spent;
    }

    /// @notice Whether `account`'s session `entityId` may use `paymaster`.
    function isPaymasterAllowed(address account, uint32 entityId, address paymaster) external view returns (bool) {
        return _paymasters[_key(_generations[entityId][account], entityId, paymaster)][account];
    }

    /// @notice The install generation of (account, entityId); 0 if never installed.
    function generationOf(address account, uint32 entityId) external view returns (uint64) {
        return _generations[entityId][account];
    }

    // ─────────────────────────────────────────── metadata ────────────────────────────────────────────

    /// @inheritdoc IModule
    function moduleId() external pure returns (string memory) {
        return "leash.spend-limit-hook.0.1.0";
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IModule).interfaceId ||
            interfaceId == type(IValidationHookModule).interfaceId;
    }

    // ─────────────────────────────────────────── internals ───────────────────────────────────────────

    /// @dev Sums the op's spend per asset, then charges each asset once (one SLOAD + one SSTORE per asset): native
    /// first, then the tokens in the order they first appear.
    function _spendAll(
        address account,
        uint64 generation,
        uint32 entityId,
        Call[] memory calls,
        uint256 gasCost,
        uint256 time
    ) internal returns (Window memory window) {
        (uint256 nativeSpend, uint256[] memory tokenSpends) = _sumSpends(account, generation, entityId, calls, gasCost);
        // A zero native spend (a paymaster pays, no value) touches no budget.
        if (nativeSpend != 0) window = _charge(account, generation, entityId, NATIVE, nativeSpend, time, window);
        for (uint256 i = 0; i < tokenSpends.length; i += 2) {
            window = _charge(
                account,
                generation,
                entityId,
                address(uint160(tokenSpends[i])),
                tokenSpends[i + 1],
                time,
                window
            );
        }
    }

    /// @dev The native spend (`gasCost` plus the calls' values), and the token spends as (token, amount) pairs, one
    /// pair per token: a flat array `[token0, amount0, token1, amount1, ...]` (no struct per entry to allocate).
    function _sumSpends(
        address account,
        uint64 generation,
        uint32 entityId,
        Call[] memory calls,
        uint256 gasCost
    ) internal view returns (uint256 nativeSpend, uint256[] memory tokenSpends) {
        nativeSpend = gasCost;
        tokenSpends = new uint256[](2 * calls.length);
        uint256 used = 0;
        for (uint256 i = 0; i < calls.length; ++i) {
            Call memory call = calls[i];
            nativeSpend += call.value;
            (bool isTokenSpend, uint256 amount) = _tokenSpend(account, generation, entityId, call);
            if (!isTokenSpend) continue;
            uint256 token = uint160(call.target);
            uint256 j = 0;
            while (j < used && tokenSpends[j] != token) j += 2;
            if (j == used) {
                tokenSpends[j] = token;
                used += 2;
            }
            tokenSpends[j + 1] += amount;
        }
        assembly ("memory-safe") {
            // Shrink the array to the pairs used (memory past them stays allocated, unused).
            mstore(tokenSpends, used)
        }
    }

    /// @dev Classifies a call: an ERC-20 spend (with its amount), a refused call on a budgeted token, or neither.
    function _tokenSpend(
        address account,
        uint64 generation,
        uint32 entityId,
        Call memory call
    ) internal view returns (bool isTokenSpend, uint256 amount) {
        bytes memory data = call.data;
        if (data.length < 4) return (false, 0);
        bytes4 selector = bytes4(data);
        if (
            selector == IERC20.transfer.selector ||
            selector == IERC20.approve.selector ||
            selector == _INCREASE_ALLOWANCE
        ) {
            // (address, uint256): the amount is the second word after the selector.
            if (data.length < _TWO_ARGS_LENGTH) revert SpendLimitTokenCallRefused(call.target, selector);
            assembly ("memory-safe") {
                amount := mload(add(data, _TWO_ARGS_LENGTH))
            }
            return (true, amount);
        }
        if (selector == IERC20.transferFrom.selector) {
            // (address from, address to, uint256): only the account's own tokens may be moved.
            if (data.length < _THREE_ARGS_LENGTH) revert SpendLimitTokenCallRefused(call.target, selector);
            uint256 from;
            assembly ("memory-safe") {
                from := mload(add(data, _FIRST_ARG_END))
                amount := mload(add(data, _THREE_ARGS_LENGTH))
            }
            if (from != uint256(uint160(account))) revert SpendLimitTokenCallRefused(call.target, selector);
            return (true, amount);
        }
        if (_budgets[_key(generation, entityId, call.target)][account].isSet()) {
            revert SpendLimitTokenCallRefused(call.target, selector);
        }
        return (false, 0);
    }

    /// @dev Charges `amount` of `asset`, rolling the period over if `time` is in a later period; narrows `window`.
    function _charge(
        address account,
        uint64 generation,
        uint32 entityId,
        address asset,
        uint256 amount,
        uint256 time,
        Window memory window
    ) internal returns (Window memory) {
        uint256 key = _key(generation, entityId, asset);
        Budget budget = _budgets[key][account];
        if (!budget.isSet()) revert SpendLimitNoBudget(account, entityId, asset);

        uint256 start = budget.periodStart();
        uint256 length = budget.periodLength();
        uint256 spent = budget.spent();
        if (length != 0) {
            uint256 current = _periodStartAt(start, length, time);
            if (current != start) {
                start = current;
                spent = 0;
                emit BudgetPeriodStarted(account, entityId, asset, start);
            }
            if (start > window.start) window.start = start;
            if (window.end == 0 || start + length < window.end) window.end = start + length;
        }
        if (budget.hasPerCallCap()) {
            uint256 cap = _perCallCaps[key][account];
            if (amount > cap) revert SpendLimitPerCallCapExceeded(account, entityId, asset, amount, cap);
        }
        uint256 limit = budget.limit();
        if (amount > limit - spent) revert SpendLimitExceeded(account, entityId, asset, amount, limit - spent);
        // spent + amount <= limit <= MAX_LIMIT: the pack cannot truncate.
        _budgets[key][account] = BudgetPacking.pack(limit, spent + amount, start, length, budget.hasPerCallCap());
        return window;
    }

    /// @dev The start of the period containing `time` on the grid `start + k * length`; never before `start`.
    function _periodStartAt(uint256 start, uint256 length, uint256 time) internal pure returns (uint256) {
        if (time < start + length) return start;
        return start + ((time - start) / length) * length;
    }

    function _setBudget(
        address account,
        uint64 generation,
        uint32 entityId,
        address asset,
        uint256 limit,
        uint256 periodLength,
        uint256 perCallCap,
        uint256 periodStart,
        uint256 spent
    ) internal {
        if (limit == 0 || limit > BudgetPacking.MAX_LIMIT) revert SpendLimitLimitOutOfRange(limit);
        if (periodLength > BudgetPacking.MAX_PERIOD) revert SpendLimitPeriodOutOfRange(periodLength);
        if (periodStart > BudgetPacking.MAX_TIME) revert SpendLimitPeriodStartOutOfRange(periodStart);
        uint256 key = _key(generation, entityId, asset);
        // A lowered limit keeps what was spent: the remaining budget is then zero, never negative.
        uint256 kept = spent > limit ? limit : spent;
        _budgets[key][account] = BudgetPacking.pack(limit, kept, periodStart, periodLength, perCallCap != 0);
        if (perCallCap != 0) _perCallCaps[key][account] = perCallCap;
        emit BudgetSet(account, entityId, asset, limit, periodLength, perCallCap, periodStart, kept);
    }

    function _installedGeneration(address account, uint32 entityId) internal view returns (uint64 generation) {
        generation = _generations[entityId][account];
        if (generation == 0) revert SpendLimitNotInstalled(account, entityId);
    }

    function _key(uint64 generation, uint32 entityId, address asset) internal pure returns (uint256) {
        return (uint256(generation) << _GENERATION_SHIFT) | (uint256(entityId) << _ENTITY_SHIFT) | uint160(asset);
    }
}
