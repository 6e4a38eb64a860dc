// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

/// @title TestVault (test only)
/// @notice OpenZeppelin's ERC-4626 vault over one asset: `deposit(assets, receiver)` pulls the assets from the
/// caller through its allowance and mints the shares to any receiver.
contract TestVault is ERC4626 {
    constructor(IERC20 asset_) ERC20("Test Vault", "vTEST") ERC4626(asset_) {}
}
