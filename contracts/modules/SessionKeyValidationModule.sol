// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {_packValidationData} from "@account-abstraction/contracts/core/Helpers.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {Call, IModularAccount, ModuleEntity} from "../interfaces/erc6900/IModularAccount.sol";
import {IModule} from "../interfaces/erc6900/IModule.sol";
import {IValidationModule} from "../interfaces/erc6900/IValidationModule.sol";
import {IDeferredInstaller} from "../interfaces/IDeferredInstaller.sol";
import {ExecutionCalldataLib} from "../libraries/ExecutionCalldataLib.sol";
import {HookConfigLib} from "../libraries/HookConfigLib.sol";
import {ModuleEntityLib} from "../libraries/ModuleEntityLib.sol";
import {ForbiddenInterfaceLib} from "../libraries/ForbiddenInterfaceLib.sol";
import {AccountSlot, SessionKeySlot, SessionPacking, SessionStateSlot} from "../libraries/SessionPacking.sol";
import {SessionGrant} from "../libraries/SessionGrantLib.sol";
import {GrantReading, SessionGrantReader} from "./SessionGrantReader.sol";
import {ValidationConfigLib} from "../libraries/ValidationConfigLib.sol";
import {ValidationViewLib} from "../libraries/ValidationViewLib.sol";
import {ValueMovingSelectors} from "../libraries/ValueMovingSelectors.sol";

/// @dev The configuration of one session, as installed (`onInstall` data) and as returned by {getSession}.
struct SessionConfig {
    // The session's id: the entity id it is installed under on the account. Never 0xffffffff.
    uint32 sessionId;
    // The agent's address: the only key that can use the session.
    address agent;
    // The session is valid strictly after validAfter and up to and including validUntil (unix seconds).
    uint48 validAfter;
    uint48 validUntil;
    // Most native value one call may carry (0: the session cannot send native value).
    uint128 valueCapPerCall;
    // Whether the session may sign ERC-1271 messages for the account (default false).
    bool canSignMessages;
    // The call scope: the session may call targets[i] with selectors[i]. Pseudo-selectors:
    // 0x00000000 = a call with empty calldata (a plain native transfer), 0xffffffff = any call to the target
    // (standard value-moving functions excluded), 0xfffffffe = sign EIP-712 messages of the target's domain.
    address[] targets;
    bytes4[] selectors;
    // Rules on the static arguments of scope entries (see "Argument rules" in SessionKeyValidationModule): one word
    // each, entry index (8) ‖ argument index (8) ‖ op (8) ‖ value (232) from high to low bits, strictly ascending.
    uint256[] argumentRules;
}

