// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {_packValidationData} from "@account-abstraction/contracts/core/Helpers.sol";
import {UserOperationLib} from "@account-abstraction/contracts/core/UserOperationLib.sol";
import {IAccountExecute} from "@account-abstraction/contracts/interfaces/IAccountExecute.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {Call} from "../interfaces/erc6900/IModularAccount.sol";
import {IExecutionHookModule} from "../interfaces/erc6900/IExecutionHookModule.sol";
import {IModule} from "../interfaces/erc6900/IModule.sol";
import {IValidationHookModule} from "../interfaces/erc6900/IValidationHookModule.sol";
import {Budget, BudgetPacking} from "../libraries/BudgetPacking.sol";
import {ExecutionCalldataLib} from "../libraries/ExecutionCalldataLib.sol";
import {ForbiddenInterfaceLib} from "../libraries/ForbiddenInterfaceLib.sol";

/// @title SpendLimitHook
/// @notice ERC-6900 v0.8 validation hook and execution hook that bound what a validation (a session: its entity id)
/// makes the account lose, per asset and per period: native currency, ERC-20 tokens, paymaster-sponsored gas and a
/// count of operations.
/// - Validation records what the op's calldata declares, and refuses the op if it exceeds a budget: the call values
///   plus the gas the account pays (the op's maximum gas cost, as the EntryPoint's prefund), and the amounts of
///   `transfer`, `approve`, `increaseAllowance` and `transferFrom(account, ...)` on budgeted tokens. This holds even on
///   an account that runs no execution hook.
/// - The execution hook then charges **what leaves the account beyond that**, however it leaves: it snapshots the
///   native balance, every budgeted token's balance and the account's allowances (on each budgeted token) to the
///   contracts the op calls, and afterwards charges the larger of each balance's loss and what certainly left (the
///   transfers, plus what was pulled through those allowances), less what validation recorded. A scoped contract
///   pulling through an allowance the account already held (a DEX router, a vault, Permit2), a token's fallback, a
///   callback: each is charged. An inflow during the op can offset a balance's loss, never a transfer or a pull
///   through a finite allowance; a pull through an unlimited allowance offset by an inflow of the same token is the
///   one case measured only as the net loss. An execution that would take a period over its limit or per-call cap
///   reverts, so nothing of it moves; what validation recorded stays recorded (an op whose execution reverts has
///   spent its gas and its declared amounts).
/// - On a budgeted token every function other than the four above, and calldata of 1 to 3 bytes, is refused; the four
///   are refused on a token without a budget; `transferFrom` from another address is refused. A token whose budget is
///   removed stays measured: any loss of it reverts.
/// - Sponsored gas: a session may use a paymaster only with a SPONSORED_GAS budget (each sponsored op's maximum cost)
///   and a SPONSORED_FEE cap on its `maxFeePerGas`. Rate limit: a budget of OPERATIONS counts one per op.
/// - Periods are a fixed grid from the start time set at install (the session's validAfter), at least
///   {MIN_PERIOD} long, and roll over lazily on the first spend of a new period. A full budget at the end of one
///   period and again at the start of the next is allowed by design. Validation reads no TIMESTAMP (ERC-7562): the
///   op carries the time it expects in its hook data and the hook returns that period's window as validAfter /
///   validUntil, which the EntryPoint enforces; the execution hook uses the block's time, inside that window.
/// - The hook's own config (budgets, paymasters) changes only through the account (owner) or a fresh install;
///   budgets are keyed by an install generation, so a re-installed entity never inherits old counters or budgets.
/// - Install it as both the validation hook and the (pre and post) execution hook of the validation it bounds; on
///   an account, user ops of a validation with execution hooks go through `executeUserOp`.
/// @dev Invariant: after any accepted spend, `spent <= limit` in the recorded period. Invariant: what left the account
/// of a budgeted asset during the ops charged to one period is at most the period's limit. Storage is keyed with the
/// account innermost (ERC-7562 associated storage).
contract SpendLimitHook is IValidationHookModule, IExecutionHookModule {
    using BudgetPacking for Budget;

    // ─────────────────────────────────────────── constants ───────────────────────────────────────────

    /// @notice The asset id of native currency.
    address public constant NATIVE = address(0);
    /// @notice The pseudo-asset of the rate limit: every op of the validation spends 1 of it.
    address public constant OPERATIONS = address(1);
    /// @notice The pseudo-asset of paymaster-sponsored gas: every sponsored op spends its maximum gas cost in wei
    /// (all five gas limits times `maxFeePerGas`), what an agent that bundles its own ops could take from the
    /// paymaster's deposit as fees. A session that may use a paymaster must have this budget.
    address public constant SPONSORED_GAS = address(2);
    /// @notice The pseudo-asset of the fee cap of sponsored ops: its limit is the most `maxFeePerGas` a sponsored op
    /// may offer (a cap, never recorded). A session that may use a paymaster must have this budget.
    address public constant SPONSORED_FEE = address(3);
    /// @notice Most budgets one session may have (native, tokens and the op count together).
    uint256 public constant MAX_BUDGETS = 16;
    /// @notice Most paymasters one session may allow.
    uint256 public constant MAX_PAYMASTERS = 8;
    /// @notice The shortest budget period, in seconds (0, a lifetime budget, is also allowed). Shorter periods make
    /// a limit mean little (a per-second budget is 86,400 limits a day) and windows too short to be bundled.
    uint256 public constant MIN_PERIOD = 1 hours;
    /// @dev The highest pseudo-asset address: assets up to it are native currency and counters, never tokens.
    address private constant _LAST_PSEUDO_ASSET = SPONSORED_FEE;
    /// @dev Hook data of a user op: the unix time the op expects to execute at (uint40, 5 bytes), or empty.
    uint256 private constant _TIME_HINT_LENGTH = 5;
    uint8 private constant _GENERATION_SHIFT = 192;
    uint8 private constant _ENTITY_SHIFT = 160;
    /// @dev Install slot Bits Layout (low to high): [0..64) generation, [64..72) number of budgeted tokens, [72] an
    /// op-count budget is set, [73] installed (set by onInstall, cleared by onUninstall).
    uint256 private constant _GENERATION_MASK = type(uint64).max;
    uint8 private constant _TOKEN_COUNT_SHIFT = 64;
    uint256 private constant _TOKEN_COUNT_MASK = 0xff;
    uint256 private constant _HAS_OPERATIONS_BUDGET = 1 << 72;
    uint256 private constant _INSTALLED = 1 << 73;
    /// @dev Calldata lengths (selector + words) of ERC-20 calls; in memory, `data + length` is the last word's
    /// address because the first 32 bytes hold the length.
    uint256 private constant _FIRST_ARG_END = 4 + 32;
    uint256 private constant _TWO_ARGS_LENGTH = 4 + 2 * 32;
    uint256 private constant _THREE_ARGS_LENGTH = 4 + 3 * 32;
    /// @dev Execution hook context: the words before the token entries (native balance, values, token count), the
    /// words of one token entry (token, balance, transfers, recorded) and of one allowance pair (token, spender,
    /// allowance).
    uint256 private constant _TOKENS_AT = 3;
    uint256 private constant _TOKEN_WORDS = 4;
    uint256 private constant _PAIR_WORDS = 3;
    /// @dev Marks a context pair as an approval the op makes (`token | flag ‖ spender ‖ amount approved`) rather than
    /// a snapshotted allowance (`token ‖ spender ‖ allowance before`).
    uint256 private constant _APPROVAL_PAIR = 1 << 160;
    /// @dev The common OpenZeppelin 4 extension `increaseAllowance(address,uint256)`.
    bytes4 private constant _INCREASE_ALLOWANCE = bytes4(keccak256("increaseAllowance(address,uint256)"));
    /// @dev Permit2's `approve(address token, address spender, uint160 amount, uint48 expiration)`.
    bytes4 private constant _PERMIT2_APPROVE = bytes4(keccak256("approve(address,address,uint160,uint48)"));
    uint256 private constant _FOUR_ARGS_LENGTH = 4 + 4 * 32;

    // ──────────────────────────────────────────── storage ────────────────────────────────────────────

    /// @dev Install slot of (entityId, account), see its Bits Layout; generation 0 = never installed. The
    /// generation keys every budget, token list entry and paymaster; an entity without the installed bit is refused
    /// everywhere (its validation and execution hooks revert).
    mapping(uint32 entityId => mapping(address account => uint256)) private _installs;
    /// @dev budgetKey = generation (64) ‖ entityId (32) ‖ asset (160).
    mapping(uint256 budgetKey => mapping(address account => Budget)) private _budgets;
    /// @dev Read (and meaningful) only while the budget's `hasPerCallCap` bit is set; written only with a cap, so a
    /// budget without one costs no slot.
    mapping(uint256 budgetKey => mapping(address account => uint256)) private _perCallCaps;
    /// @dev paymasterKey = generation (64) ‖ entityId (32) ‖ paymaster (160).
    mapping(uint256 paymasterKey => mapping(address account => bool)) private _paymasters;
    /// @dev The budgeted tokens, for the execution hook's snapshot: tokenKey = generation (64) ‖ entityId (32) ‖
    /// index (160), index below the install slot's token count.
    mapping(uint256 tokenKey => mapping(address account => address)) private _tokens;

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
    /// @notice The op calls `target`, an ERC-6900 module or an EntryPoint (it reports a module interface or
    /// `IStakeManager` through ERC-165): no session may call one, of this account or any other, whatever its scope
    /// says.
    error SpendLimitForbiddenCall(address target);
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
    /// @notice The period must be 0 (lifetime) or MIN_PERIOD to 8,388,607 seconds.
    error SpendLimitPeriodOutOfRange(uint256 periodLength);
    /// @notice The period start must fit 40 bits.
    error SpendLimitPeriodStartOutOfRange(uint256 periodStart);
    /// @notice The hook is not installed for (account, entityId).
    error SpendLimitNotInstalled(address account, uint32 entityId);
    /// @notice The hook data is not a 5-byte time hint (or empty).
    error SpendLimitHookDataInvalid();
    /// @notice A paymaster may only be allowed with a SPONSORED_GAS budget and a SPONSORED_FEE cap.
    error SpendLimitSponsorshipUnbounded(address account, uint32 entityId);

    // ───────────────────────────────────── install / uninstall ───────────────────────────────────────

    /// @inheritdoc IModule
    /// @dev `data` = `abi.encode(uint32 entityId, uint48 periodAnchor, address[] assets, uint256[] limits,
    /// uint48[] periodLengths, uint256[] perCallCaps, address[] paymasters)`; `perCallCaps[i] == 0` means no cap,
    /// `periodLengths[i] == 0` a lifetime budget, asset zero native currency, asset {OPERATIONS} the op count.
    /// Starts a new generation: nothing of an earlier install of the same entity survives (also of one whose
    /// uninstall data named nothing valid, so that a reinstall after any uninstall works). The hook's calls carry only
    /// its entity id, not the validation's: installing it again under an id a live validation uses replaces that
    /// validation's budgets with the new ones (only the account, i.e. the owner, installs).
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
        // A new generation starts with no token and no op-count budget; the loop below adds them.
        uint256 install = ((_installs[entityId][account] & _GENERATION_MASK) + 1) | _INSTALLED;
        uint64 generation = uint64(install);
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
            install = _listAsset(account, install, entityId, assets[i]);
        }
        _installs[entityId][account] = install;
        emit SpendLimitInstalled(account, entityId, generation);
        if (paymasters.length != 0) _requireSponsorshipBounded(account, generation, entityId);
        for (uint256 i = 0; i < paymasters.length; ++i) {
            _paymasters[_key(generation, entityId, paymasters[i])][account] = true;
            emit PaymasterSet(account, entityId, paymasters[i], true);
        }
    }

    /// @inheritdoc IModule
    /// @dev `data` = `abi.encode(uint32 entityId)`. One write: the entity is no longer installed (every op of it is
    /// refused, whatever validation still runs the hook) and the next generation has no budgets. Data naming another
    /// installed entity than the one being removed therefore freezes that entity's session; it never frees a budget.
    function onUninstall(bytes calldata data) external {
        uint32 entityId = abi.decode(data, (uint32));
        _installs[entityId][msg.sender] = (_installs[entityId][msg.sender] & _GENERATION_MASK) + 1;
        emit SpendLimitUninstalled(msg.sender, entityId);
    }

    // ───────────────────────────────────────── owner controls ────────────────────────────────────────

    /// @notice Sets or changes the calling account's budget of `asset` for session `entityId`.
    /// @dev Changing a budget keeps its period and what was spent in it, unless `resetSpent`. A new budget's first
    /// period starts now.
    /// @param entityId The session (validation entity) the budget belongs to.
    /// @param asset The token, zero for native currency, or {OPERATIONS} for the op count.
    /// @param limit Most the session may spend per period (1 to 2^96 - 1).
    /// @param periodLength The period in seconds (0: lifetime; else MIN_PERIOD to 8,388,607).
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
        uint256 install = _installedState(account, entityId);
        uint64 generation = uint64(install);
        Budget current = _budgets[_key(generation, entityId, asset)][account];
        // solhint-disable-next-line not-rely-on-time
        uint256 start =
            current.isSet() && current.periodLength() == periodLength ? current.periodStart() : block.timestamp;
        uint256 spent = current.isSet() && !resetSpent ? current.spent() : 0;
        _setBudget(account, generation, entityId, asset, limit, periodLength, perCallCap, start, spent);
        if (!current.isSet()) {
            uint256 listed = _listAsset(account, install, entityId, asset);
            if (listed != install) _installs[entityId][account] = listed;
        }
    }

    /// @notice Removes the calling account's budget of `asset` for session `entityId`: the asset can no longer be
    /// spent by the session (a token stays measured: any loss of it reverts the op; for {OPERATIONS}: the op count is
    /// no longer limited).
    function removeBudget(uint32 entityId, address asset) external {
        address account = msg.sender;
        uint256 install = _installedState(account, entityId);
        uint64 generation = uint64(install);
        uint256 key = _key(generation, entityId, asset);
        if (_budgets[key][account].isSet()) {
            // The cleared budget has no per-call-cap bit: its cap slot is never read again. A token stays listed, so
            // the execution hook keeps measuring it and any loss of it now reverts (no budget): removing a budget
            // never lets the asset leave unmeasured.
            _budgets[key][account] = Budget.wrap(0);
            if (asset == OPERATIONS) _installs[entityId][account] = install & ~_HAS_OPERATIONS_BUDGET;
        }
        emit BudgetRemoved(account, entityId, asset);
    }

    /// @notice Allows or disallows a paymaster for the calling account's session `entityId`; allowing one needs the
    /// session's SPONSORED_GAS budget and SPONSORED_FEE cap.
    function setPaymaster(uint32 entityId, address paymaster, bool allowed) external {
        address account = msg.sender;
        uint64 generation = uint64(_installedState(account, entityId));
        if (allowed) _requireSponsorshipBounded(account, generation, entityId);
        _paymasters[_key(generation, entityId, paymaster)][account] = allowed;
        emit PaymasterSet(account, entityId, paymaster, allowed);
    }

    // ─────────────────────────────────────── validation hooks ────────────────────────────────────────

    /// @inheritdoc IValidationHookModule
    /// @dev `userOp.signature` here is the hook's data: empty, or the time the op expects to run at (uint40, 5
    /// bytes) so the budgets' periods can roll over without TIMESTAMP. Records the gas the account pays and one op
    /// (with an op-count budget), refuses an op whose calldata alone exceeds a budget, and returns the intersection
    /// of the checked budgets' period windows as validAfter / validUntil.
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
        uint256 install = _installedState(account, entityId);
        Call[] memory calls = ExecutionCalldataLib.decodeCalls(userOp.callData, true);

        Window memory window;
        uint256 maxFeePerGas = UserOperationLib.unpackMaxFeePerGas(userOp);
        uint256 gasLimits =
            UserOperationLib.unpackVerificationGasLimit(userOp) +
                UserOperationLib.unpackCallGasLimit(userOp) +
                userOp.preVerificationGas;
        uint256 gasCost;
        if (userOp.paymasterAndData.length == 0) {
            gasCost = gasLimits * maxFeePerGas;
        } else {
            (address paymaster, uint256 paymasterValidationGas, uint256 postOpGas) = UserOperationLib
                .unpackPaymasterStaticFields(userOp.paymasterAndData);
            uint64 generation = uint64(install);
            if (!_paymasters[_key(generation, entityId, paymaster)][account])
                revert SpendLimitPaymasterRefused(paymaster);
            // The paymaster pays, up to the op's maximum gas cost: bounded by the fee cap and the sponsored budget.
            _spend(account, generation, entityId, SPONSORED_FEE, maxFeePerGas, 0, timeHint, maxFeePerGas);
            uint256 sponsoredCost = (gasLimits + paymasterValidationGas + postOpGas) * maxFeePerGas;
            (uint256 start, uint256 length) = _spend(
                account,
                generation,
                entityId,
                SPONSORED_GAS,
                sponsoredCost,
                sponsoredCost,
                timeHint,
                sponsoredCost
            );
            _narrow(window, start, length);
        }

        _checkOp(account, install, entityId, calls, gasCost, timeHint, window);
        // Every period is at least MIN_PERIOD long, so a bounded window ends at MIN_PERIOD or later and its
        // validUntil (end - 1) is never 0, which the EntryPoint would read as "no end".
        uint256 validAfter = window.start == 0 ? 0 : window.start - 1;
        uint256 validUntil = window.end == 0 ? 0 : window.end - 1;
        return _packValidationData(false, uint48(validUntil), uint48(validAfter));
    }

    /// @inheritdoc IValidationHookModule
    /// @dev Runtime calls (the agent's EOA) pay their own gas: refuses a call whose calldata alone exceeds a budget,
    /// with the block's time, and records one op (with an op-count budget); the execution hook charges what the call
    /// then makes the account lose. `authorization` (the hook's data) must be empty.
    function preRuntimeValidationHook(
        uint32 entityId,
        address,
        uint256,
        bytes calldata data,
        bytes calldata authorization
    ) external {
        if (authorization.length != 0) revert SpendLimitHookDataInvalid();
        address account = msg.sender;
        uint256 install = _installedState(account, entityId);
        Window memory window;
        // solhint-disable-next-line not-rely-on-time
        _checkOp(account, install, entityId, ExecutionCalldataLib.decodeCalls(data, false), 0, block.timestamp, window);
    }

    /// @inheritdoc IValidationHookModule
    /// @dev Signing spends nothing; whether a session may sign at all is the validation module's decision.
    function preSignatureValidationHook(uint32, address, bytes32, bytes calldata) external pure {}

    // ─────────────────────────────────────── execution hooks ─────────────────────────────────────────

    /// @inheritdoc IExecutionHookModule
    /// @dev Snapshots what the post hook needs to charge what the execution makes leave beyond what validation already
    /// recorded from the calldata: the account's native balance and the calls' values; for every budgeted token its
    /// balance, the amounts the calls transfer (`transfer`, `transferFrom(account, ...)`) and everything validation
    /// recorded for it (those plus `approve` / `increaseAllowance`); the account's allowance, per budgeted token, to
    /// each called contract the op does not approve itself (a pull through a finite allowance lowers it); and, per
    /// spender the op approves, the amount it approves (what of it is used is credited afterwards). The calls are found
    /// in `data` (`execute` / `executeBatch` calldata, or the whole `executeUserOp` calldata). The context is a
    /// sequence of 32-byte words: `nativeBalance ‖ values ‖ tokenCount ‖ (token ‖ balance ‖ transfers ‖ recorded) x
    /// tokenCount ‖ (token ‖ spender ‖ allowance) or (token | 2^160 ‖ spender ‖ approved) x pairs`.
    /// First, before anything runs, refuses the op if a call's target is an ERC-6900 module or an EntryPoint
    /// ({ForbiddenInterfaceLib}):
    /// the session module cannot ask during validation (ERC-7562), and an address may become a module after the
    /// grant (a counterfactual address deployed, a proxy upgraded, a module installed on the account).
    function preExecutionHook(
        uint32 entityId,
        address,
        uint256,
        bytes calldata data
    ) external view returns (bytes memory context) {
        address account = msg.sender;
        uint256 install = _installedState(account, entityId);
        uint64 generation = uint64(install);
        uint256 tokenCount = (install >> _TOKEN_COUNT_SHIFT) & _TOKEN_COUNT_MASK;
        Call[] memory calls = _executionCalls(data);
        for (uint256 i = 0; i < calls.length; ++i) {
            if (ForbiddenInterfaceLib.isForbidden(calls[i].target)) revert SpendLimitForbiddenCall(calls[i].target);
        }
        uint256[] memory words = new uint256[](
            _TOKENS_AT + _TOKEN_WORDS * tokenCount + 2 * _PAIR_WORDS * tokenCount * calls.length
        );
        words[0] = account.balance;
        for (uint256 i = 0; i < calls.length; ++i) {
            words[1] += calls[i].value;
        }
        words[2] = tokenCount;
        uint256 used = _TOKENS_AT + _TOKEN_WORDS * tokenCount;
        for (uint256 t = 0; t < tokenCount; ++t) {
            address token = _tokens[_key(generation, entityId, address(uint160(t)))][account];
            uint256 at = _TOKENS_AT + _TOKEN_WORDS * t;
            words[at] = uint160(token);
            words[at + 1] = IERC20(token).balanceOf(account);
            used = _snapshotPulls(account, token, calls, words, used);
            used = _declareSpends(account, token, calls, words, at, used);
        }
        assembly ("memory-safe") {
            // The array's words, as bytes: its length word becomes the byte length (no copy).
            mstore(words, mul(used, 32))
            context := words
        }
    }

    /// @inheritdoc IExecutionHookModule
    /// @dev Charges, at the block's time, what left the account beyond what validation recorded: for native currency
    /// the balance's loss beyond the calls' values; for each budgeted token the larger of the balance's loss and what
    /// certainly left (the transfers, plus what was pulled through the snapshotted allowances), beyond the part of what
    /// validation recorded that the op used: its transfers and what its spenders used of the approvals it made (an
    /// approval's unused part stays charged, and is never credited against another spender's pull). An inflow during
    /// the op can mask a loss, never a transfer or a pull through a finite allowance.
    /// Reverts (and so does the whole execution) if a charge exceeds a budget or per-call cap, or native currency left
    /// without a budget. `preExecHookData` is the context of {preExecutionHook}.
    function postExecutionHook(uint32 entityId, bytes calldata preExecHookData) external {
        address account = msg.sender;
        uint64 generation = uint64(_installedState(account, entityId));
        // solhint-disable-next-line not-rely-on-time
        uint256 time = block.timestamp;
        uint256 nativeBefore = _word(preExecHookData, 0);
        uint256 values = _word(preExecHookData, 1);
        uint256 nativeBalance = account.balance;
        // The values were recorded in validation; charge only what left beyond them.
        if (nativeBalance + values < nativeBefore) {
            uint256 extra = nativeBefore - nativeBalance - values;
            _spend(account, generation, entityId, NATIVE, extra, extra, time, extra + values);
        }
        uint256 pairsAt = _TOKENS_AT + _TOKEN_WORDS * _word(preExecHookData, 2);
        uint256 end = preExecHookData.length / 32;
        for (uint256 i = _TOKENS_AT; i < pairsAt; i += _TOKEN_WORDS) {
            address token = address(uint160(_word(preExecHookData, i)));
            uint256 before = _word(preExecHookData, i + 1);
            uint256 balance = IERC20(token).balanceOf(account);
            // What validation recorded and this op used: the transfers, then what approved spenders used.
            uint256 used = _word(preExecHookData, i + 2);
            uint256 left = used;
            for (uint256 j = pairsAt; j < end; j += _PAIR_WORDS) {
                uint256 tagged = _word(preExecHookData, j);
                if (address(uint160(tagged)) != token) continue;
                uint256 allowance = IERC20(token).allowance(account, address(uint160(_word(preExecHookData, j + 1))));
                uint256 snapshot = _word(preExecHookData, j + 2);
                if (allowance < snapshot) {
                    if (tagged & _APPROVAL_PAIR != 0) used += snapshot - allowance;
                    else left += snapshot - allowance;
                }
            }
            if (balance < before && before - balance > left) left = before - balance;
            if (left > used) {
                uint256 extra = left - used;
                _spend(account, generation, entityId, token, extra, extra, time, _word(preExecHookData, i + 3) + extra);
            }
        }
    }

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
        uint256 key = _key(generationOf(account, entityId), entityId, asset);
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
        Budget budget = _budgets[_key(generationOf(account, entityId), entityId, asset)][account];
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

    /// @notice The tokens the execution hook measures for `account`'s session `entityId`: every token it has, or had, a
    /// budget for in this install (a removed budget stays measured).
    function budgetedTokensOf(address account, uint32 entityId) external view returns (address[] memory tokens) {
        uint256 install = _installs[entityId][account];
        uint64 generation = uint64(install);
        tokens = new address[]((install >> _TOKEN_COUNT_SHIFT) & _TOKEN_COUNT_MASK);
        for (uint256 i = 0; i < tokens.length; ++i) {
            tokens[i] = _tokens[_key(generation, entityId, address(uint160(i)))][account];
        }
    }

    /// @notice Whether `account`'s session `entityId` may use `paymaster`.
    function isPaymasterAllowed(address account, uint32 entityId, address paymaster) external view returns (bool) {
        return _paymasters[_key(generationOf(account, entityId), entityId, paymaster)][account];
    }

    /// @notice The install generation of (account, entityId); 0 if never installed.
    function generationOf(address account, uint32 entityId) public view returns (uint64) {
        return uint64(_installs[entityId][account]);
    }

    // ─────────────────────────────────────────── metadata ────────────────────────────────────────────

    /// @inheritdoc IModule
    function moduleId() external pure returns (string memory) {
        return "leash.spend-limit-hook.0.2.0";
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IModule).interfaceId ||
            interfaceId == type(IValidationHookModule).interfaceId ||
            interfaceId == type(IExecutionHookModule).interfaceId;
    }

    // ─────────────────────────────────────────── internals ───────────────────────────────────────────

    /// @dev Validation's checks of one op (or runtime call): sums the calldata's spends per asset and refuses the op
    /// if any exceeds its budget or cap in the period containing `time`, and records them (with the gas `gasCost`, part
    /// of the native sum, and one op with an op-count budget); narrows `window` to each period charged. The execution
    /// hook charges what then leaves beyond these.
    /// Native first, then the tokens in the order they first appear, then the op count.
    function _checkOp(
        address account,
        uint256 install,
        uint32 entityId,
        Call[] memory calls,
        uint256 gasCost,
        uint256 time,
        Window memory window
    ) internal {
        uint64 generation = uint64(install);
        (uint256 nativeSpend, uint256[] memory tokenSpends) = _sumSpends(account, generation, entityId, calls, gasCost);
        uint256 start;
        uint256 length;
        // A zero native spend (a paymaster pays, no value) touches no budget.
        if (nativeSpend != 0) {
            (start, length) = _spend(
                account,
                generation,
                entityId,
                NATIVE,
                nativeSpend,
                nativeSpend,
                time,
                nativeSpend
            );
            _narrow(window, start, length);
        }
        for (uint256 i = 0; i < tokenSpends.length; i += 2) {
            address token = address(uint160(tokenSpends[i]));
            uint256 amount = tokenSpends[i + 1];
            (start, length) = _spend(account, generation, entityId, token, amount, amount, time, amount);
            _narrow(window, start, length);
        }
        if (install & _HAS_OPERATIONS_BUDGET != 0) {
            (start, length) = _spend(account, generation, entityId, OPERATIONS, 1, 1, time, 1);
            _narrow(window, start, length);
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
            uint256 token = uint160(call.target);
            if (!isTokenSpend) {
                (token, amount) = _permit2Approval(account, generation, entityId, call);
                if (token == 0) continue;
            }
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

    /// @dev Classifies a call: an ERC-20 spend of the account (with its amount, read by {_erc20Amount}, the one reading
    /// the execution hook uses too), a refused call, or neither. Refused: one of the four spend selectors that is no
    /// spend of the account (truncated, or `transferFrom` of another address), and on a budgeted token any other call
    /// with calldata (1 to 3 bytes, other functions). Empty calldata (a plain transfer, or a token's `receive`) is
    /// neither: what it makes leave is measured.
    function _tokenSpend(
        address account,
        uint64 generation,
        uint32 entityId,
        Call memory call
    ) internal view returns (bool isTokenSpend, uint256 amount) {
        bytes memory data = call.data;
        // The pseudo-assets' addresses (precompiles) hold no tokens; their budgets are no token budgets.
        if (data.length == 0 || uint160(call.target) <= uint160(_LAST_PSEUDO_ASSET)) return (false, 0);
        bytes4 spend;
        (spend, amount) = _erc20Amount(account, data);
        if (spend != bytes4(0)) return (true, amount);
        bytes4 selector = bytes4(data);
        if (
            selector == IERC20.transfer.selector ||
            selector == IERC20.approve.selector ||
            selector == _INCREASE_ALLOWANCE ||
            selector == IERC20.transferFrom.selector ||
            _budgets[_key(generation, entityId, call.target)][account].isSet()
        ) revert SpendLimitTokenCallRefused(call.target, selector);
        return (false, 0);
    }

    /// @dev A Permit2 `approve` of a budgeted token, as (token, amount): the allowance it sets lets its spender pull
    /// the token through Permit2 at any time, in no session op, so validation charges it like an ERC-20 `approve`
    /// (THREATS 21). (0, 0) for any other call, and for a token without a budget (the owner named the function).
    function _permit2Approval(
        address account,
        uint64 generation,
        uint32 entityId,
        Call memory call
    ) internal view returns (uint256 token, uint256 amount) {
        bytes memory data = call.data;
        if (data.length < _FOUR_ARGS_LENGTH || bytes4(data) != _PERMIT2_APPROVE) return (0, 0);
        assembly ("memory-safe") {
            token := mload(add(data, _FIRST_ARG_END))
            amount := mload(add(data, _THREE_ARGS_LENGTH))
        }
        // A dirty token word could name a budgeted token to Permit2 yet a different key here.
        if (token > type(uint160).max) revert SpendLimitTokenCallRefused(call.target, _PERMIT2_APPROVE);
        // Native currency and the pseudo-assets are no Permit2 tokens.
        if (
            token <= uint160(_LAST_PSEUDO_ASSET) ||
            !_budgets[_key(generation, entityId, address(uint160(token)))][account].isSet()
        ) return (0, 0);
    }

    /// @dev Checks `amount` of `asset` against what remains of its budget in the period containing `time` (rolling the
    /// period over if `time` is in a later one), and `opTotal` (all the op spends of it) against its per-call cap, and
    /// records `recorded` (at most `amount`) of it. Returns the period's start and length (0: lifetime).
    function _spend(
        address account,
        uint64 generation,
        uint32 entityId,
        address asset,
        uint256 amount,
        uint256 recorded,
        uint256 time,
        uint256 opTotal
    ) internal returns (uint256 start, uint256 length) {
        uint256 key = _key(generation, entityId, asset);
        Budget budget = _budgets[key][account];
        if (!budget.isSet()) revert SpendLimitNoBudget(account, entityId, asset);

        start = budget.periodStart();
        length = budget.periodLength();
        uint256 spent = budget.spent();
        bool rolled;
        if (length != 0) {
            uint256 current = _periodStartAt(start, length, time);
            if (current != start) {
                start = current;
                spent = 0;
                rolled = true;
            }
        }
        if (budget.hasPerCallCap()) {
            uint256 cap = _perCallCaps[key][account];
            if (opTotal > cap) revert SpendLimitPerCallCapExceeded(account, entityId, asset, opTotal, cap);
        }
        uint256 limit = budget.limit();
        if (amount > limit - spent) revert SpendLimitExceeded(account, entityId, asset, amount, limit - spent);
        if (recorded == 0) return (start, length);
        // spent + recorded <= spent + amount <= limit <= MAX_LIMIT: the pack cannot truncate.
        _budgets[key][account] = BudgetPacking.pack(limit, spent + recorded, start, length, budget.hasPerCallCap());
        if (rolled) emit BudgetPeriodStarted(account, entityId, asset, start);
    }

    /// @dev Narrows `window` to the period [start, start + length) (a lifetime budget, length 0, does not narrow).
    function _narrow(Window memory window, uint256 start, uint256 length) internal pure {
        if (length == 0) return;
        if (start > window.start) window.start = start;
        uint256 end = start + length;
        if (window.end == 0 || end < window.end) window.end = end;
    }

    /// @dev The start of the period containing `time` on the grid `start + k * length`; never before `start`.
    function _periodStartAt(uint256 start, uint256 length, uint256 time) internal pure returns (uint256) {
        if (time < start + length) return start;
        return start + ((time - start) / length) * length;
    }

    /// @dev The calls of the execution `data` describes: `execute` / `executeBatch` calldata, or `executeUserOp`
    /// calldata wrapping one of them. Anything else makes no calls of the account: none.
    function _executionCalls(bytes calldata data) internal pure returns (Call[] memory calls) {
        if (data.length >= 4 && bytes4(data[:4]) == IAccountExecute.executeUserOp.selector) {
            data = ExecutionCalldataLib.userOpCallData(data);
            // Behind executeUserOp the op's callData still starts with that selector.
            if (data.length >= 4) data = data[4:];
        }
        if (!ExecutionCalldataLib.isExecuteCalldata(data)) return new Call[](0);
        return ExecutionCalldataLib.decodeCalls(data, false);
    }

    /// @dev The selector and amount of an ERC-20 spend of the account (`transfer`, `approve`, `increaseAllowance`,
    /// `transferFrom(account, ...)`) in `data`, or (0, 0).
    function _erc20Amount(address account, bytes memory data) internal pure returns (bytes4 selector, uint256 amount) {
        if (data.length < _TWO_ARGS_LENGTH) return (bytes4(0), 0);
        selector = bytes4(data);
        if (
            selector == IERC20.transfer.selector ||
            selector == IERC20.approve.selector ||
            selector == _INCREASE_ALLOWANCE
        ) {
            assembly ("memory-safe") {
                amount := mload(add(data, _TWO_ARGS_LENGTH))
            }
            return (selector, amount);
        }
        if (selector == IERC20.transferFrom.selector && data.length >= _THREE_ARGS_LENGTH) {
            uint256 from;
            assembly ("memory-safe") {
                from := mload(add(data, _FIRST_ARG_END))
                amount := mload(add(data, _THREE_ARGS_LENGTH))
            }
            if (from == uint256(uint160(account))) return (selector, amount);
        }
        return (bytes4(0), 0);
    }

    /// @dev Appends to `words` (from `used`), for `token`, the account's allowance to each distinct called contract
    /// that could pull it: a contract with code, not the token itself, and not approved for it by the op (an approval
    /// validation recorded bounds that spender). Returns the new end.
    function _snapshotPulls(
        address account,
        address token,
        Call[] memory calls,
        uint256[] memory words,
        uint256 used
    ) internal view returns (uint256) {
        uint256 from = used;
        for (uint256 i = 0; i < calls.length; ++i) {
            address spender = calls[i].target;
            if (spender == token || spender.code.length == 0 || _approves(account, token, spender, calls)) continue;
            bool seen = false;
            for (uint256 j = from; j < used; j += _PAIR_WORDS) {
                if (words[j + 1] == uint160(spender)) seen = true;
            }
            if (seen) continue;
            words[used] = uint160(token);
            words[used + 1] = uint160(spender);
            words[used + 2] = IERC20(token).allowance(account, spender);
            used += _PAIR_WORDS;
        }
        return used;
    }

    /// @dev Writes at `words[at + 2]` what the calls transfer of `token` (`transfer`, `transferFrom(account, ...)`)
    /// and at `words[at + 3]` all that validation recorded for it (those and `approve` / `increaseAllowance`),
    /// classified as {_tokenSpend} does; appends to `words` (from `used`) one approval pair per spender the calls
    /// approve (amounts summed): after the op, what the spender used of it is `amount - allowance` (for
    /// `increaseAllowance` over a standing allowance this credits less, never more). Returns the new end.
    function _declareSpends(
        address account,
        address token,
        Call[] memory calls,
        uint256[] memory words,
        uint256 at,
        uint256 used
    ) internal pure returns (uint256) {
        uint256 from = used;
        for (uint256 i = 0; i < calls.length; ++i) {
            if (calls[i].target != token) continue;
            bytes memory data = calls[i].data;
            (bytes4 selector, uint256 amount) = _erc20Amount(account, data);
            if (selector == bytes4(0)) continue;
            words[at + 3] += amount;
            if (selector == IERC20.transfer.selector || selector == IERC20.transferFrom.selector) {
                words[at + 2] += amount;
                continue;
            }
            used = _addApproval(words, from, used, token, data, amount);
        }
        return used;
    }

    /// @dev Adds `amount` to the approval pair (listed from `from` to `used`) of the spender `data` approves on
    /// `token`, appending the pair if it is the first approval of that spender. Returns the new end.
    function _addApproval(
        uint256[] memory words,
        uint256 from,
        uint256 used,
        address token,
        bytes memory data,
        uint256 amount
    ) internal pure returns (uint256) {
        uint256 word;
        assembly ("memory-safe") {
            word := mload(add(data, _FIRST_ARG_END))
        }
        // A spender word with dirty high bits: the token reads (or refuses) its low 20 bytes, as {_approves}.
        uint256 spender = uint160(word);
        uint256 j = from;
        while (j < used && words[j + 1] != spender) j += _PAIR_WORDS;
        if (j == used) {
            words[used] = uint160(token) | _APPROVAL_PAIR;
            words[used + 1] = spender;
            used += _PAIR_WORDS;
        }
        words[j + 2] += amount;
        return used;
    }

    /// @dev Whether one of the calls approves (or increases the allowance of) `spender` on `token`.
    function _approves(
        address account,
        address token,
        address spender,
        Call[] memory calls
    ) internal pure returns (bool) {
        for (uint256 i = 0; i < calls.length; ++i) {
            if (calls[i].target != token) continue;
            bytes memory data = calls[i].data;
            (bytes4 selector, ) = _erc20Amount(account, data);
            if (selector != IERC20.approve.selector && selector != _INCREASE_ALLOWANCE) continue;
            uint256 word;
            assembly ("memory-safe") {
                word := mload(add(data, _FIRST_ARG_END))
            }
            // A spender word with dirty high bits: the token reads (or refuses) its low 20 bytes.
            if (address(uint160(word)) == spender) return true;
        }
        return false;
    }

    /// @dev Word `index` of a context (bounds-checked).
    function _word(bytes calldata context, uint256 index) internal pure returns (uint256) {
        return uint256(bytes32(context[index * 32:index * 32 + 32]));
    }

    /// @dev Lists `asset` in the install slot `install` (and the token list) if it is a token or {OPERATIONS};
    /// returns the updated install slot (the caller writes it).
    function _listAsset(address account, uint256 install, uint32 entityId, address asset) internal returns (uint256) {
        if (asset == OPERATIONS) return install | _HAS_OPERATIONS_BUDGET;
        if (uint160(asset) <= uint160(_LAST_PSEUDO_ASSET)) return install;
        uint256 count = (install >> _TOKEN_COUNT_SHIFT) & _TOKEN_COUNT_MASK;
        // A token whose budget was removed is still listed (and measured): setting a budget again lists it once.
        for (uint256 i = 0; i < count; ++i) {
            if (_tokens[_key(uint64(install), entityId, address(uint160(i)))][account] == asset) return install;
        }
        if (count == MAX_BUDGETS) revert SpendLimitTooManyEntries(count + 1, 0);
        _tokens[_key(uint64(install), entityId, address(uint160(count)))][account] = asset;
        // count < MAX_BUDGETS = 16: the count fits its 8 bits.
        return install + (1 << _TOKEN_COUNT_SHIFT);
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
        if (periodLength > BudgetPacking.MAX_PERIOD || (periodLength != 0 && periodLength < MIN_PERIOD)) {
            revert SpendLimitPeriodOutOfRange(periodLength);
        }
        if (periodStart > BudgetPacking.MAX_TIME) revert SpendLimitPeriodStartOutOfRange(periodStart);
        uint256 key = _key(generation, entityId, asset);
        // A lowered limit keeps what was spent: the remaining budget is then zero, never negative.
        uint256 kept = spent > limit ? limit : spent;
        _budgets[key][account] = BudgetPacking.pack(limit, kept, periodStart, periodLength, perCallCap != 0);
        if (perCallCap != 0) _perCallCaps[key][account] = perCallCap;
        emit BudgetSet(account, entityId, asset, limit, periodLength, perCallCap, periodStart, kept);
    }

    /// @dev Refuses to allow paymasters unless the session's sponsored gas has a budget and a fee cap.
    function _requireSponsorshipBounded(address account, uint64 generation, uint32 entityId) internal view {
        if (
            !_budgets[_key(generation, entityId, SPONSORED_GAS)][account].isSet() ||
            !_budgets[_key(generation, entityId, SPONSORED_FEE)][account].isSet()
        ) revert SpendLimitSponsorshipUnbounded(account, entityId);
    }

    /// @dev The install slot of (account, entityId); reverts if the hook is not installed there.
    function _installedState(address account, uint32 entityId) internal view returns (uint256 install) {
        install = _installs[entityId][account];
        if (install & _INSTALLED == 0) revert SpendLimitNotInstalled(account, entityId);
    }

    function _key(uint64 generation, uint32 entityId, address asset) internal pure returns (uint256) {
        return (uint256(generation) << _GENERATION_SHIFT) | (uint256(entityId) << _ENTITY_SHIFT) | uint160(asset);
    }
}
