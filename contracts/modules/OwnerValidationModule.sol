// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {SIG_VALIDATION_FAILED, SIG_VALIDATION_SUCCESS} from "@account-abstraction/contracts/core/Helpers.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {ERC7739Utils} from "@openzeppelin/contracts/utils/cryptography/draft-ERC7739Utils.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {IModule} from "../interfaces/erc6900/IModule.sol";
import {IValidationModule} from "../interfaces/erc6900/IValidationModule.sol";
import {ModuleEntityLib} from "../libraries/ModuleEntityLib.sol";
import {ValidationViewLib} from "../libraries/ValidationViewLib.sol";

/// @dev Name and version of the owner's account-bound EIP-712 domain, in which ERC-7739 signatures nest: the module
/// checks signatures in it and the account reports it through ERC-5267 (`ModularAccount.eip712Domain`).
string constant OWNER_DOMAIN_NAME = "Leash Owner";
string constant OWNER_DOMAIN_VERSION = "1";
/// @dev ERC-7739 detection: `isValidSignature` of this hash with an empty signature answers {ERC7739_SUPPORTED}
/// (version 1), from the module and from the account.
bytes32 constant ERC7739_DETECTION_HASH = 0x7739773977397739773977397739773977397739773977397739773977397739;
bytes4 constant ERC7739_SUPPORTED = 0x77390001;

