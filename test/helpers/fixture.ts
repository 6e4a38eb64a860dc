/**
 * Deploys the whole Leash stack on Hardhat's in-process network: the real EntryPoint v0.8 (from
 * @account-abstraction/contracts) or v0.7 (the release bytecode npm's @account-abstraction/contracts 0.7.0 ships,
 * aliased as @account-abstraction/contracts-v07), the modules, the account implementation and the factory.
 */
import { createRequire } from "node:module";

import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { ContractFactory, HDNodeWallet, Mnemonic, parseEther, type InterfaceAbi, type Wallet } from "ethers";

import type {
  AccountFactory,
  EntryPoint,
  ModularAccount,
  OwnerValidationModule,
  SessionKeyValidationModule,
  SpendLimitHook,
} from "../../typechain-types/index.js";
import { EntryPoint__factory } from "../../typechain-types/index.js";

/** The EntryPoint versions Leash's modules run behind. */
export type EntryPointVersion = "0.7" | "0.8";
export const ENTRY_POINT_VERSIONS: readonly EntryPointVersion[] = ["0.8", "0.7"];

/**
 * Deploys an EntryPoint of `version`. v0.7 is the release's creation bytecode from npm (it hashes to the canonical
 * 0x0000000071727De22E5E9d8BAf0edAc6f37da032 under the deterministic deployer), typed with v0.8's ABI: the two share
 * `handleOps`, `getUserOpHash`, the deposit functions, the packed user op and the events the tests read.
 */
export async function deployEntryPoint(ethers: HardhatEthers, version: EntryPointVersion): Promise<EntryPoint> {
  if (version === "0.8") return ethers.deployContract("EntryPoint");
  const require = createRequire(import.meta.url);
  const artifact = require("@account-abstraction/contracts-v07/artifacts/EntryPoint.json") as {
    abi: InterfaceAbi;
    bytecode: string;
  };
  const [deployer] = await ethers.getSigners();
  const deployed = await new ContractFactory(artifact.abi, artifact.bytecode, deployer).deploy();
  await deployed.waitForDeployment();
  return EntryPoint__factory.connect(await deployed.getAddress(), deployer);
}

/** Hardhat's default mnemonic; the owner sits on a Ledger Live path so the emulated Ledger can serve it. */
export const TEST_MNEMONIC = "test test test test test test test test test test test junk";
/** The owner's derivation path (Ledger Live layout, account index 3). */
export const OWNER_PATH = "m/44'/60'/3'/0/0";
/** Entity id of the owner validation on accounts made by the factory. */
export { OWNER_ENTITY_ID } from "../../client/grant.js";

/** A wallet derived from the test mnemonic at `path`, connected to the network. */
export function testWallet(ethers: HardhatEthers, path: string): HDNodeWallet {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(TEST_MNEMONIC), path).connect(ethers.provider);
}

export interface LeashDeployment {
  entryPoint: EntryPoint;
  ownerModule: OwnerValidationModule;
  spendLimitHook: SpendLimitHook;
  sessionModule: SessionKeyValidationModule;
  implementation: ModularAccount;
  factory: AccountFactory;
}

/**
 * Deploys the EntryPoint, the modules, the account implementation and the factory (whose accounts trust the
 * session module to install owner-signed grants).
 */
export async function deployLeash(
  ethers: HardhatEthers,
  entryPointVersion: EntryPointVersion = "0.8",
): Promise<LeashDeployment> {
  return deployLeashBehind(ethers, await deployEntryPoint(ethers, entryPointVersion));
}

/**
 * Deploys the modules, the account implementation and the factory behind an EntryPoint already deployed (e.g. the
 * canonical one, which bundlers recognise, put in place by deploy/entryPoint.ts `ensureEntryPoint`).
 */
export async function deployLeashBehind(
  ethers: HardhatEthers,
  entryPoint: EntryPoint | string,
): Promise<LeashDeployment> {
  const [deployer] = await ethers.getSigners();
  const entryPointContract =
    typeof entryPoint === "string" ? EntryPoint__factory.connect(entryPoint, deployer) : entryPoint;
  const entryPointAddress = await entryPointContract.getAddress();
  const ownerModule = await ethers.deployContract("OwnerValidationModule");
  const spendLimitHook = await ethers.deployContract("SpendLimitHook");
  const sessionModule = await ethers.deployContract("SessionKeyValidationModule", [
    await spendLimitHook.getAddress(),
    entryPointAddress,
  ]);
  const implementation = await ethers.deployContract("ModularAccount", [entryPointAddress]);
  const factory = await ethers.deployContract("AccountFactory", [
    await implementation.getAddress(),
    await ownerModule.getAddress(),
    await sessionModule.getAddress(),
    await deployer!.getAddress(),
  ]);
  return { entryPoint: entryPointContract, ownerModule, spendLimitHook, sessionModule, implementation, factory };
}

/** Sends `amount` of native currency from the first Hardhat signer to `to`. */
export async function fund(ethers: HardhatEthers, to: string, amount = parseEther("10")): Promise<void> {
  const [funder] = await ethers.getSigners();
  if (funder === undefined) throw new Error("the network has no funded signer");
  await (await funder.sendTransaction({ to, value: amount })).wait();
}

/** Deploys an account for `owner` through the factory directly (not through initCode). */
export async function createAccount(
  ethers: HardhatEthers,
  deployment: LeashDeployment,
  owner: string,
  salt = 0n,
): Promise<ModularAccount> {
  await (await deployment.factory.createAccount(owner, salt)).wait();
  const address = await deployment.factory.getAccountAddress(owner, salt);
  return ethers.getContractAt("ModularAccount", address);
}

export type { Wallet };
