// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";

import {ValidationConfig} from "../interfaces/erc6900/IModularAccount.sol";
import {ValidationConfigLib} from "../libraries/ValidationConfigLib.sol";
import {ModularAccount} from "./ModularAccount.sol";

/// @title AccountFactory
/// @notice Deploys Leash modular accounts behind ERC-1967 proxies at counterfactual (CREATE2) addresses, with the
/// owner validation installed as the account's root: global, for user operations and for ERC-1271 signatures.
/// - The CREATE2 salt binds the owner, so nobody can take an owner's address with another owner.
/// - `createAccount` is idempotent: for an existing account it returns the address without a call, as ERC-4337
///   `initCode` requires.
contract AccountFactory {
    /// @notice Entity id of the owner validation on every account this factory creates.
    uint32 public constant OWNER_ENTITY_ID = 0;

    /// @notice The account implementation behind every proxy.
    ModularAccount public immutable ACCOUNT_IMPLEMENTATION;
    /// @notice The owner validation module installed as the root validation.
    address public immutable OWNER_VALIDATION_MODULE;

    /// @notice A new account was deployed for `owner`.
    event AccountCreated(address indexed account, address indexed owner, uint256 salt);

    /// @notice The owner address must not be zero.
    error AccountFactoryZeroOwner();

    /// @param accountImplementation The ModularAccount implementation.
    /// @param ownerValidationModule The OwnerValidationModule.
    constructor(ModularAccount accountImplementation, address ownerValidationModule) {
        ACCOUNT_IMPLEMENTATION = accountImplementation;
        OWNER_VALIDATION_MODULE = ownerValidationModule;
    }

    /// @notice Deploys (or returns) the account of `owner` for `salt`.
    /// @param owner The owner's address (the Ledger's).
    /// @param salt Any number, to have several accounts per owner.
    /// @return account The account's address.
    function createAccount(address owner, uint256 salt) external returns (ModularAccount account) {
        if (owner == address(0)) revert AccountFactoryZeroOwner();
        bytes memory initCall = _initCall(owner);
        address predicted = Create2.computeAddress(_salt(owner, salt), _initCodeHash(initCall));
        if (predicted.code.length != 0) return ModularAccount(payable(predicted));
        account = ModularAccount(
            payable(address(new ERC1967Proxy{salt: _salt(owner, salt)}(address(ACCOUNT_IMPLEMENTATION), initCall)))
        );
        emit AccountCreated(address(account), owner, salt);
    }

    /// @notice The counterfactual address of `owner`'s account for `salt`.
    /// @param owner The owner's address.
    /// @param salt The salt given to {createAccount}.
    /// @return The account's address, deployed or not.
    function getAccountAddress(address owner, uint256 salt) external view returns (address) {
        return Create2.computeAddress(_salt(owner, salt), _initCodeHash(_initCall(owner)));
    }

    function _initCall(address owner) private view returns (bytes memory) {
        ValidationConfig root = ValidationConfigLib.pack(OWNER_VALIDATION_MODULE, OWNER_ENTITY_ID, true, true, true);
        return
            abi.encodeCall(
                ModularAccount.initialize,
                (root, new bytes4[](0), abi.encode(OWNER_ENTITY_ID, owner), new bytes[](0))
            );
    }

    function _initCodeHash(bytes memory initCall) private view returns (bytes32) {
        return
            keccak256(
                abi.encodePacked(type(ERC1967Proxy).creationCode, abi.encode(address(ACCOUNT_IMPLEMENTATION), initCall))
            );
    }

    function _salt(address owner, uint256 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(owner, salt));
    }
}