/// @title SessionKeyValidationModule
/// @notice ERC-6900 v0.8 validation module for scoped, expiring, revocable session keys: one session is one
/// validation entity (entity id = session id) on the account, installed for `execute` and `executeBatch` only.
/// - User ops: the agent's ECDSA signature over the EntryPoint v0.8 user op hash. The op's nonce key must be the
///   session's ModuleEntity (`module ‖ sessionId`) with a lane number (0 to 65,535) XORed into the module address's
///   low 16 bits: the key binds the signature to this session and to this module (another module would need the
///   same 144 high address bits), and each lane is its own nonce sequence, so an agent can have ops of one session
///   in flight in parallel (ERC-4337 2D nonces; bundlers keep one op per sender and key). Lane 0 is the
///   ModuleEntity itself. validAfter / validUntil are returned in the validation data: no
///   TIMESTAMP during validation, the EntryPoint enforces time.
/// - Runtime: the agent's EOA calls `executeWithRuntimeValidation`; same scope, time checked with block.timestamp.
/// - Scope: every call of `execute` / `executeBatch` (also behind `executeUserOp`) must be an allowed
///   (target, selector) and carry at most `valueCapPerCall`. Never allowed, whatever the grant says: the account
///   itself, this module, the spend-limit hook, the EntryPoint, any ERC-6900 module and any EntryPoint (an address
///   that reports a module interface or ERC-4337's `IStakeManager` through ERC-165, {ForbiddenInterfaceLib}: refused
///   at grant, and before every op's calls run by the spend-limit hook, since validation may not call arbitrary
///   addresses under ERC-7562), and
///   any account function other than `execute` / `executeBatch` (so no installs, upgrades, owner changes or nested
///   dispatchers).
/// - ERC-1271: refused unless the session was granted signing; then the agent signs an account- and
///   session-bound `SessionMessage(address account,uint32 sessionId,bytes32 hash)` in this module's domain.
/// - Grants: by the owner's transaction (`installValidation` with a SessionConfig), or by the owner's EIP-712
///   `SessionGrant` signature that anyone submits ({grantWithSignature}), also from inside the agent's first user
///   op (the account's deferred install); checked through the account's ERC-1271, and only a global signature
///   validation (the owner's) or the account's built-in validation (module address 0) counts.
/// - Revocation: {revoke} one session (one SSTORE) or {revokeAll} (one SSTORE, the kill switch), by the account or
///   by an owner-signed message anyone submits. Signatures made by a session of this module never count as the
///   owner's for grants or revocations.
/// @dev Invariant: a session validates only if its signer is set, it is not revoked, its epoch is the account's
/// epoch, and (user ops) the nonce key is its ModuleEntity. Invariant: scope entries are keyed by the grant id, so a
/// re-granted or re-installed session id never inherits an older grant's scope.
/// Storage is keyed with the account as the innermost mapping key (ERC-7562 associated storage).
contract SessionKeyValidationModule is IValidationModule, IDeferredInstaller, EIP712 {
    using SessionPacking for SessionKeySlot;
    using SessionPacking for SessionStateSlot;
    using SessionPacking for AccountSlot;

    // ─────────────────────────────────────────── constants ───────────────────────────────────────────

    /// @notice Pseudo-selector of a scope entry that allows calls with empty calldata (plain transfers).
    bytes4 public constant SELECTOR_NO_CALLDATA = 0x00000000;
    /// @notice Pseudo-selector of a scope entry that allows any call to its target, except the standard functions that
    /// move or approve value ({isValueMovingSelector}), which need an entry of their own.
    bytes4 public constant SELECTOR_ANY = 0xffffffff;
    /// @notice Pseudo-selector of a scope entry that lets a signing session sign EIP-712 messages whose domain's
    /// `verifyingContract` is the entry's target (never a call).
    bytes4 public constant SELECTOR_SIGN = 0xfffffffe;
    /// @notice The entity id reserved by ERC-6900 for direct-call validation; never a session id.
    uint32 public constant DIRECT_CALL_ENTITY_ID = type(uint32).max;
    /// @notice Most scope entries in one session (bounds the gas of a grant).
    uint256 public constant MAX_SCOPE_ENTRIES = 64;

    bytes32 private constant _SESSION_REVOCATION_TYPEHASH = keccak256(
        "SessionRevocation(address account,uint32 sessionId,uint64 grantId,uint256 nonce)"
    );
    bytes32 private constant _ALL_SESSIONS_REVOCATION_TYPEHASH = keccak256(
        "AllSessionsRevocation(address account,uint256 nonce)"
    );
    bytes32 private constant _NONCE_CANCELLATION_TYPEHASH = keccak256(
        "NonceCancellation(address account,uint256 nonce)"
    );
    bytes32 private constant _SESSION_MESSAGE_TYPEHASH = keccak256(
        "SessionMessage(address account,uint32 sessionId,bytes32 hash)"
    );

    /// @dev Bits of the EIP-712 domain fields present in a session signature, in the order EIP-712 lists them.
    uint8 private constant _DOMAIN_NAME = 1;
    uint8 private constant _DOMAIN_VERSION = 2;
    uint8 private constant _DOMAIN_CHAIN_ID = 4;
    uint8 private constant _DOMAIN_VERIFYING_CONTRACT = 8;
    uint8 private constant _DOMAIN_SALT = 16;

    bytes4 private constant _ERC1271_MAGIC = IERC1271.isValidSignature.selector;
    /// @dev Length of a ModuleEntity at the start of an account's ERC-1271 signature.
    uint256 private constant _MODULE_ENTITY_LENGTH = 24;
    /// @dev Transient slot base of the "deferred grant in progress" flag; the slot is keccak256(account ‖ base), so
    /// it is storage associated with the account (ERC-7562). Set only while {installDeferred} runs.
    uint256 private constant _DEFERRED_GRANT_SLOT = uint256(keccak256("leash.session-keys.deferred-grant"));
    /// @dev The canonical EntryPoint v0.6, which holds deposits too but reports no interface through ERC-165 (every
    /// EntryPoint since v0.7 reports `IStakeManager`, which {ForbiddenInterfaceLib} asks).
    address private constant _ENTRY_POINT_V06 = 0x5FF137D4b0FDCD49DcA30c7CF57E578a026d2789;
    bytes4 private constant _ERC1271_INVALID = 0xffffffff;
    /// @dev A scope slot: bit 0 = the entry exists, bits 8.. = how many argument rules it has.
    uint256 private constant _SCOPE_ALLOWED = 1;
    uint8 private constant _RULE_COUNT_SHIFT = 8;
    /// @notice Most argument rules one session may have.
    uint256 public constant MAX_ARGUMENT_RULES = 32;
    /// @notice Argument rule ops: the argument word equals the value (several on one argument: one of them), is at
    /// most the value, or at least the value.
    uint8 public constant RULE_EQ = 1;
    uint8 public constant RULE_LE = 2;
    uint8 public constant RULE_GE = 3;
    /// @dev Argument rule Bits Layout (low to high): [0..232) value, [232..240) op, [240..248) argument index,
    /// [248..256) scope entry index (in the grant only; the stored rule has 0 there).
    uint256 private constant _RULE_VALUE_MASK = (1 << 232) - 1;
    uint8 private constant _RULE_OP_SHIFT = 232;
    uint8 private constant _RULE_ARG_SHIFT = 240;
    uint8 private constant _RULE_ENTRY_SHIFT = 248;
    /// @dev `multicall(bytes[])`, `multicall(uint256,bytes[])`, `multicall(bytes32,bytes[])`, then `batch`.
    bytes4 private constant _MULTICALL = 0xac9650d8;
    bytes4 private constant _MULTICALL_DEADLINE = 0x5ae401dc;
    bytes4 private constant _MULTICALL_BLOCKHASH = 0x1f0464d1;
    /// @dev `batch(bytes[],bool)` (BoringBatchable).
    bytes4 private constant _BATCH = 0xd2423b51;
    /// @dev Calldata bytes before an argument word: the selector.
    uint256 private constant _SELECTOR_LENGTH = 4;
    uint8 private constant _GRANT_ID_SHIFT = 192;
    uint8 private constant _TARGET_SHIFT = 32;
    uint8 private constant _NONCE_KEY_SHIFT = 64;
    uint8 private constant _MODULE_ENTITY_ADDRESS_SHIFT = 32;
    /// @dev The nonce key bits a lane may change: the module address's low 16 bits in the key.
    uint192 private constant _NONCE_LANE_MASK = uint192(type(uint16).max) << _MODULE_ENTITY_ADDRESS_SHIFT;

    /// @notice The SpendLimitHook installed with sessions granted by signature (zero: none).
    address public immutable SPEND_LIMIT_HOOK;
    /// @notice The EntryPoint: never a session target (it holds the account's deposit).
    address public immutable ENTRY_POINT;
    /// @notice The stateless reader of owner-signed grants this module deployed (see {SessionGrantReader}).
    SessionGrantReader public immutable GRANT_READER;

    // ──────────────────────────────────────────── storage ────────────────────────────────────────────

    mapping(uint32 sessionId => mapping(address account => SessionKeySlot)) private _keys;
    mapping(uint32 sessionId => mapping(address account => SessionStateSlot)) private _states;
    mapping(address account => AccountSlot) private _accounts;
    /// @dev scopeKey = grantId (64) ‖ target (160) ‖ selector (32).
    mapping(uint256 scopeKey => mapping(address account => uint256)) private _scopes;
    mapping(uint256 nonce => mapping(address account => bool)) private _usedNonces;
    /// @dev The argument rules of a scope entry, by index (their count is in the entry's scope slot).
    mapping(uint256 scopeKey => mapping(uint256 index => mapping(address account => uint256))) private _rules;

    // ─────────────────────────────────────────── events ──────────────────────────────────────────────

    /// @notice A session was granted (installed) on `account`.
    event SessionGranted(
        address indexed account,
        uint32 indexed sessionId,
        address indexed agent,
        uint64 grantId,
        uint48 validAfter,
        uint48 validUntil,
        uint128 valueCapPerCall,
        bool canSignMessages,
        address[] targets,
        bytes4[] selectors,
        uint256[] argumentRules
    );
    /// @notice A session was revoked.
    event SessionRevoked(address indexed account, uint32 indexed sessionId, uint64 grantId);
    /// @notice Every session of `account` granted before was revoked (kill switch); `epoch` is the new epoch.
    event AllSessionsRevoked(address indexed account, uint32 epoch);
    /// @notice A session's data was erased on uninstall.
    event SessionRemoved(address indexed account, uint32 indexed sessionId);
    /// @notice An owner-signed grant or revocation consumed `nonce`.
    event NonceUsed(address indexed account, uint256 nonce);

    // ─────────────────────────────────────────── errors ──────────────────────────────────────────────

    /// @notice Session id 0xffffffff is reserved for ERC-6900 direct-call validation.
    error SessionIdReserved(uint32 sessionId);
    /// @notice The agent address must not be zero.
    error SessionAgentZero();
    /// @notice validUntil must be after validAfter.
    error SessionTimeRangeInvalid(uint48 validAfter, uint48 validUntil);
    /// @notice The scope needs 1 to MAX_SCOPE_ENTRIES (target, selector) pairs, as many targets as selectors.
    error SessionScopeInvalid(uint256 targets, uint256 selectors);
    /// @notice `target` may never be in a session's scope (the account, an EntryPoint, an ERC-6900 module, or zero).
    error SessionTargetForbidden(address target);
    /// @notice No session `sessionId` on `account`.
    error SessionNotFound(address account, uint32 sessionId);
    /// @notice The session was revoked.
    error SessionRevokedError(address account, uint32 sessionId);
    /// @notice The account's kill switch was pulled after the session was granted.
    error SessionKilled(address account, uint32 sessionId);
    /// @notice The call (target, selector) is outside the session's scope.
    error SessionCallOutOfScope(address target, bytes4 selector);
    /// @notice The call carries more native value than the session's per-call cap.
    error SessionValueOverCap(address target, uint256 value, uint256 cap);
    /// @notice The user op's nonce key is not one of the session's lanes (`expected` is lane 0, its ModuleEntity).
    error SessionNonceKeyMismatch(uint192 expected, uint192 actual);
    /// @notice The runtime caller is not the session's agent.
    error SessionUnauthorizedSender(address account, uint32 sessionId, address sender);
    /// @notice The session is not valid at this time (runtime path).
    error SessionOutOfTimeRange(uint48 validAfter, uint48 validUntil, uint256 timestamp);
    /// @notice The runtime authorization must be empty.
    error SessionUnexpectedAuthorization();
    /// @notice `nonce` was already used on `account`.
    error SessionNonceUsed(address account, uint256 nonce);
    /// @notice The owner's signature does not validate on `account`.
    error SessionOwnerSignatureInvalid(address account);
    /// @notice A signed revocation names a grant that is not the session's current one.
    error SessionGrantMismatch(uint64 expected, uint64 actual);
    /// @notice The account already has a session `sessionId`: uninstall it with its data (erasing it) first.
    error SessionAlreadyExists(address account, uint32 sessionId);
    /// @notice The account does not report (this module, `sessionId`) as installed: the install data names another
    /// session than the validation being installed.
    error SessionNotBeingInstalled(address account, uint32 sessionId);
    /// @notice The account still reports (this module, `sessionId`) as installed: the uninstall data names another
    /// session than the validation being removed, and that session is kept.
    error SessionStillInstalled(address account, uint32 sessionId);
    /// @notice The grant was signed in an older revocation epoch (a kill switch was pulled since).
    error SessionGrantEpochStale(uint32 current, uint32 signed);
    /// @notice A deferred install carried a grant for another account than the calling one.
    error SessionGrantAccountMismatch(address caller, address account);
    /// @notice An argument rule is malformed (unknown op, value over 232 bits, an entry that does not exist or is a
    /// pseudo-selector, rules not strictly ascending, or too many).
    error SessionArgumentRuleInvalid(uint256 rule);
    /// @notice The same (target, selector) is listed twice in one scope.
    error SessionScopeEntryDuplicated(address target, bytes4 selector);
    /// @notice The call's argument `argument` breaks a rule the owner set on (target, selector) (or the calldata is
    /// too short to hold it).
    error SessionArgumentRuleViolated(address target, bytes4 selector, uint256 argument);
    /// @notice `target` has a function with argument rules and also `selector`: the wildcard, or a `multicall` /
    /// `batch` that would reach that function (through the contract itself) with arguments no rule checks.
    error SessionArgumentRuleBypassable(address target, bytes4 selector);
    /// @notice Signed grants are unavailable: this deployment has no spend-limit hook to enforce budgets.
    error SessionSpendLimitHookMissing();

    // ──────────────────────────────────────── construction ───────────────────────────────────────────

    /// @param spendLimitHook The SpendLimitHook that signed grants install (zero to disable signed grants).
    /// @param entryPoint The EntryPoint the accounts use.
    constructor(address spendLimitHook, address entryPoint) EIP712("Leash Session Keys", "1") {
        SPEND_LIMIT_HOOK = spendLimitHook;
        ENTRY_POINT = entryPoint;
        GRANT_READER = new SessionGrantReader();
    }

    // ───────────────────────────────────── install / uninstall ───────────────────────────────────────

    /// @inheritdoc IModule
    /// @dev `data` = `abi.encode(SessionConfig)`. The caller is the account; the config must be installed under
    /// entity id `sessionId`, with selectors `execute` and `executeBatch`. Where the account has ERC-6900's
    /// `getValidationData` view, (this module, `sessionId`) must be installed by then (the account stores a
    /// validation before calling its module), so the data cannot write a session under an id nothing validates for.
    /// An existing session is always refused: a record left by an uninstall without data stays dormant (the account no
    /// longer routes to it) and its id is not granted again; the client picks an unused id.
    function onInstall(bytes calldata data) external {
        SessionConfig memory config = abi.decode(data, (SessionConfig));
        (ValidationViewLib.View state, ) = ValidationViewLib.read(
            msg.sender,
            ModuleEntityLib.pack(address(this), config.sessionId)
        );
        if (state == ValidationViewLib.View.NotInstalled) revert SessionNotBeingInstalled(msg.sender, config.sessionId);
        _grant(msg.sender, config);
    }

    /// @inheritdoc IModule
    /// @dev `data` = `abi.encode(uint32 sessionId)`. Erases the session's key and state; its scope entries die with
    /// its grant id. Refused for a session the account's view still reports installed (the data names another
    /// session than the one being removed; the account catches the revert, and that other session is kept).
    /// Uninstalling without data leaves the removed session dormant: the account no longer routes to it.
    function onUninstall(bytes calldata data) external {
        if (data.length == 0) return;
        uint32 sessionId = abi.decode(data, (uint32));
        (ValidationViewLib.View state, ) = ValidationViewLib.read(
            msg.sender,
            ModuleEntityLib.pack(address(this), sessionId)
        );
        if (state == ValidationViewLib.View.Installed) revert SessionStillInstalled(msg.sender, sessionId);
        _keys[sessionId][msg.sender] = SessionKeySlot.wrap(0);
        _states[sessionId][msg.sender] = SessionStateSlot.wrap(0);
        emit SessionRemoved(msg.sender, sessionId);
    }

    // ─────────────────────────────────────────── grants ──────────────────────────────────────────────

    /// @notice Grants the session described by an owner-signed `SessionGrant`; anyone may submit it.
    /// @dev Checks the signature through `grant.account`'s ERC-1271 (signatures made by this module's sessions are
    /// refused), consumes the nonce, then installs the session on the account, which must have given this module a
    /// direct-call validation for `installValidation`. The session is installed for user ops (and ERC-1271 if
    /// granted), with the SpendLimitHook as its validation hook, configured with the grant's budgets and paymasters
    /// (periods anchored at validAfter).
    /// @param grant The grant the owner signed.
    /// @param ownerSignature The account's ERC-1271 signature: `ModuleEntity ‖ hook segments ‖ 0xFF ‖ signature`.
    function grantWithSignature(SessionGrant calldata grant, bytes calldata ownerSignature) external {
        // The arguments' ABI encoding is `abi.encode(grant, ownerSignature)`; the reader decodes it.
        (grant, ownerSignature);
        _grantWithSignature(GRANT_READER.read(msg.data[4:]));
    }

    /// @inheritdoc IDeferredInstaller
    /// @dev `data` = `abi.encode(SessionGrant grant, bytes ownerSignature)` for the calling account: the same checks
    /// as {grantWithSignature}; the call itself grants nothing.
    /// The grant runs inside the op's validation, where ERC-7562 forbids calling an address without code: its
    /// targets are not asked whether they are modules here (the spend-limit hook asks before each op's calls run).
    function installDeferred(bytes calldata data) external {
        GrantReading memory grant = GRANT_READER.read(data);
        if (grant.account != msg.sender) revert SessionGrantAccountMismatch(msg.sender, grant.account);
        _setDeferredGrant(msg.sender, true);
        _grantWithSignature(grant);
        _setDeferredGrant(msg.sender, false);
    }

    /// @notice Voids an owner-signed grant or revocation of the calling account before anyone submits it.
    /// @param nonce The nonce to mark used.
    function cancelNonce(uint256 nonce) external {
        if (_usedNonces[nonce][msg.sender]) revert SessionNonceUsed(msg.sender, nonce);
        _usedNonces[nonce][msg.sender] = true;
        emit NonceUsed(msg.sender, nonce);
    }

    /// @notice Voids an owner-signed grant or revocation of `account` before anyone submits it, with the owner's
    /// signed `NonceCancellation` naming its nonce; anyone may submit it (the owner's device signs a message, it does
    /// not send a transaction).
    /// @param account The account.
    /// @param nonce The nonce of the pending grant or revocation to void.
    /// @param ownerSignature The account's ERC-1271 signature of the cancellation.
    function cancelNonceWithSignature(address account, uint256 nonce, bytes calldata ownerSignature) external {
        bytes32 structHash = keccak256(abi.encode(_NONCE_CANCELLATION_TYPEHASH, account, nonce));
        _consumeOwnerSignature(account, nonce, _hashTypedDataV4(structHash), ownerSignature);
    }

    // ───────────────────────────────────────── revocation ────────────────────────────────────────────

    /// @notice Revokes the calling account's session `sessionId`: nothing of it validates from the next op on.
    /// @param sessionId The session to revoke.
    function revoke(uint32 sessionId) external {
        _revoke(msg.sender, sessionId);
    }

    /// @notice Kill switch: revokes every session the calling account granted so far, in one storage write.
    function revokeAll() external {
        _revokeAll(msg.sender);
    }

    /// @notice Revokes a session with the owner's signed `SessionRevocation`; anyone may submit it.
    /// @param account The account.
    /// @param sessionId The session.
    /// @param grantId The grant the owner revokes (a re-granted session id has a new grant id).
    /// @param nonce The revocation's nonce (shared with grants).
    /// @param ownerSignature The account's ERC-1271 signature of the revocation.
    function revokeWithSignature(
        address account,
        uint32 sessionId,
        uint64 grantId,
        uint256 nonce,
        bytes calldata ownerSignature
    ) external {
        bytes32 structHash = keccak256(abi.encode(_SESSION_REVOCATION_TYPEHASH, account, sessionId, grantId, nonce));
        _consumeOwnerSignature(account, nonce, _hashTypedDataV4(structHash), ownerSignature);
        uint64 current = _states[sessionId][account].grantId();
        if (current != grantId) revert SessionGrantMismatch(current, grantId);
        _revoke(account, sessionId);
    }

    /// @notice Pulls the kill switch with the owner's signed `AllSessionsRevocation`; anyone (a watchtower) may
    /// submit it.
    /// @param account The account.
    /// @param nonce The revocation's nonce (shared with grants).
    /// @param ownerSignature The account's ERC-1271 signature of the revocation.
    function revokeAllWithSignature(address account, uint256 nonce, bytes calldata ownerSignature) external {
        bytes32 structHash = keccak256(abi.encode(_ALL_SESSIONS_REVOCATION_TYPEHASH, account, nonce));
        _consumeOwnerSignature(account, nonce, _hashTypedDataV4(structHash), ownerSignature);
        _revokeAll(account);
    }

    // ────────────────────────────────────────── validation ───────────────────────────────────────────

    /// @inheritdoc IValidationModule
    /// @dev `userOp.signature` here is the validation's own segment: the agent's 65-byte ECDSA signature over
    /// `userOpHash`. Scope or state violations revert with a reason; a bad signature returns the failure flag.
    function validateUserOp(
        uint32 entityId,
        PackedUserOperation calldata userOp,
        bytes32 userOpHash
    ) external view returns (uint256) {
        address account = userOp.sender;
        uint192 expectedKey = (uint192(uint160(address(this))) << _MODULE_ENTITY_ADDRESS_SHIFT) | entityId;
        uint192 nonceKey = uint192(userOp.nonce >> _NONCE_KEY_SHIFT);
        // Any lane of the session: the key may differ from lane 0 in the lane bits only.
        if ((nonceKey ^ expectedKey) & ~_NONCE_LANE_MASK != 0) revert SessionNonceKeyMismatch(expectedKey, nonceKey);

        (SessionKeySlot key, SessionStateSlot state) = _liveSession(account, entityId);
        _checkScope(account, state, ExecutionCalldataLib.decodeCalls(userOp.callData, true));

        (address recovered, ECDSA.RecoverError error, ) = ECDSA.tryRecoverCalldata(userOpHash, userOp.signature);
        bool sigFailed = error != ECDSA.RecoverError.NoError || recovered != key.signer();
        return _packValidationData(sigFailed, key.validUntil(), key.validAfter());
    }

    /// @inheritdoc IValidationModule
    /// @dev Passes only for the session's agent, inside the session's time range and scope; `authorization` must be
    /// empty.
    function validateRuntime(
        address account,
        uint32 entityId,
        address sender,
        uint256,
        bytes calldata data,
        bytes calldata authorization
    ) external view {
        if (authorization.length != 0) revert SessionUnexpectedAuthorization();
        (SessionKeySlot key, SessionStateSlot state) = _liveSession(account, entityId);
        if (sender != key.signer()) revert SessionUnauthorizedSender(account, entityId, sender);
        _checkTime(key);
        _checkScope(account, state, ExecutionCalldataLib.decodeCalls(data, false));
    }

    /// @inheritdoc IValidationModule
    /// @dev Valid only if the session may sign messages, is live now, `hash` is the EIP-712 digest of typed data whose
    /// domain's `verifyingContract` the session's scope lists with {SELECTOR_SIGN}, and the agent signed
    /// {sessionMessageHash}(account, entityId, hash). `signature` = `abi.encode(uint8 fields, bytes32 nameHash,
    /// bytes32 versionHash, uint256 chainId, address verifyingContract, bytes32 salt, bytes32 structHash,
    /// bytes agentSignature)`: the typed data's domain (`fields` says which of name, version, chainId,
    /// verifyingContract, salt it has, bits 0 to 4; verifyingContract is required) and its struct hash, from which
    /// the module recomputes `hash`. Never reverts for a bad signature; answers invalid when called with less gas than
    /// asking the domain's contract whether it is a module needs.
    function validateSignature(
        address account,
        uint32 entityId,
        address,
        bytes32 hash,
        bytes calldata signature
    ) external view returns (bytes4) {
        SessionKeySlot key = _keys[entityId][account];
        SessionStateSlot state = _states[entityId][account];
        if (
            key.signer() == address(0) ||
            !state.canSign() ||
            state.isRevoked() ||
            state.epoch() != _accounts[account].epoch() ||
            !_isInTimeRange(key)
        ) return _ERC1271_INVALID;
        (address verifyingContract, bytes32 typedDataHash, bytes memory agentSignature) = _decodeTypedDataSignature(
            signature
        );
        // A module or an EntryPoint is out of reach for signatures too, as for calls (asked again here: a grant inside
        // a user op could not ask, and an address may become a module after the grant).
        if (
            typedDataHash != hash ||
            _scopes[_scopeKey(state.grantId(), verifyingContract, SELECTOR_SIGN)][account] & _SCOPE_ALLOWED == 0 ||
            _isForbiddenTarget(account, verifyingContract) ||
            ForbiddenInterfaceLib.isForbiddenOrUnsure(verifyingContract)
        ) return _ERC1271_INVALID;
        (address recovered, ECDSA.RecoverError error, ) = ECDSA.tryRecover(
            sessionMessageHash(account, entityId, hash),
            agentSignature
        );
        return error == ECDSA.RecoverError.NoError && recovered == key.signer() ? _ERC1271_MAGIC : _ERC1271_INVALID;
    }

    // ───────────────────────────────────────────── views ─────────────────────────────────────────────

    /// @notice The config of `account`'s session `sessionId` (scope lists are not stored; read them from
    /// {SessionGranted}). Returns zero values if there is none.
    /// @return agent The agent's address.
    /// @return validAfter The session is valid strictly after this time.
    /// @return validUntil The session is valid up to and including this time.
    /// @return grantId The grant's id (keys its scope).
    /// @return grantEpoch The account's epoch at grant.
    /// @return valueCapPerCall Most native value per call.
    /// @return canSignMessages Whether the session may sign ERC-1271 messages.
    /// @return revoked Whether the session was revoked.
    function getSession(
        address account,
        uint32 sessionId
    )
        external
        view
        returns (
            address agent,
            uint48 validAfter,
            uint48 validUntil,
            uint64 grantId,
            uint32 grantEpoch,
            uint128 valueCapPerCall,
            bool canSignMessages,
            bool revoked
        )
    {
        SessionKeySlot key = _keys[sessionId][account];
        SessionStateSlot state = _states[sessionId][account];
        return (
            key.signer(),
            key.validAfter(),
            key.validUntil(),
            state.grantId(),
            state.epoch(),
            state.valueCapPerCall(),
            state.canSign(),
            state.isRevoked()
        );
    }

    /// @notice True if `account`'s session `sessionId` would validate now (exists, not revoked, not killed, in time).
    function isLive(address account, uint32 sessionId) external view returns (bool) {
        SessionKeySlot key = _keys[sessionId][account];
        SessionStateSlot state = _states[sessionId][account];
        return
            key.signer() != address(0) &&
            !state.isRevoked() &&
            state.epoch() == _accounts[account].epoch() &&
            _isInTimeRange(key);
    }

    /// @notice True if `account`'s session `sessionId` allows calling `target` with `selector` (pseudo-selectors
    /// included), regardless of time and revocation.
    function isInScope(
        address account,
        uint32 sessionId,
        address target,
        bytes4 selector
    ) external view returns (bool) {
        uint64 grantId = _states[sessionId][account].grantId();
        return _scopes[_scopeKey(grantId, target, selector)][account] & _SCOPE_ALLOWED != 0;
    }

    /// @notice Whether `selector` is a standard function that moves or approves value, which a wildcard scope entry
    /// does not allow (it needs an exact entry): ERC-1363 `transferAndCall` / `transferFromAndCall` /
    /// `approveAndCall`, ERC-777 `send` / `operatorSend` / `authorizeOperator` / `burn`, ERC-721 and ERC-1155
    /// `safeTransferFrom` / `safeBatchTransferFrom` / `setApprovalForAll`, ERC-2612 `permit`, Permit2 `approve` /
    /// `transferFrom` / `permit`, the ERC-20 `transfer` / `approve` / `transferFrom` / `increaseAllowance` (also
    /// the ERC-721 `approve` / `transferFrom`), `increaseApproval`, ERC-223 `transfer`, DAI's `push` / `pull` /
    /// `move` / `permit`, ERC-6909 `transfer` / `transferFrom` / `approve` / `setOperator`, the lending delegations
    /// `approveDelegation` / `allow` / `setAuthorization`, the operator approvals `setRelayerApproval` / `hope` /
    /// `setAccountOperator` / `setOperator(bytes19,address,uint256)`, and `multicall` / `batch(bytes[],bool)` (which
    /// would reach any of them).
    function isValueMovingSelector(bytes4 selector) public pure returns (bool) {
        return ValueMovingSelectors.standardSignatureHash(selector) != bytes32(0);
    }

    /// @notice The revocation epoch of `account` (incremented by each kill switch).
    function epochOf(address account) external view returns (uint32) {
        return _accounts[account].epoch();
    }

    /// @notice How many sessions `account` was ever granted (the last grant id).
    function grantCountOf(address account) external view returns (uint64) {
        return _accounts[account].grantCount();
    }

    /// @notice Whether `nonce` was used by an owner-signed grant or revocation of `account`.
    function isNonceUsed(address account, uint256 nonce) external view returns (bool) {
        return _usedNonces[nonce][account];
    }

    /// @notice The EIP-712 digest of a `SessionGrant` in this module's domain.
    function hashSessionGrant(SessionGrant calldata grant) external view returns (bytes32) {
        (grant);
        return _hashTypedDataV4(GRANT_READER.structHash(msg.data[4:]));
    }

    /// @notice The digest a session's agent signs for an ERC-1271 request of `account` about `hash`.
    function sessionMessageHash(address account, uint32 sessionId, bytes32 hash) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(_SESSION_MESSAGE_TYPEHASH, account, sessionId, hash)));
    }

    // ─────────────────────────────────────────── metadata ────────────────────────────────────────────

    /// @inheritdoc IModule
    function moduleId() external pure returns (string memory) {
        return "leash.session-keys.0.1.0";
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IModule).interfaceId ||
            interfaceId == type(IValidationModule).interfaceId ||
            interfaceId == type(IDeferredInstaller).interfaceId;
    }

    // ─────────────────────────────────────────── internals ───────────────────────────────────────────

    function _grantWithSignature(GrantReading memory grant) internal {
        if (SPEND_LIMIT_HOOK == address(0)) revert SessionSpendLimitHookMissing();
        address account = grant.account;
        uint32 currentEpoch = _accounts[account].epoch();
        if (grant.epoch != currentEpoch) revert SessionGrantEpochStale(currentEpoch, grant.epoch);
        _consumeOwnerSignature(account, grant.nonce, _hashTypedDataV4(grant.structHash), grant.ownerSignature);

        // The spend-limit hook is the session's validation hook (with its budgets) and its execution hook (it
        // measures what leaves the account).
        bytes[] memory hooks = new bytes[](2);
        hooks[1] = abi.encodePacked(HookConfigLib.packExecHook(SPEND_LIMIT_HOOK, grant.sessionId, true, true));
        hooks[0] = abi.encodePacked(
            HookConfigLib.packValidationHook(SPEND_LIMIT_HOOK, grant.sessionId),
            grant.spendLimitInstallData
        );
        bytes4[] memory selectors = new bytes4[](2);
        selectors[0] = IModularAccount.execute.selector;
        selectors[1] = IModularAccount.executeBatch.selector;
        IModularAccount(account).installValidation(
            ValidationConfigLib.pack(address(this), grant.sessionId, false, grant.canSignMessages, true),
            selectors,
            grant.sessionInstallData,
            hooks
        );
    }

    function _grant(address account, SessionConfig memory config) internal {
        uint32 sessionId = config.sessionId;
        if (sessionId == DIRECT_CALL_ENTITY_ID) revert SessionIdReserved(sessionId);
        // Never overwrite a session: that would revive a revoked or killed one with a fresh epoch, or (install data
        // naming another live session than the validation being installed) hand its budgets to another grant.
        if (_keys[sessionId][account].signer() != address(0)) revert SessionAlreadyExists(account, sessionId);
        if (config.agent == address(0)) revert SessionAgentZero();
        if (config.validUntil <= config.validAfter)
            revert SessionTimeRangeInvalid(config.validAfter, config.validUntil);
        uint256 entries = config.targets.length;
        if (entries == 0 || entries != config.selectors.length || entries > MAX_SCOPE_ENTRIES) {
            revert SessionScopeInvalid(entries, config.selectors.length);
        }

        AccountSlot accountSlot = _accounts[account];
        uint64 grantId = accountSlot.grantCount() + 1;
        uint32 accountEpoch = accountSlot.epoch();
        _accounts[account] = SessionPacking.packAccount(accountEpoch, grantId);

        uint256[] memory rules = config.argumentRules;
        if (rules.length > MAX_ARGUMENT_RULES) revert SessionArgumentRuleInvalid(rules.length);
        bool askTargets = !_isDeferredGrant(account);
        uint256 nextRule = 0;
        for (uint256 i = 0; i < entries; ++i) {
            address target = config.targets[i];
            bytes4 selector = config.selectors[i];
            _checkTargetGrantable(account, target, askTargets);
            uint256 key = _scopeKey(grantId, target, selector);
            if (_scopes[key][account] != 0) revert SessionScopeEntryDuplicated(target, selector);
            uint256 count = 0;
            uint256 previous = 0;
            while (nextRule < rules.length && rules[nextRule] >> _RULE_ENTRY_SHIFT == i) {
                uint256 rule = rules[nextRule];
                _checkRule(rule, previous, selector);
                // Stored without its entry index (the key says which entry it belongs to).
                _rules[key][count][account] = rule & ((1 << _RULE_ENTRY_SHIFT) - 1);
                previous = rule;
                ++count;
                ++nextRule;
            }
            _scopes[key][account] = _SCOPE_ALLOWED | (count << _RULE_COUNT_SHIFT);
        }
        // Rules left over name entries that do not exist, or were not in ascending entry order.
        if (nextRule != rules.length) revert SessionArgumentRuleInvalid(rules[nextRule]);
        if (rules.length != 0) _checkRulesNotBypassable(config.targets, config.selectors, rules);

        _keys[sessionId][account] = SessionPacking.packKey(config.agent, config.validAfter, config.validUntil);
        _states[sessionId][account] = SessionPacking.packState(
            grantId,
            accountEpoch,
            config.canSignMessages ? SessionPacking.FLAG_CAN_SIGN : 0,
            config.valueCapPerCall
        );
        emit SessionGranted(
            account,
            sessionId,
            config.agent,
            grantId,
            config.validAfter,
            config.validUntil,
            config.valueCapPerCall,
            config.canSignMessages,
            config.targets,
            config.selectors,
            config.argumentRules
        );
    }

    /// @dev A target whose function has argument rules may not also be scoped for a `multicall` / `batch`, which would
    /// reach that function through the contract itself with arguments no rule checks, nor for the wildcard, which
    /// would reach any such batching function that no list names.
    function _checkRulesNotBypassable(
        address[] memory targets,
        bytes4[] memory selectors,
        uint256[] memory rules
    ) internal pure {
        for (uint256 r = 0; r < rules.length; ++r) {
            address ruled = targets[rules[r] >> _RULE_ENTRY_SHIFT];
            for (uint256 j = 0; j < targets.length; ++j) {
                bytes4 selector = selectors[j];
                if (
                    targets[j] == ruled &&
                    (selector == SELECTOR_ANY ||
                        selector == _MULTICALL ||
                        selector == _MULTICALL_DEADLINE ||
                        selector == _MULTICALL_BLOCKHASH ||
                        selector == _BATCH)
                ) revert SessionArgumentRuleBypassable(ruled, selector);
            }
        }
    }

    /// @dev The one definition of the addresses no session may call or sign for: zero, the account, this module, the
    /// spend-limit hook, this module's EntryPoint and the v0.6 EntryPoint. Asked at grant (every scope entry), on every
    /// op's calls ({_checkScope}) and by {validateSignature} (the verifying contract). The other half of the rule, any
    /// address that reports an ERC-6900 module interface or `IStakeManager` through ERC-165 (any module, installed on
    /// this account or not, and any EntryPoint), is {ForbiddenInterfaceLib}'s question to the target itself: asked at
    /// grant (except inside a user op's validation, {installDeferred}, where calling an address without code breaks
    /// ERC-7562), by the spend-limit hook before every op's calls run, and by {validateSignature} (an address may
    /// become a module after the grant).
    /// @param account The account the session belongs to.
    /// @param target The call target or verifying contract.
    /// @return Whether `target` is one of those addresses.
    function _isForbiddenTarget(address account, address target) internal view returns (bool) {
        return
            target == address(0) ||
            target == account ||
            target == address(this) ||
            target == SPEND_LIMIT_HOOK ||
            target == ENTRY_POINT ||
            target == _ENTRY_POINT_V06;
    }

    /// @dev A grant's scope entry may not name a forbidden target ({_isForbiddenTarget}) nor, when `askTarget`, an
    /// address that says it is a module or an EntryPoint ({ForbiddenInterfaceLib}). Not asked inside a user op's
    /// validation ({installDeferred}), where calling an address without code breaks ERC-7562; the spend-limit hook
    /// asks again before every op's calls run.
    function _checkTargetGrantable(address account, address target, bool askTarget) internal view {
        if (_isForbiddenTarget(account, target) || (askTarget && ForbiddenInterfaceLib.isForbidden(target))) {
            revert SessionTargetForbidden(target);
        }
    }

    /// @dev True if `account` reports (ERC-6900 `IModularAccountView`, either layout of its answer) `validation` as
    /// global and allowed to sign. Accounts without the view cannot be granted to by signature.
    function _isGlobalSignatureValidation(address account, ModuleEntity validation) internal view returns (bool) {
        (ValidationViewLib.View state, uint8 flags) = ValidationViewLib.read(account, validation);
        uint8 required = ValidationViewLib.FLAG_GLOBAL | ValidationViewLib.FLAG_SIGNATURE;
        return state == ValidationViewLib.View.Installed && flags & required == required;
    }

    /// @dev Marks (or clears) a deferred grant in progress for `account`, in transient storage.
    function _setDeferredGrant(address account, bool inProgress) internal {
        uint256 base = _DEFERRED_GRANT_SLOT;
        assembly ("memory-safe") {
            mstore(0x00, shr(96, shl(96, account)))
            mstore(0x20, base)
            tstore(keccak256(0x00, 0x40), inProgress)
        }
    }

    /// @dev Whether a deferred grant of `account` is in progress (its install runs inside a user op's validation).
    function _isDeferredGrant(address account) internal view returns (bool inProgress) {
        uint256 base = _DEFERRED_GRANT_SLOT;
        assembly ("memory-safe") {
            mstore(0x00, shr(96, shl(96, account)))
            mstore(0x20, base)
            inProgress := tload(keccak256(0x00, 0x40))
        }
    }

    function _revoke(address account, uint32 sessionId) internal {
        SessionStateSlot state = _states[sessionId][account];
        if (_keys[sessionId][account].signer() == address(0)) revert SessionNotFound(account, sessionId);
        _states[sessionId][account] = state.withRevoked();
        emit SessionRevoked(account, sessionId, state.grantId());
    }

    function _revokeAll(address account) internal {
        AccountSlot accountSlot = _accounts[account];
        uint32 newEpoch = accountSlot.epoch() + 1;
        _accounts[account] = SessionPacking.packAccount(newEpoch, accountSlot.grantCount());
        emit AllSessionsRevoked(account, newEpoch);
    }

    function _consumeOwnerSignature(
        address account,
        uint256 nonce,
        bytes32 digest,
        bytes memory ownerSignature
    ) internal {
        if (_usedNonces[nonce][account]) revert SessionNonceUsed(account, nonce);
        // Only the owner may grant or revoke: the signature must come from a validation that can already do anything
        // on the account, so trusting it adds no authority, and never from a session of this module. That is a
        // validation the account's ERC-6900 view reports global and signature-capable (either layout of its answer),
        // or the account's built-in validation (module address 0: no module, so no scoped key a module could hold;
        // an account without one refuses it in isValidSignature). The first 24 bytes of the account's ERC-1271
        // signature name that validation.
        if (ownerSignature.length < _MODULE_ENTITY_LENGTH) revert SessionOwnerSignatureInvalid(account);
        bytes24 signingValidation;
        assembly ("memory-safe") {
            // A bytes24 is left-aligned: keep the first 24 bytes, clear the 8 that follow them in the word.
            signingValidation := shl(64, shr(64, mload(add(ownerSignature, 0x20))))
        }
        address signingModule = address(bytes20(signingValidation));
        if (
            signingModule == address(this) ||
            (signingModule != address(0) &&
                !_isGlobalSignatureValidation(account, ModuleEntity.wrap(signingValidation)))
        ) revert SessionOwnerSignatureInvalid(account);
        _usedNonces[nonce][account] = true;
        emit NonceUsed(account, nonce);
        if (IERC1271(account).isValidSignature(digest, ownerSignature) != _ERC1271_MAGIC) {
            revert SessionOwnerSignatureInvalid(account);
        }
    }

    /// @dev Loads a session and refuses it unless it exists, is not revoked and was granted in the current epoch.
    function _liveSession(
        address account,
        uint32 sessionId
    ) internal view returns (SessionKeySlot key, SessionStateSlot state) {
        key = _keys[sessionId][account];
        if (key.signer() == address(0)) revert SessionNotFound(account, sessionId);
        state = _states[sessionId][account];
        if (state.isRevoked()) revert SessionRevokedError(account, sessionId);
        if (state.epoch() != _accounts[account].epoch()) revert SessionKilled(account, sessionId);
    }

    /// @dev Every call must be in scope and within the per-call value cap; the account and the modules never are.
    function _checkScope(address account, SessionStateSlot state, Call[] memory calls) internal view {
        uint64 grantId = state.grantId();
        uint256 cap = state.valueCapPerCall();
        for (uint256 i = 0; i < calls.length; ++i) {
            Call memory call = calls[i];
            address target = call.target;
            bytes memory data = call.data;
            bytes4 selector = data.length >= 4 ? bytes4(data) : SELECTOR_NO_CALLDATA;
            // Checked on every op too. Whether the target is a module (it may have become one since the grant) is
            // asked by the spend-limit hook before the calls run: validation may not call an address without code.
            if (_isForbiddenTarget(account, target)) revert SessionCallOutOfScope(target, selector);
            if (call.value > cap) revert SessionValueOverCap(target, call.value, cap);
            if (!_isAllowed(account, grantId, target, data, selector)) {
                revert SessionCallOutOfScope(target, selector);
            }
        }
    }

    /// @dev An exact entry allows its selector if the call's arguments keep the entry's rules (the reserved
    /// pseudo-selectors only stand for themselves: empty calldata for 0x00000000, signing for 0xfffffffe); without an
    /// exact entry, the wildcard entry allows anything but the standard value-moving functions (THREATS 26). An exact
    /// entry whose rules fail is final: the wildcard never overrides the owner's rules.
    function _isAllowed(
        address account,
        uint64 grantId,
        address target,
        bytes memory data,
        bytes4 selector
    ) internal view returns (bool) {
        if (data.length == 0) {
            if (_scopes[_scopeKey(grantId, target, SELECTOR_NO_CALLDATA)][account] & _SCOPE_ALLOWED != 0) return true;
        } else if (data.length >= _SELECTOR_LENGTH && !_isPseudoSelector(selector)) {
            uint256 key = _scopeKey(grantId, target, selector);
            uint256 entry = _scopes[key][account];
            if (entry & _SCOPE_ALLOWED != 0) {
                _checkArguments(account, key, entry >> _RULE_COUNT_SHIFT, target, selector, data);
                return true;
            }
            if (isValueMovingSelector(selector)) return false;
        }
        return _scopes[_scopeKey(grantId, target, SELECTOR_ANY)][account] & _SCOPE_ALLOWED != 0;
    }

    /// @dev Reverts unless `data`'s static argument words keep the `count` rules of the entry `key`: for each argument,
    /// its EQ rules (one of them must match), then its LE and GE rules (all must hold). Words are compared whole, so
    /// dirty high bits never match an address or a bound.
    function _checkArguments(
        address account,
        uint256 key,
        uint256 count,
        address target,
        bytes4 selector,
        bytes memory data
    ) internal view {
        uint256 i = 0;
        while (i < count) {
            uint256 rule = _rules[key][i][account];
            uint256 argument = (rule >> _RULE_ARG_SHIFT) & 0xff;
            uint256 op = (rule >> _RULE_OP_SHIFT) & 0xff;
            uint256 end = _SELECTOR_LENGTH + 32 * (argument + 1);
            if (data.length < end) revert SessionArgumentRuleViolated(target, selector, argument);
            uint256 word;
            assembly ("memory-safe") {
                // `data + end` is the argument's word: memory holds the length word first, then the calldata.
                word := mload(add(data, end))
            }
            bool holds;
            if (op == RULE_EQ) {
                // The argument's EQ rules are consecutive (rules ascend by argument, then op): one must match.
                holds = word == rule & _RULE_VALUE_MASK;
                for (++i; i < count; ++i) {
                    uint256 next = _rules[key][i][account];
                    if (next >> _RULE_OP_SHIFT != rule >> _RULE_OP_SHIFT) break;
                    if (word == next & _RULE_VALUE_MASK) holds = true;
                }
            } else {
                holds = op == RULE_LE ? word <= rule & _RULE_VALUE_MASK : word >= rule & _RULE_VALUE_MASK;
                ++i;
            }
            if (!holds) revert SessionArgumentRuleViolated(target, selector, argument);
        }
    }

    /// @dev Refuses a malformed rule for an entry with `selector`, or one not strictly after `previous` (the rule
    /// before it on the same entry, 0 for the first).
    function _checkRule(uint256 rule, uint256 previous, bytes4 selector) internal pure {
        uint256 op = (rule >> _RULE_OP_SHIFT) & 0xff;
        if (
            _isPseudoSelector(selector) ||
            op == 0 ||
            op > RULE_GE ||
            (rule >> _RULE_ARG_SHIFT) & 0xff == 0xff ||
            (previous != 0 && rule <= previous)
        ) revert SessionArgumentRuleInvalid(rule);
    }

    function _isPseudoSelector(bytes4 selector) internal pure returns (bool) {
        return selector == SELECTOR_NO_CALLDATA || selector == SELECTOR_ANY || selector == SELECTOR_SIGN;
    }

    /// @dev The typed data a session signature claims: its domain's verifying contract, the EIP-712 digest its
    /// domain and struct hash give, and the agent's signature. A domain without a verifying contract, or a signature
    /// that does not decode, gives a zero verifying contract and digest (never allowed, never a digest).
    function _decodeTypedDataSignature(
        bytes calldata signature
    ) internal pure returns (address verifyingContract, bytes32 digest, bytes memory agentSignature) {
        // 7 head words, the offset of the agent's signature and its length. Anything the ABI decoder would revert
        // on (a dirty uint8 or address, an offset or length out of bounds) is refused here instead, so that a
        // malformed signature is answered as invalid rather than with a revert.
        if (signature.length < 9 * 32) return (address(0), bytes32(0), "");
        uint256 agentSignatureLength = uint256(bytes32(signature[256:288]));
        if (
            uint256(bytes32(signature[0:32])) > type(uint8).max ||
            uint256(bytes32(signature[128:160])) > type(uint160).max ||
            uint256(bytes32(signature[224:256])) != 256 ||
            agentSignatureLength > signature.length - 288
        ) return (address(0), bytes32(0), "");
        uint8 fields;
        bytes32 nameHash;
        bytes32 versionHash;
        uint256 chainId;
        bytes32 salt;
        bytes32 structHash;
        (fields, nameHash, versionHash, chainId, verifyingContract, salt, structHash, agentSignature) = abi.decode(
            signature,
            (uint8, bytes32, bytes32, uint256, address, bytes32, bytes32, bytes)
        );
        if (fields & _DOMAIN_VERIFYING_CONTRACT == 0 || fields >= 2 * _DOMAIN_SALT) {
            return (address(0), bytes32(0), "");
        }
        bytes memory encodedDomain = abi.encode(_domainTypeHash(fields));
        if (fields & _DOMAIN_NAME != 0) encodedDomain = bytes.concat(encodedDomain, nameHash);
        if (fields & _DOMAIN_VERSION != 0) encodedDomain = bytes.concat(encodedDomain, versionHash);
        if (fields & _DOMAIN_CHAIN_ID != 0) encodedDomain = bytes.concat(encodedDomain, bytes32(chainId));
        encodedDomain = bytes.concat(encodedDomain, bytes32(uint256(uint160(verifyingContract))));
        if (fields & _DOMAIN_SALT != 0) encodedDomain = bytes.concat(encodedDomain, salt);
        digest = MessageHashUtils.toTypedDataHash(keccak256(encodedDomain), structHash);
    }

    /// @dev keccak256 of `EIP712Domain(...)` with the fields `fields` names, in EIP-712's order.
    function _domainTypeHash(uint8 fields) internal pure returns (bytes32) {
        bytes memory fieldList;
        if (fields & _DOMAIN_NAME != 0) fieldList = "string name";
        if (fields & _DOMAIN_VERSION != 0) fieldList = _appendField(fieldList, "string version");
        if (fields & _DOMAIN_CHAIN_ID != 0) fieldList = _appendField(fieldList, "uint256 chainId");
        fieldList = _appendField(fieldList, "address verifyingContract");
        if (fields & _DOMAIN_SALT != 0) fieldList = _appendField(fieldList, "bytes32 salt");
        return keccak256(bytes.concat("EIP712Domain(", fieldList, ")"));
    }

    function _appendField(bytes memory list, bytes memory field) internal pure returns (bytes memory) {
        return list.length == 0 ? field : bytes.concat(list, ",", field);
    }

    function _checkTime(SessionKeySlot key) internal view {
        if (!_isInTimeRange(key)) revert SessionOutOfTimeRange(key.validAfter(), key.validUntil(), block.timestamp);
    }

    /// @dev The EntryPoint's rule: valid iff validAfter < now <= validUntil.
    function _isInTimeRange(SessionKeySlot key) internal view returns (bool) {
        // solhint-disable-next-line not-rely-on-time
        return block.timestamp > key.validAfter() && block.timestamp <= key.validUntil();
    }

    function _scopeKey(uint64 grantId, address target, bytes4 selector) internal pure returns (uint256) {
        return
            (uint256(grantId) << _GRANT_ID_SHIFT) |
            (uint256(uint160(target)) << _TARGET_SHIFT) |
            uint256(uint32(selector));
    }
}
