// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccount} from "@account-abstraction/contracts/interfaces/IAccount.sol";
import {IAccountExecute} from "@account-abstraction/contracts/interfaces/IAccountExecute.sol";
import {IEntryPoint} from "@account-abstraction/contracts/interfaces/IEntryPoint.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {SlotDerivation} from "@openzeppelin/contracts/utils/SlotDerivation.sol";
import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IExecutionHookModule} from "../interfaces/erc6900/IExecutionHookModule.sol";
import {ExecutionManifest} from "../interfaces/erc6900/IExecutionModule.sol";
import {
    Call,
    HookConfig,
    IModularAccount,
    ModuleEntity,
    ValidationConfig,
    ValidationFlags
} from "../interfaces/erc6900/IModularAccount.sol";
import {IModularAccountView} from "../interfaces/erc6900/IModularAccountView.sol";
import {IDeferredInstaller} from "../interfaces/IDeferredInstaller.sol";
import {IValidationHookModule} from "../interfaces/erc6900/IValidationHookModule.sol";
import {IValidationModule} from "../interfaces/erc6900/IValidationModule.sol";
import {HookConfigLib} from "../libraries/HookConfigLib.sol";
import {HookDataLib} from "../libraries/HookDataLib.sol";
import {KnownSelectorsLib} from "../libraries/KnownSelectorsLib.sol";
import {ModuleEntityLib} from "../libraries/ModuleEntityLib.sol";
import {UserOpCalldataLib} from "../libraries/UserOpCalldataLib.sol";
import {ValidationConfigLib} from "../libraries/ValidationConfigLib.sol";
import {ValidationDataLib} from "../libraries/ValidationDataLib.sol";
import {
    ERC7739_DETECTION_HASH,
    ERC7739_SUPPORTED,
    OWNER_DOMAIN_NAME,
    OWNER_DOMAIN_VERSION
} from "../modules/OwnerValidationModule.sol";
import {AccountStorage, ExecutionStorage, ValidationStorage, getAccountStorage} from "./AccountStorage.sol";
import {ModularAccountView} from "./ModularAccountView.sol";

