/**
 * Deploys Leash on a network connection at deterministic addresses: the canonical EntryPoint v0.8 (local networks
 * only, where none exists), then the Leash Ignition module with the `create2` strategy.
 */
import type { NetworkConnection } from "hardhat/types/network";

import LeashModule from "./LeashModule.js";
import { ensureEntryPoint } from "./entryPoint.js";

/** The CREATE2 salt of Leash's own contracts (one value for every chain, so the addresses match). */
export const LEASH_SALT = "0x4c656173682e76302e312e300000000000000000000000000000000000000000"; // "Leash.v0.1.0"

/** Where the Leash contracts are. */
export interface LeashAddressBook {
  entryPoint: string;
  ownerModule: string;
  spendLimitHook: string;
  sessionModule: string;
  accountImplementation: string;
  factory: string;
}

/**
 * Deploys (or finds) every Leash contract on `connection`; `factoryOwner` may stake the factory. On a network
 * reached over JSON-RPC, Ignition keeps its journal in `ignition/deployments/<deploymentId>` (default
 * `chain-<chainId>`) and trusts it on the next run: a freshly started local node needs a fresh deployment id.
 */
export async function deployLeashDeterministic(
  connection: NetworkConnection,
  factoryOwner: string,
  deploymentId?: string,
): Promise<LeashAddressBook> {
  const { ethers, ignition } = connection;
  const [deployer] = await ethers.getSigners();
  if (deployer === undefined) throw new Error("the network has no signer to deploy with");
  const entryPoint = await ensureEntryPoint(ethers.provider, deployer);
  const deployed = await ignition.deploy(LeashModule, {
    parameters: { Leash: { entryPoint, factoryOwner } },
    strategy: "create2",
    strategyConfig: { salt: LEASH_SALT },
    deploymentId,
    displayUi: false,
  });
  return {
    entryPoint,
    ownerModule: await deployed.ownerModule.getAddress(),
    spendLimitHook: await deployed.spendLimitHook.getAddress(),
    sessionModule: await deployed.sessionModule.getAddress(),
    accountImplementation: await deployed.accountImplementation.getAddress(),
    factory: await deployed.factory.getAddress(),
  };
}
