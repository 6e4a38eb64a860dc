// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IEntryPoint} from "@account-abstraction/contracts/interfaces/IEntryPoint.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";

import {ValidationConfigLib} from "../libraries/ValidationConfigLib.sol";
import {ModularAccount} from "./ModularAccount.sol";

/// @title AccountFactory
/// @notice Deploys Leash modular accounts behind ERC-1967 proxies at counterfactual (CREATE2) addresses, with the
/// owner validation installed as the account's root: global, for user operations and for ERC-1271 signatures.
/// If the factory has a session installer (the SessionKeyValidationModule), each account also gives it a
/// direct-call validation for `installValidation` only, so that owner-signed session grants can be installed by
/// anyone who submits them (also from inside the agent's first user op). The owner can uninstall it to turn signed
/// grants off.
/// - The CREATE2 salt binds the owner, so nobody can take an owner's address with another owner.
/// - `createAccount` is idempotent: for an existing account it returns the address without a call, as ERC-4337
///   `initCode` requires.
/// - IMPORTANT: a first user op (with `initCode`) makes the owner module (and a deferred grant, the session module and
///   the hook) touch the new account's storage in other contracts; ERC-7562 (STO-022) allows that only when the
///   factory is staked. Stake the factory in the EntryPoint ({addStake}) before relying on `initCode`, or deploy
///   accounts with {createAccount} in a transaction.
contract AccountFactory is Ownable {
    /// @notice Entity id of the owner validation on every account this factory creates.
    uint32 public constant OWNER_ENTITY_ID = 0;
    /// @dev ERC-6900 direct-call validation entity id.
    uint32 private constant DIRECT_CALL_ENTITY_ID = type(uint32).max;

    /// @notice The account implementation behind every proxy.
    ModularAccount public immutable ACCOUNT_IMPLEMENTATION;
    /// @notice The owner validation module installed as the root validation.
    address public immutable OWNER_VALIDATION_MODULE;
    /// @notice The module trusted to install owner-signed session grants (zero: none).
    address public immutable SESSION_INSTALLER;

    /// @notice A new account was deployed for `owner`.
    event AccountCreated(address indexed account, address indexed owner, uint256 salt);

    /// @notice The owner address must not be zero.
    error AccountFactoryZeroOwner();

    /// @param accountImplementation The ModularAccount implementation.
    /// @param ownerValidationModule The OwnerValidationModule.
    /// @param sessionInstaller The SessionKeyValidationModule, or zero for accounts without signed grants.
    /// @param factoryOwner Who may manage the factory's EntryPoint stake.
    constructor(
        ModularAccount accountImplementation,
        address ownerValidationModule,
        address sessionInstaller,
        address factoryOwner
    ) Ownable(factoryOwner) {
        ACCOUNT_IMPLEMENTATION = accountImplementation;
        OWNER_VALIDATION_MODULE = ownerValidationModule;
        SESSION_INSTALLER = sessionInstaller;
    }

    /// @notice Stakes the factory in the EntryPoint (ERC-7562 reputation for first ops with `initCode`).
    /// @param unstakeDelaySec The unstake delay the EntryPoint will enforce.
    function addStake(uint32 unstakeDelaySec) external payable onlyOwner {
        _entryPoint().addStake{value: msg.value}(unstakeDelaySec);
    }

    /// @notice Starts the unstake delay.
    function unlockStake() external onlyOwner {
        _entryPoint().unlockStake();
    }

    /// @notice Withdraws the stake after the delay.
    /// @param to Where the stake goes.
    function withdrawStake(address payable to) external onlyOwner {
        _entryPoint().withdrawStake(to);
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

    function _entryPoint() private view returns (IEntryPoint) {
        return ACCOUNT_IMPLEMENTATION.entryPoint();
    }

    function _initCall(address owner) private view returns (bytes memory) {
        ModularAccount.ValidationInstall[] memory validations = new ModularAccount.ValidationInstall[](
            SESSION_INSTALLER == address(0) ? 1 : 2
        );
        validations[0] = ModularAccount.ValidationInstall({
            validationConfig: ValidationConfigLib.pack(OWNER_VALIDATION_MODULE, OWNER_ENTITY_ID, true, true, true),
            selectors: new bytes4[](0),
            installData: abi.encode(OWNER_ENTITY_ID, owner),
            hooks: new bytes[](0)
        });
        if (SESSION_INSTALLER != address(0)) {
            bytes4[] memory installOnly = new bytes4[](1);
            installOnly[0] = ModularAccount.installValidation.selector;
            validations[1] = ModularAccount.ValidationInstall({
                validationConfig: ValidationConfigLib.pack(
                    SESSION_INSTALLER,
                    DIRECT_CALL_ENTITY_ID,
                    false,
                    false,
                    false
                ),
                selectors: installOnly,
                installData: "",
                hooks: new bytes[](0)
            });
        }
        return abi.encodeCall(ModularAccount.initialize, (validations));
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
