/**
 * `npx hardhat run scripts/deploy-local.ts --network localhost`: deploys Leash at its deterministic addresses on a
 * local node and writes the address book the tasks read (deployments/<chainId>.json, gitignored for 31337).
 *
 * On a local chain (31337) it also deploys a demo 6-decimal "USDC" (listed in the address book's tokens) and, when
 * LEASH_LEDGER_ACCOUNT is set, funds that owner with 10 ETH and pre-funds its counterfactual account (salt 0) with
 * 1 ETH and 1,000 USDC, so `account create` and `session grant` can run right away.
 */
import hre, { network } from "hardhat";
import { parseEther, parseUnits } from "ethers";

import { defaultAddressesFile, saveLeashAddresses } from "../client/node.js";
import { deployLeashDeterministic } from "../deploy/deployLeash.js";

const connection = await network.getOrCreate();
const { ethers } = connection;
const [deployer] = await ethers.getSigners();
if (deployer === undefined) throw new Error("the network has no account to deploy with");
const { chainId } = await ethers.provider.getNetwork();
const book = await deployLeashDeterministic(connection, deployer.address);
const tokens: Record<string, string> = {};
if (chainId === 31337n) {
  const usdc = await ethers.deployContract("TestToken", ["USD Coin (local demo)", "USDC", 6]);
  tokens.USDC = await usdc.getAddress();
  const owner = process.env.LEASH_LEDGER_ACCOUNT;
  if (owner !== undefined) {
    const factory = await ethers.getContractAt("AccountFactory", book.factory);
    const account = await factory.getAccountAddress(owner, 0n);
    await (await deployer.sendTransaction({ to: owner, value: parseEther("10") })).wait();
    await (await deployer.sendTransaction({ to: account, value: parseEther("1") })).wait();
    await (await usdc.mint(account, parseUnits("1000", 6))).wait();
    console.log(`funded the owner ${owner} and its account-to-be ${account} (1 ETH, 1,000 USDC)`);
  }
}
const file = defaultAddressesFile(hre.config.paths.root, chainId);
await saveLeashAddresses(file, {
  chainId,
  entryPoint: book.entryPoint,
  factory: book.factory,
  ownerModule: book.ownerModule,
  sessionModule: book.sessionModule,
  spendLimitHook: book.spendLimitHook,
  tokens,
  fromBlock: 0,
});
console.log(`Leash deployed on chain ${chainId}; address book written to ${file}`);