/// @title OwnerValidationModule
/// @notice ERC-6900 v0.8 validation module: one ECDSA owner (the Ledger's address) per (account, entity id).
/// - User operations: the owner's signature over the EntryPoint v0.8 user op hash (an EIP-712 digest, signed as is).
/// - Runtime: the owner's EOA calls the account through `executeWithRuntimeValidation` (a plain transaction a
///   Ledger signs); the authorization carries no data.
/// - ERC-1271: replay-safe through ERC-7739 nested EIP-712 (typed data stays readable on the device) or the
///   ERC-7739 `PersonalSign` wrapper. Both bind the account address and the chain id, so a signature made for one
///   account never validates for another account of the same owner, nor on another chain.
/// - Malleable (high-s) signatures and signatures recovering to address(0) are refused by OpenZeppelin's ECDSA.
/// - Install and uninstall follow the validation the account is installing or removing, not the entity id the data
///   names: where the account has ERC-6900's `getValidationData` view, `onInstall` requires the named entity to be
///   installed by then (the account stores the validation before calling it), and `onUninstall` clears every entity
///   the account no longer reports installed and none that it still does, whatever its data says (data naming the
///   root owner while another validation is removed erases nothing; empty data still clears the removed one).
/// @dev Storage: `_owners[entityId][account]`, keyed by the account, so ERC-7562 treats it as the account's.
contract OwnerValidationModule is IValidationModule {
    // ─────────────────────────────────────────── constants ───────────────────────────────────────────

    /// @notice EIP-712 domain name of the account-bound domain nested (ERC-7739) signatures use.
    string public constant DOMAIN_NAME = OWNER_DOMAIN_NAME;
    /// @notice EIP-712 domain version of that domain.
    string public constant DOMAIN_VERSION = OWNER_DOMAIN_VERSION;
    /// @dev keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    bytes32 private constant _DOMAIN_TYPEHASH = 0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f;
    bytes4 private constant _ERC1271_INVALID = 0xffffffff;

    // ──────────────────────────────────────────── storage ────────────────────────────────────────────

    mapping(uint32 entityId => mapping(address account => address owner)) private _owners;
    /// @dev The entities of `account` that have an owner, as a list (`_entityAt[0 .. _entityCount)`), so that an
    /// uninstall can find the one being removed without trusting its data. Keyed with the account innermost.
    mapping(uint256 index => mapping(address account => uint32 entityId)) private _entityAt;
    mapping(address account => uint256 count) private _entityCount;

    // ─────────────────────────────────────────── events ──────────────────────────────────────────────

    /// @notice The owner of (account, entityId) changed; `newOwner` is zero when the module was uninstalled.
    event OwnerTransferred(
        address indexed account,
        uint32 indexed entityId,
        address indexed newOwner,
        address previousOwner
    );

    // ─────────────────────────────────────────── errors ──────────────────────────────────────────────

    /// @notice The owner address must not be zero.
    error OwnerValidationZeroOwner();
    /// @notice (account, entityId) already has an owner.
    error OwnerValidationAlreadyInitialized(address account, uint32 entityId);
    /// @notice (account, entityId) has no owner.
    error OwnerValidationNotInitialized(address account, uint32 entityId);
    /// @notice `sender` is not the owner of (account, entityId).
    error OwnerValidationUnauthorized(address account, uint32 entityId, address sender);
    /// @notice The account does not report (this module, `entityId`) as installed: the install data names another
    /// entity than the validation being installed.
    error OwnerValidationNotBeingInstalled(address account, uint32 entityId);
    /// @notice The runtime authorization must be empty.
    error OwnerValidationUnexpectedAuthorization();

    // ───────────────────────────────────────── management ────────────────────────────────────────────

    /// @inheritdoc IModule
    /// @dev `data` = `abi.encode(uint32 entityId, address owner)`. The caller is the account. Where the account's
    /// view answers, the entity must be the validation being installed (the account stores it before calling this).
    /// An entity that has an owner is refused: uninstall it first.
    function onInstall(bytes calldata data) external {
        (uint32 entityId, address newOwner) = abi.decode(data, (uint32, address));
        address account = msg.sender;
        if (newOwner == address(0)) revert OwnerValidationZeroOwner();
        if (_owners[entityId][account] != address(0)) revert OwnerValidationAlreadyInitialized(account, entityId);
        if (_view(account, entityId) == ValidationViewLib.View.NotInstalled) {
            revert OwnerValidationNotBeingInstalled(account, entityId);
        }
        _owners[entityId][account] = newOwner;
        uint256 count = _entityCount[account];
        _entityAt[count][account] = entityId;
        _entityCount[account] = count + 1;
        emit OwnerTransferred(account, entityId, newOwner, address(0));
    }

    /// @inheritdoc IModule
    /// @dev `data` = `abi.encode(uint32 entityId)`, used only where the account has no view. The caller is the
    /// account. Where the account's view answers, the data is not trusted: every entity of the account that has an
    /// owner here and that the account no longer reports installed is cleared (the validation being removed, and any
    /// an earlier uninstall left behind), and no entity the account still reports installed is touched, whatever
    /// entity the data names.
    function onUninstall(bytes calldata data) external {
        address account = msg.sender;
        uint256 count = _entityCount[account];
        bool viewAnswered = false;
        for (uint256 i = count; i > 0; --i) {
            uint32 entityId = _entityAt[i - 1][account];
            ValidationViewLib.View state = _view(account, entityId);
            if (state == ValidationViewLib.View.Unknown) break;
            viewAnswered = true;
            if (state == ValidationViewLib.View.NotInstalled) count = _forget(account, i - 1, count);
        }
        if (viewAnswered || data.length < 32) return;
        uint32 named = abi.decode(data, (uint32));
        for (uint256 i = 0; i < count; ++i) {
            if (_entityAt[i][account] == named) {
                _forget(account, i, count);
                return;
            }
        }
    }

    /// @notice Hands the account's `entityId` validation to `newOwner`.
    /// @dev Called by the account itself (e.g. through `execute`, authorised by the current owner).
    /// @param entityId The owner validation's entity id on the calling account.
    /// @param newOwner The new owner; must not be zero (uninstall the validation to remove it).
    function transferOwnership(uint32 entityId, address newOwner) external {
        if (newOwner == address(0)) revert OwnerValidationZeroOwner();
        address previousOwner = _owners[entityId][msg.sender];
        if (previousOwner == address(0)) revert OwnerValidationNotInitialized(msg.sender, entityId);
        _owners[entityId][msg.sender] = newOwner;
        emit OwnerTransferred(msg.sender, entityId, newOwner, previousOwner);
    }

    /// @notice The owner of `account`'s `entityId` validation (zero if none).
    function owner(uint32 entityId, address account) external view returns (address) {
        return _owners[entityId][account];
    }

    // ─────────────────────────────────────────── internal ────────────────────────────────────────────

    /// @dev Erases the owner of the entity listed at `index` of `account`'s list (of `count` entries) and takes it off
    /// the list (the last entry moves into its place). Returns the new count.
    function _forget(address account, uint256 index, uint256 count) internal returns (uint256) {
        uint32 entityId = _entityAt[index][account];
        address previousOwner = _owners[entityId][account];
        delete _owners[entityId][account];
        uint256 last = count - 1;
        if (index != last) _entityAt[index][account] = _entityAt[last][account];
        delete _entityAt[last][account];
        _entityCount[account] = last;
        emit OwnerTransferred(account, entityId, address(0), previousOwner);
        return last;
    }

    /// @dev What `account`'s view says of (this module, `entityId`).
    function _view(address account, uint32 entityId) internal view returns (ValidationViewLib.View state) {
        (state, ) = ValidationViewLib.read(account, ModuleEntityLib.pack(address(this), entityId));
    }

    // ────────────────────────────────────────── validation ───────────────────────────────────────────

    /// @inheritdoc IValidationModule
    /// @dev `userOp.signature` here is the validation's own segment: a 65-byte ECDSA signature over `userOpHash`.
    function validateUserOp(
        uint32 entityId,
        PackedUserOperation calldata userOp,
        bytes32 userOpHash
    ) external view returns (uint256) {
        return
            _isOwnerSignature(_owners[entityId][userOp.sender], userOpHash, userOp.signature)
                ? SIG_VALIDATION_SUCCESS
                : SIG_VALIDATION_FAILED;
    }

    /// @inheritdoc IValidationModule
    /// @dev Passes only if `sender` is the owner; `authorization` must be empty.
    function validateRuntime(
        address account,
        uint32 entityId,
        address sender,
        uint256,
        bytes calldata,
        bytes calldata authorization
    ) external view {
        if (authorization.length != 0) revert OwnerValidationUnexpectedAuthorization();
        address currentOwner = _owners[entityId][account];
        if (currentOwner == address(0) || sender != currentOwner) {
            revert OwnerValidationUnauthorized(account, entityId, sender);
        }
    }

    /// @inheritdoc IValidationModule
    /// @dev `signature` is either an ERC-7739 nested typed-data signature
    /// (`ecdsaSig ‖ appSeparator ‖ contentsHash ‖ contentsDescr ‖ uint16(contentsDescr.length)`) or a 65-byte
    /// ECDSA signature over the ERC-7739 `PersonalSign(bytes prefixed)` digest of `hash`, both in the account-bound
    /// domain {name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract: account}.
    function validateSignature(
        address account,
        uint32 entityId,
        address,
        bytes32 hash,
        bytes calldata signature
    ) external view returns (bytes4) {
        address currentOwner = _owners[entityId][account];
        if (
            currentOwner != address(0) &&
            (_isValidNestedTypedData(currentOwner, account, hash, signature) ||
                _isOwnerSignature(
                    currentOwner,
                    MessageHashUtils.toTypedDataHash(
                        domainSeparator(account),
                        ERC7739Utils.personalSignStructHash(hash)
                    ),
                    signature
                ))
        ) {
            return IERC1271.isValidSignature.selector;
        }
        if (hash == ERC7739_DETECTION_HASH && signature.length == 0) return ERC7739_SUPPORTED;
        return _ERC1271_INVALID;
    }

    /// @notice The EIP-712 domain separator nested signatures for `account` are made in.
    function domainSeparator(address account) public view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    _DOMAIN_TYPEHASH,
                    keccak256(bytes(DOMAIN_NAME)),
                    keccak256(bytes(DOMAIN_VERSION)),
                    block.chainid,
                    account
                )
            );
    }

    // ─────────────────────────────────────────── metadata ────────────────────────────────────────────

    /// @inheritdoc IModule
    function moduleId() external pure returns (string memory) {
        return "leash.owner-validation.0.1.0";
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IModule).interfaceId ||
            interfaceId == type(IValidationModule).interfaceId;
    }

    // ─────────────────────────────────────────── internals ───────────────────────────────────────────

    function _isValidNestedTypedData(
        address currentOwner,
        address account,
        bytes32 hash,
        bytes calldata encodedSignature
    ) private view returns (bool) {
        (
            bytes calldata signature,
            bytes32 appSeparator,
            bytes32 contentsHash,
            string calldata contentsDescr
        ) = ERC7739Utils.decodeTypedDataSig(encodedSignature);
        (string calldata contentsName, string calldata contentsType) = ERC7739Utils.decodeContentsDescr(contentsDescr);
        if (bytes(contentsName).length == 0) return false;
        if (hash != MessageHashUtils.toTypedDataHash(appSeparator, contentsHash)) return false;
        bytes memory domainBytes = abi.encode(
            keccak256(bytes(DOMAIN_NAME)),
            keccak256(bytes(DOMAIN_VERSION)),
            block.chainid,
            account,
            bytes32(0)
        );
        bytes32 digest = MessageHashUtils.toTypedDataHash(
            appSeparator,
            ERC7739Utils.typedDataSignStructHash(contentsName, contentsType, contentsHash, domainBytes)
        );
        return _isOwnerSignature(currentOwner, digest, signature);
    }

    function _isOwnerSignature(
        address currentOwner,
        bytes32 digest,
        bytes calldata signature
    ) private pure returns (bool) {
        (address recovered, ECDSA.RecoverError error, ) = ECDSA.tryRecoverCalldata(digest, signature);
        return error == ECDSA.RecoverError.NoError && recovered == currentOwner && currentOwner != address(0);
    }
}