/// @title ModularAccount
/// @notice Leash's ERC-6900 v0.8 modular account for ERC-4337 (EntryPoint v0.8), behind an ERC-1967 (UUPS) proxy.
/// It exists to host the Leash modules with full fidelity to the standard; it is kept lean on purpose.
/// - Validation selection follows the reference account: `userOp.signature` and runtime `authorization` are
///   `ModuleEntity (24 bytes) ‖ isGlobal (1 byte: 0 or 1) ‖ hook data segments ‖ 0xFF ‖ validation data`
///   (see {HookDataLib}); ERC-1271 signatures are the same without the isGlobal byte.
/// - A validation that has execution hooks may only be used by user operations through `executeUserOp`, so that its
///   entity-associated execution hooks always run.
/// - Calls by the account to itself through `execute` / `executeBatch` are checked against the validation's
///   applicability for the inner selector; nested `execute*` self-calls are refused.
/// - No module can freeze the account (the owner always keeps control):
///   - no execution hook sits on the account's own functions: a manifest that hooks a native (or reserved) selector
///     is refused, and the account never runs selector hooks around its native functions;
///   - a validation that controls the account (global, or listing `installExecution`, `uninstallExecution`,
///     `installValidation`, `uninstallValidation` or `upgradeToAndCall`) carries no hooks, so nothing but its own
///     module runs when the owner installs, uninstalls, upgrades or moves funds;
///   - uninstalling always succeeds for the account: reverts of a module's `onUninstall` are caught and reported in
///     the event.
///   A module's hooks still run around the module's own execution functions and on the validations (sessions) the
///   owner attached them to; a hook that reverts there blocks only those.
/// - A user op whose validation was uninstalled (or uninstalled and installed again) after it was validated, e.g. by
///   an earlier op of the same bundle, reverts in `executeUserOp`: it never runs without the execution hooks it was
///   validated with.
/// - Upgrades go through `upgradeToAndCall`, which needs a validation that applies to it (the owner's global one).
/// - ERC-1271 answers the ERC-7739 detection request, and `eip712Domain` (ERC-5267) gives the domain the owner
///   module's nested ERC-7739 signatures bind to.
/// Layout, along the reference implementation's seams: this contract holds the validation and execution flow;
/// {ModuleManagerInternals} the install / uninstall bookkeeping of modules, hooks and selectors; {ModularAccountView}
/// the views; {KnownSelectorsLib} the selector rules; {ValidationDataLib} how validation data is combined.
/// @dev Invariant: every state-changing native function runs only for the EntryPoint, the account itself, or a caller
/// holding an applicable direct-call validation (entity id 0xffffffff); `executeWithRuntimeValidation` runs the
/// selected runtime validation first.
/// Invariant: no execution hook runs around a native function, and no hook runs for a validation that controls the
/// account.
contract ModularAccount is
    IAccount,
    IAccountExecute,
    IERC1271,
    IERC5267,
    IERC165,
    Initializable,
    UUPSUpgradeable,
    ModularAccountView
{
    using EnumerableSet for EnumerableSet.Bytes32Set;
    using HookConfigLib for HookConfig;
    using HookDataLib for bytes;
    using TransientSlot for TransientSlot.Uint256Slot;
    using ModuleEntityLib for ModuleEntity;
    using ValidationConfigLib for ValidationConfig;
    using ValidationConfigLib for ValidationFlags;

    // ─────────────────────────────────────────── constants ───────────────────────────────────────────

    /// @notice The entity id that marks a direct-call validation (ERC-6900 "Direct Call Validation").
    uint32 public constant DIRECT_CALL_VALIDATION_ENTITY_ID = type(uint32).max;
    /// @dev Length of the validation selection prefix: ModuleEntity (24) + isGlobal (1).
    uint256 internal constant _SELECTION_LENGTH = 25;
    /// @dev Length of a ModuleEntity.
    uint256 internal constant _MODULE_ENTITY_LENGTH = 24;
    /// @dev Selection flag bit (user ops only): a deferred install precedes the hook data (see {validateUserOp}).
    uint8 internal constant _DEFERRED_INSTALL_FLAG = 2;
    /// @dev Selection flag bit: use the validation's global flag rather than its selector list.
    uint8 internal constant _GLOBAL_FLAG = 1;
    /// @dev Byte length of the deferred install's length prefix.
    uint256 internal constant _DEFERRED_LENGTH_BYTES = 4;
    /// @dev Size of one ABI word: the validation data a user-op validation or hook returns.
    uint256 internal constant _WORD_SIZE = 32;

    /// @dev ERC-5267 fields of {eip712Domain}: name, version, chainId and verifyingContract (bits 0-3), no salt.
    bytes1 internal constant _EIP712_DOMAIN_FIELDS = 0x0f;
    /// @dev Transient-storage namespace of the validated ops (see {_validatedOpSlot}):
    /// keccak256(abi.encode(uint256(keccak256("leash.transient.ModularAccount.validatedOps")) - 1)) & ~bytes32(0xff)
    bytes32 internal constant _VALIDATED_OPS_NAMESPACE =
        0xa74229c5db4a228512c7a89f1e2e2266e48ec1f64cbc67ba252f10fc61337800;

    /// @notice The ERC-4337 EntryPoint this account trusts.
    IEntryPoint private immutable _ENTRY_POINT;

    // ──────────────────────────────────────────── types ──────────────────────────────────────────────

    /// @dev One validation for {initialize}, with the arguments of {installValidation}.
    struct ValidationInstall {
        ValidationConfig validationConfig;
        bytes4[] selectors;
        bytes installData;
        bytes[] hooks;
    }

    /// @dev A post execution hook to run, with what its pre hook returned.
    struct PostExecToRun {
        HookConfig hook;
        bytes preExecHookReturnData;
    }

    // ─────────────────────────────────────────── errors ──────────────────────────────────────────────

    /// @notice A function only the EntryPoint may call was called by `caller`.
    error AccountNotFromEntryPoint(address caller);
    /// @notice `caller` holds no direct-call validation that applies to `selector`.
    error AccountUnauthorizedCaller(address caller, bytes4 selector);
    /// @notice The validation selection prefix of a signature / authorization is malformed.
    error AccountValidationSelectionMalformed();
    /// @notice `validation` does not apply to `selector` (neither listed nor global where global is allowed).
    error AccountValidationNotApplicable(ModuleEntity validation, bytes4 selector);
    /// @notice `validation` is not installed for user operations.
    error AccountUserOpValidationNotAllowed(ModuleEntity validation);
    /// @notice `validation` is not installed for ERC-1271 signatures.
    error AccountSignatureValidationNotAllowed(ModuleEntity validation);
    /// @notice `validation` has execution hooks, so its user operations must call `executeUserOp`.
    error AccountRequiresExecuteUserOp(ModuleEntity validation);
    /// @notice Calldata too short to hold a selector.
    error AccountCalldataTooShort();
    /// @notice `installer` holds no direct-call validation for `installValidation`, so it cannot install in a user op.
    error AccountDeferredInstallerNotAllowed(address installer);
    /// @notice No native or installed function has `selector`.
    error AccountUnrecognizedFunction(bytes4 selector);
    /// @notice A validation or validation hook returned less than one word of validation data.
    error AccountValidationDataMissing(address module);
    /// @notice The op was validated by `validation`, which was uninstalled (or uninstalled and installed again)
    /// before the op executed, e.g. by an earlier op of the same bundle: it would run without the execution hooks
    /// it was validated with.
    error AccountValidationChangedSinceValidation(ModuleEntity validation);

    // ────────────────────────────────────────── modifiers ────────────────────────────────────────────

    modifier onlyEntryPoint() {
        if (msg.sender != address(_ENTRY_POINT)) revert AccountNotFromEntryPoint(msg.sender);
        _;
    }

    /// @dev Access control of every state-changing native function (ERC-6900 "Execution Call Flow"): direct-call
    /// validation for callers other than the EntryPoint and the account, with its hooks. Native functions have no
    /// selector-associated hooks (refused at install, so no module can hook what the owner needs to keep control).
    modifier nativeFunction() {
        PostExecToRun[] memory postHooks = _checkCallerAndRunPreHooks(false, new bytes32[](0));
        _;
        _runPostHooks(postHooks);
    }

    // ──────────────────────────────────────── construction ───────────────────────────────────────────

    /// @param entryPoint_ The EntryPoint (v0.8) the account trusts.
    constructor(IEntryPoint entryPoint_) {
        _ENTRY_POINT = entryPoint_;
        _disableInitializers();
    }

    /// @notice Initializes a new account behind its proxy with its first validations.
    /// @dev Called once, by the factory, in the proxy's constructor. Each item is installed as by
    /// {installValidation}; the first is typically the owner's global validation.
    /// @param validations The validations to install, in order.
    function initialize(ValidationInstall[] calldata validations) external initializer {
        for (uint256 i = 0; i < validations.length; ++i) {
            ValidationInstall calldata item = validations[i];
            _installValidation(item.validationConfig, item.selectors, item.installData, item.hooks);
        }
    }

    /// @notice Accepts native currency.
    receive() external payable {}

    /// @notice Routes calls to execution functions installed by execution modules.
    /// @dev Runs direct-call validation (unless the function skips runtime validation) and the execution hooks.
    /// @return The module's return data, unchanged.
    fallback(bytes calldata) external payable returns (bytes memory) {
        ExecutionStorage storage execution = getAccountStorage().executionStorage[msg.sig];
        address module = execution.module;
        if (module == address(0)) revert AccountUnrecognizedFunction(msg.sig);
        PostExecToRun[] memory postHooks = _checkCallerAndRunPreHooks(
            execution.skipRuntimeValidation,
            execution.executionHooks.values()
        );
        bytes memory result = _call(module, msg.value, msg.data);
        _runPostHooks(postHooks);
        return result;
    }

    // ─────────────────────────────────────────── ERC-4337 ────────────────────────────────────────────

    /// @notice The EntryPoint this account trusts.
    function entryPoint() external view returns (IEntryPoint) {
        return _ENTRY_POINT;
    }

    /// @inheritdoc IAccount
    /// @dev `userOp.signature` = `ModuleEntity ‖ flags ‖ [deferred install] ‖ hook data segments ‖ 0xFF ‖
    /// validation signature`. `flags` bit 0 selects the global flag (1) or the selector list (0); bit 1 announces a
    /// deferred install: `length (4 bytes) ‖ abi.encode(address installer, bytes data)`. The account then calls
    /// `installer.installDeferred(data)` before validating, which lets an owner-signed grant install the op's own
    /// validation in the same op. Only an installer the owner trusted (a direct-call validation for
    /// `installValidation`) is called, and only that function, which must verify its own authority.
    /// The validation data returned is the intersection of the time bounds of the validation hooks and the
    /// validation function; the authorizer is 1 if any of them reported a signature failure.
    function validateUserOp(
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        uint256 missingAccountFunds
    ) external onlyEntryPoint returns (uint256 validationData) {
        validationData = _validateUserOp(userOp, userOpHash);
        if (missingAccountFunds != 0) {
            // The EntryPoint checks the deposit itself; a failed transfer makes it refuse the op.
            LowLevelCall.callNoReturn(msg.sender, missingAccountFunds, "");
        }
    }

    /// @inheritdoc IAccountExecute
    /// @dev Runs the execution hooks associated with the validation the op was validated with (they receive the
    /// whole `msg.data`), then calls the account with `userOp.callData` without its first four bytes.
    /// Reverts with {AccountValidationChangedSinceValidation} if that validation is no longer the installation that
    /// validated the op (uninstalled, or uninstalled and installed again, since {validateUserOp}): its execution
    /// hooks, e.g. a spend limit measuring what leaves the account, would otherwise not run or not be the same.
    /// An execution simulated without its validation (a bundler's callGasLimit estimate) is checked for the install
    /// only.
    function executeUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) external onlyEntryPoint {
        ModuleEntity validation = ModuleEntity.wrap(bytes24(userOp.signature[:_MODULE_ENTITY_LENGTH]));
        ValidationStorage storage validationData = getAccountStorage().validationStorage[validation];
        // The EntryPoint always validates an op earlier in the same transaction, which recorded its install. No
        // record means an execution simulated on its own (a bundler estimating callGasLimit): checked for the
        // install only.
        uint256 validatedInstall = _validatedInstall(userOpHash);
        if (!validationData.isInstalled || (validatedInstall != 0 && validatedInstall != _installTag(validationData))) {
            revert AccountValidationChangedSinceValidation(validation);
        }
        bytes32[] memory entityHooks = _entityExecutionHooks(validationData);
        PostExecToRun[] memory postHooks = _runPreHooks(entityHooks, new bytes32[](0), msg.data);
        _executeInner(userOp.callData[4:]);
        _runPostHooks(postHooks);
    }

    // ─────────────────────────────────────────── execution ───────────────────────────────────────────

    /// @inheritdoc IModularAccount
    function execute(
        address target,
        uint256 value,
        bytes calldata data
    ) external payable nativeFunction returns (bytes memory) {
        return _call(target, value, data);
    }

    /// @inheritdoc IModularAccount
    function executeBatch(Call[] calldata calls) external payable nativeFunction returns (bytes[] memory results) {
        uint256 count = calls.length;
        results = new bytes[](count);
        for (uint256 i = 0; i < count; ++i) {
            results[i] = _call(calls[i].target, calls[i].value, calls[i].data);
        }
    }

    /// @inheritdoc IModularAccount
    /// @dev `authorization` = `ModuleEntity ‖ isGlobal ‖ hook data segments ‖ 0xFF ‖ validation data`.
    function executeWithRuntimeValidation(
        bytes calldata data,
        bytes calldata authorization
    ) external payable returns (bytes memory result) {
        (ModuleEntity validation, bool isGlobal) = _parseSelection(authorization);
        ValidationStorage storage validationData = getAccountStorage().validationStorage[validation];
        _checkValidationApplies(validation, validationData, data, isGlobal);

        bytes calldata segments = authorization[_SELECTION_LENGTH:];
        bytes calldata rest = _runPreRuntimeValidationHooks(validationData, data, segments, true);
        (address module, uint32 entityId) = validation.unpack();
        IValidationModule(module).validateRuntime(
            address(this),
            entityId,
            msg.sender,
            msg.value,
            data,
            rest.takeValidationData()
        );

        PostExecToRun[] memory postHooks = _runPreHooks(_entityExecutionHooks(validationData), new bytes32[](0), data);
        result = _call(address(this), msg.value, data);
        _runPostHooks(postHooks);
    }

    // ─────────────────────────────────────── module management ───────────────────────────────────────

    /// @inheritdoc IModularAccount
    /// @dev `installData` is passed to the module's `onInstall` if non-empty. Reverts, installing nothing, if the
    /// manifest claims a native or reserved selector as an execution function ({AccountExecutionSelectorConflict})
    /// or puts an execution hook on one ({AccountExecutionHookOnNativeFunction}).
    function installExecution(
        address module,
        ExecutionManifest calldata manifest,
        bytes calldata installData
    ) external nativeFunction {
        _installExecution(module, manifest, installData);
    }

    /// @inheritdoc IModularAccount
    /// @dev `uninstallData` is passed to the module's `onUninstall` if non-empty; its revert is caught.
    function uninstallExecution(
        address module,
        ExecutionManifest calldata manifest,
        bytes calldata uninstallData
    ) external nativeFunction {
        _uninstallExecution(module, manifest, uninstallData);
    }

    /// @inheritdoc IModularAccount
    /// @dev Encoding: `installData` goes to the validation module's `onInstall` if non-empty; each `hooks` item is
    /// `HookConfig (25 bytes) ‖ onInstall data` (the hook module's `onInstall` is called if the data is non-empty).
    /// Validation hooks run in the order given; execution hooks are those of the entity. A validation that controls
    /// the account (global, or listing a module-management or upgrade function) must come without hooks
    /// ({AccountControlValidationHooked}).
    function installValidation(
        ValidationConfig validationConfig,
        bytes4[] calldata selectors,
        bytes calldata installData,
        bytes[] calldata hooks
    ) external nativeFunction {
        _installValidation(validationConfig, selectors, installData, hooks);
    }

    /// @inheritdoc IModularAccount
    /// @dev `hookUninstallData` is empty or has one item per hook: validation hooks in order, then execution hooks
    /// in the order {getValidationData} lists them; a hook's `onUninstall` is called only with non-empty data. The
    /// validation module's `onUninstall` is always called, with `uninstallData` even if empty. Reverts of
    /// `onUninstall` are caught, so removal always happens.
    function uninstallValidation(
        ModuleEntity validationFunction,
        bytes calldata uninstallData,
        bytes[] calldata hookUninstallData
    ) external nativeFunction {
        _uninstallValidation(validationFunction, uninstallData, hookUninstallData);
    }

    /// @inheritdoc UUPSUpgradeable
    /// @dev Needs a validation that applies to this selector: by default only the owner's global validation.
    function upgradeToAndCall(
        address newImplementation,
        bytes memory data
    ) public payable override onlyProxy nativeFunction {
        super.upgradeToAndCall(newImplementation, data);
    }

    // ─────────────────────────────────────────── ERC-1271 ────────────────────────────────────────────

    /// @inheritdoc IERC1271
    /// @dev `signature` = `ModuleEntity ‖ hook data segments ‖ 0xFF ‖ validation signature` (no isGlobal byte).
    /// Reverts if the validation is not installed for signatures, or if a hook or the module reverts.
    /// The ERC-7739 detection request (hash `0x7739…7739`, empty signature) answers `0x77390001`: an empty signature
    /// cannot select a validation, and the owner's validation (OwnerValidationModule) verifies ERC-7739 signatures
    /// in the domain {eip712Domain} gives.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length == 0 && hash == ERC7739_DETECTION_HASH) return ERC7739_SUPPORTED;
        if (signature.length < _MODULE_ENTITY_LENGTH) revert AccountValidationSelectionMalformed();
        ModuleEntity validation = ModuleEntity.wrap(bytes24(signature[:_MODULE_ENTITY_LENGTH]));
        ValidationStorage storage validationData = getAccountStorage().validationStorage[validation];
        if (!validationData.isInstalled || !validationData.flags.isSignatureValidation()) {
            revert AccountSignatureValidationNotAllowed(validation);
        }
        bytes calldata rest = signature[_MODULE_ENTITY_LENGTH:];
        HookConfig[] memory validationHooks = _validationHooks(validationData);
        for (uint256 i = 0; i < validationHooks.length; ++i) {
            bytes calldata hookData;
            (hookData, rest) = rest.takeHookData(i);
            IValidationHookModule(validationHooks[i].module()).preSignatureValidationHook(
                validationHooks[i].entityId(),
                msg.sender,
                hash,
                hookData
            );
        }
        (address module, uint32 entityId) = validation.unpack();
        return
            IValidationModule(module).validateSignature(
                address(this),
                entityId,
                msg.sender,
                hash,
                rest.takeValidationData()
            );
    }

    // ───────────────────────────────────────────── views ─────────────────────────────────────────────

    /// @inheritdoc IERC5267
    /// @dev The account-bound domain the owner module's ERC-7739 signatures nest in (`TypedDataSign` and
    /// `PersonalSign`): `{ name: "Leash Owner", version: "1", chainId, verifyingContract: this account }`, no salt
    /// (the `salt` field of `TypedDataSign` is then zero). It never changes, so `EIP712DomainChanged` is never emitted.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (
            _EIP712_DOMAIN_FIELDS,
            OWNER_DOMAIN_NAME,
            OWNER_DOMAIN_VERSION,
            block.chainid,
            address(this),
            bytes32(0),
            new uint256[](0)
        );
    }

    /// @inheritdoc IModularAccount
    function accountId() external pure returns (string memory) {
        return "leash.modular-account.0.1.0";
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external view returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IModularAccount).interfaceId ||
            interfaceId == type(IModularAccountView).interfaceId ||
            interfaceId == type(IAccount).interfaceId ||
            interfaceId == type(IAccountExecute).interfaceId ||
            interfaceId == type(IERC1271).interfaceId ||
            getAccountStorage().supportedInterfaces[interfaceId] != 0;
    }

    // ─────────────────────────────────────────── internals ───────────────────────────────────────────

    function _validateUserOp(PackedUserOperation calldata userOp, bytes32 userOpHash) internal returns (uint256) {
        bytes calldata signature = userOp.signature;
        if (signature.length < _SELECTION_LENGTH) revert AccountValidationSelectionMalformed();
        ModuleEntity validation = ModuleEntity.wrap(bytes24(signature[:_MODULE_ENTITY_LENGTH]));
        uint8 selectionFlags = uint8(signature[_MODULE_ENTITY_LENGTH]);
        if (selectionFlags > (_GLOBAL_FLAG | _DEFERRED_INSTALL_FLAG)) revert AccountValidationSelectionMalformed();
        bool isGlobal = selectionFlags & _GLOBAL_FLAG != 0;
        bytes calldata rest = signature[_SELECTION_LENGTH:];
        if (selectionFlags & _DEFERRED_INSTALL_FLAG != 0) rest = _runDeferredInstall(rest);
        ValidationStorage storage validationData = getAccountStorage().validationStorage[validation];

        bytes calldata callData = userOp.callData;
        if (_selectorOf(callData) == IAccountExecute.executeUserOp.selector) {
            callData = callData[4:];
            // executeUserOp checks that the op still runs under this install of its validation.
            _recordValidatedInstall(userOpHash, _installTag(validationData));
        } else if (validationData.executionHookCount != 0) {
            revert AccountRequiresExecuteUserOp(validation);
        }
        _checkValidationApplies(validation, validationData, callData, isGlobal);
        if (!validationData.flags.isUserOpValidation()) revert AccountUserOpValidationNotAllowed(validation);

        // Each hook and the validation see the op with its own slice of the signature (calldata built straight
        // from ours: UserOpCalldataLib).
        uint256 result;
        (result, rest) = _runUserOpValidationHooks(validationData, userOp, userOpHash, rest);
        (address module, uint32 entityId) = validation.unpack();
        uint256 validationResult = _callForValidationData(
            module,
            UserOpCalldataLib.encodeCall(
                IValidationModule.validateUserOp.selector,
                entityId,
                userOp,
                rest.takeValidationData(),
                userOpHash
            )
        );
        return ValidationDataLib.intersect(result, validationResult, module, entityId);
    }

    /// @dev Runs the validation's user-op hooks, each with its segment taken off the front of `segments`; returns
    /// their validation data intersected, and the segments left (the validation's own).
    function _runUserOpValidationHooks(
        ValidationStorage storage validationData,
        PackedUserOperation calldata userOp,
        bytes32 userOpHash,
        bytes calldata segments
    ) internal returns (uint256 result, bytes calldata rest) {
        rest = segments;
        HookConfig[] memory validationHooks = _validationHooks(validationData);
        for (uint256 i = 0; i < validationHooks.length; ++i) {
            bytes calldata hookData;
            (hookData, rest) = rest.takeHookData(i);
            (address hookModule, uint32 hookEntityId) = validationHooks[i].moduleEntity().unpack();
            uint256 hookResult = _callForValidationData(
                hookModule,
                UserOpCalldataLib.encodeCall(
                    IValidationHookModule.preUserOpValidationHook.selector,
                    hookEntityId,
                    userOp,
                    hookData,
                    userOpHash
                )
            );
            result = ValidationDataLib.intersect(result, hookResult, hookModule, hookEntityId);
        }
    }

    /// @dev Calls a validation or validation hook's user-op function and returns its validation data; bubbles its
    /// revert, and refuses an answer shorter than one word (as a Solidity interface call would).
    function _callForValidationData(address module, bytes memory data) internal returns (uint256) {
        (bool success, bytes32 validationData, ) = LowLevelCall.callReturn64Bytes(module, data);
        if (!success) LowLevelCall.bubbleRevert();
        if (LowLevelCall.returnDataSize() < _WORD_SIZE) revert AccountValidationDataMissing(module);
        return uint256(validationData);
    }

    /// @dev Runs the deferred install at the front of `data`; returns the bytes after it.
    function _runDeferredInstall(bytes calldata data) internal returns (bytes calldata rest) {
        if (data.length < _DEFERRED_LENGTH_BYTES) revert AccountValidationSelectionMalformed();
        uint256 length = uint32(bytes4(data[:_DEFERRED_LENGTH_BYTES]));
        if (data.length < _DEFERRED_LENGTH_BYTES + length) revert AccountValidationSelectionMalformed();
        (address installer, bytes memory installData) = abi.decode(
            data[_DEFERRED_LENGTH_BYTES:_DEFERRED_LENGTH_BYTES + length],
            (address, bytes)
        );
        ValidationStorage storage installerValidation = getAccountStorage().validationStorage[
            ModuleEntityLib.pack(installer, DIRECT_CALL_VALIDATION_ENTITY_ID)
        ];
        if (
            !installerValidation.isInstalled ||
            !_hasSelector(installerValidation, IModularAccount.installValidation.selector) ||
            !ERC165Checker.supportsInterface(installer, type(IDeferredInstaller).interfaceId)
        ) revert AccountDeferredInstallerNotAllowed(installer);
        // Only this one function: the data is not signed by anyone the account trusts, so the account never lets
        // it choose which of the installer's functions runs with the account as caller.
        _callNoReturn(installer, 0, abi.encodeCall(IDeferredInstaller.installDeferred, (installData)));
        rest = data[_DEFERRED_LENGTH_BYTES + length:];
    }

    /// @dev Access control for native and module functions, then the pre execution hooks (the direct-call
    /// validation's, then `selectorHooks`). Returns the post hooks.
    function _checkCallerAndRunPreHooks(
        bool skipRuntimeValidation,
        bytes32[] memory selectorHooks
    ) internal returns (PostExecToRun[] memory) {
        AccountStorage storage $ = getAccountStorage();
        if (msg.sender == address(_ENTRY_POINT) || msg.sender == address(this) || skipRuntimeValidation) {
            return _runPreHooks(new bytes32[](0), selectorHooks, msg.data);
        }

        ModuleEntity directCall = ModuleEntityLib.pack(msg.sender, DIRECT_CALL_VALIDATION_ENTITY_ID);
        ValidationStorage storage validation = $.validationStorage[directCall];
        if (!validation.isInstalled) revert AccountUnauthorizedCaller(msg.sender, msg.sig);
        _checkValidationApplies(directCall, validation, msg.data, !_hasSelector(validation, msg.sig));
        // A direct call carries no hook data: every hook receives empty data.
        _runPreRuntimeValidationHooks(validation, msg.data, msg.data[0:0], false);
        return _runPreHooks(_entityExecutionHooks(validation), selectorHooks, msg.data);
    }

    /// @dev Runs the validation's runtime validation hooks, in order, on `data` (the call being validated). With
    /// `segmented`, each hook's data is taken off the front of `segments` ({HookDataLib}) and the rest (the
    /// validation's own segment) is returned; without it (a direct call), every hook receives empty data.
    function _runPreRuntimeValidationHooks(
        ValidationStorage storage validation,
        bytes calldata data,
        bytes calldata segments,
        bool segmented
    ) internal returns (bytes calldata rest) {
        rest = segments;
        HookConfig[] memory validationHooks = _validationHooks(validation);
        for (uint256 i = 0; i < validationHooks.length; ++i) {
            bytes calldata hookData = segments[0:0];
            if (segmented) (hookData, rest) = rest.takeHookData(i);
            IValidationHookModule(validationHooks[i].module()).preRuntimeValidationHook(
                validationHooks[i].entityId(),
                msg.sender,
                msg.value,
                data,
                hookData
            );
        }
    }

    /// @dev ERC-6900 "Checking Validation Applicability", including the self-call rules for execute / executeBatch.
    function _checkValidationApplies(
        ModuleEntity validationFunction,
        ValidationStorage storage validation,
        bytes calldata callData,
        bool isGlobal
    ) internal view {
        if (!validation.isInstalled) revert AccountValidationNotInstalled(validationFunction);
        bytes4 selector = _selectorOf(callData);
        _checkSelectorApplies(validationFunction, validation, selector, isGlobal);
        if (selector == IModularAccount.execute.selector) {
            (address target, , bytes memory data) = abi.decode(callData[4:], (address, uint256, bytes));
            if (target == address(this)) _checkSelfCall(validationFunction, validation, data, isGlobal);
        } else if (selector == IModularAccount.executeBatch.selector) {
            Call[] memory calls = abi.decode(callData[4:], (Call[]));
            for (uint256 i = 0; i < calls.length; ++i) {
                if (calls[i].target == address(this))
                    _checkSelfCall(validationFunction, validation, calls[i].data, isGlobal);
            }
        }
    }

    function _checkSelfCall(
        ModuleEntity validationFunction,
        ValidationStorage storage validation,
        bytes memory data,
        bool isGlobal
    ) internal view {
        if (data.length < 4) revert AccountCalldataTooShort();
        bytes4 selector = bytes4(data);
        if (selector == IModularAccount.execute.selector || selector == IModularAccount.executeBatch.selector) {
            revert AccountSelectorNotAllowed(selector);
        }
        _checkSelectorApplies(validationFunction, validation, selector, isGlobal);
    }

    function _checkSelectorApplies(
        ModuleEntity validationFunction,
        ValidationStorage storage validation,
        bytes4 selector,
        bool isGlobal
    ) internal view {
        if (KnownSelectorsLib.isDispatcherSelector(selector)) revert AccountSelectorNotAllowed(selector);
        bool applies =
            isGlobal ? validation.flags.isGlobal() && _isGlobalAllowed(selector) : _hasSelector(validation, selector);
        if (!applies) revert AccountValidationNotApplicable(validationFunction, selector);
    }

    /// @dev Whether a global validation may validate `selector`: a global native function, or an installed execution
    /// function that allows it.
    function _isGlobalAllowed(bytes4 selector) internal view returns (bool) {
        return
            KnownSelectorsLib.isGlobalNativeFunction(selector) ||
            getAccountStorage().executionStorage[selector].allowGlobalValidation;
    }

    /// @dev Runs entity-associated then selector-associated pre hooks; returns every hook with a post hook.
    function _runPreHooks(
        bytes32[] memory first,
        bytes32[] memory second,
        bytes calldata data
    ) internal returns (PostExecToRun[] memory postHooks) {
        postHooks = new PostExecToRun[](first.length + second.length);
        for (uint256 i = 0; i < postHooks.length; ++i) {
            HookConfig hook = _toHookConfig(i < first.length ? first[i] : second[i - first.length]);
            bytes memory context;
            if (hook.hasPreHook()) {
                context = IExecutionHookModule(hook.module()).preExecutionHook(
                    hook.entityId(),
                    msg.sender,
                    msg.value,
                    data
                );
            }
            if (hook.hasPostHook()) postHooks[i] = PostExecToRun(hook, context);
        }
    }

    /// @dev Runs post hooks in the reverse order of their pre hooks.
    function _runPostHooks(PostExecToRun[] memory postHooks) internal {
        for (uint256 i = postHooks.length; i > 0; --i) {
            PostExecToRun memory post = postHooks[i - 1];
            if (HookConfig.unwrap(post.hook) == bytes25(0)) continue;
            IExecutionHookModule(post.hook.module()).postExecutionHook(
                post.hook.entityId(),
                post.preExecHookReturnData
            );
        }
    }

    /// @dev Runs the call an `executeUserOp` op wraps. `execute` and `executeBatch` run here, without a call of the
    /// account to itself: a self-call would run them with no hook and no check either (the caller is the account),
    /// so only the proxy round trip is saved. Anything else the validation applied to is a self-call, as before.
    function _executeInner(bytes calldata inner) internal {
        bytes4 selector = _selectorOf(inner);
        if (selector == IModularAccount.execute.selector) {
            (address target, uint256 value, bytes memory data) = abi.decode(inner[4:], (address, uint256, bytes));
            _callNoReturn(target, value, data);
        } else if (selector == IModularAccount.executeBatch.selector) {
            Call[] memory calls = abi.decode(inner[4:], (Call[]));
            for (uint256 i = 0; i < calls.length; ++i) {
                _callNoReturn(calls[i].target, calls[i].value, calls[i].data);
            }
        } else {
            _call(address(this), 0, inner);
        }
    }

    /// @dev A call whose result nobody reads (the wrapped `execute` / `executeBatch` of a user op): no return data
    /// is copied; a revert is bubbled up as is.
    function _callNoReturn(address target, uint256 value, bytes memory data) internal {
        if (!LowLevelCall.callNoReturn(target, value, data)) LowLevelCall.bubbleRevert();
    }

    /// @dev A call whose result is returned (`execute`, `executeBatch`, an installed execution function, and the
    /// account's calls to itself from `executeWithRuntimeValidation` and {_executeInner}); a revert is bubbled up as
    /// is.
    function _call(address target, uint256 value, bytes calldata data) internal returns (bytes memory result) {
        bool success;
        (success, result) = target.call{value: value}(data);
        if (!success) LowLevelCall.bubbleRevert(result);
    }

    function _parseSelection(bytes calldata data) internal pure returns (ModuleEntity validation, bool isGlobal) {
        if (data.length < _SELECTION_LENGTH) revert AccountValidationSelectionMalformed();
        validation = ModuleEntity.wrap(bytes24(data[:_MODULE_ENTITY_LENGTH]));
        uint8 flag = uint8(data[_MODULE_ENTITY_LENGTH]);
        if (flag > _GLOBAL_FLAG) revert AccountValidationSelectionMalformed();
        isGlobal = flag == _GLOBAL_FLAG;
    }

    function _selectorOf(bytes calldata data) internal pure returns (bytes4) {
        if (data.length < 4) revert AccountCalldataTooShort();
        return bytes4(data[:4]);
    }

    /// @dev What identifies an installation of a validation within a transaction: its install generation, plus one
    /// (so an op never recorded reads as 0 and never matches).
    function _installTag(ValidationStorage storage validation) internal view returns (uint256) {
        return uint256(validation.installGeneration) + 1;
    }

    /// @dev The transient slot holding which installation validated the op `userOpHash` (a mapping at the
    /// namespace, derived as Solidity does). Transient storage is the account's own (ERC-7562 allows it during
    /// validation) and lasts until the end of the bundle's transaction, so the op's execution reads what its
    /// validation wrote; an op hash is unique, so no entry is ever read by another op.
    function _validatedOpSlot(bytes32 userOpHash) internal pure returns (TransientSlot.Uint256Slot) {
        return TransientSlot.asUint256(SlotDerivation.deriveMapping(_VALIDATED_OPS_NAMESPACE, userOpHash));
    }

    function _recordValidatedInstall(bytes32 userOpHash, uint256 tag) internal {
        _validatedOpSlot(userOpHash).tstore(tag);
    }

    function _validatedInstall(bytes32 userOpHash) internal view returns (uint256) {
        return _validatedOpSlot(userOpHash).tload();
    }

    /// @inheritdoc UUPSUpgradeable
    /// @dev Authorization happens in {upgradeToAndCall}'s `nativeFunction` modifier.
    function _authorizeUpgrade(address) internal pure override {}
}
