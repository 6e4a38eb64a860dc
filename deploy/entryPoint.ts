/**
 * The EntryPoint v0.8 (or v0.7) at its canonical address, for local networks (bundlers such as Alto only recognise
 * them there).
 *
 * It is deployed the canonical way: the npm artifact of @account-abstraction/contracts (0.8.0, or 0.7.0 installed as
 * @account-abstraction/contracts-v07) through the deterministic deployment proxy with the canonical salt. On a local Hardhat network the proxy itself is put in place with
 * `hardhat_setCode` (its runtime code is fixed); elsewhere both must already exist.
 */
import { createRequire } from "node:module";

import { concat, getCreate2Address, keccak256, type Signer } from "ethers";

/** The canonical EntryPoint v0.8 address. */
export const ENTRY_POINT_V08 = "0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108";
/** The deterministic deployment proxy (CREATE2 factory) every chain shares. */
export const DETERMINISTIC_DEPLOYER = "0x4e59b44847b379578588920cA78FbF26c0B4956C";
/** The salt the EntryPoint v0.8 was deployed with. */
export const ENTRY_POINT_V08_SALT = "0x0a59dbff790c23c976a548690c27297883cc66b4c67024f9117b0238995e35e9";
/** The canonical EntryPoint v0.7 address (Alchemy MAv2 accounts in the field run behind it). */
export const ENTRY_POINT_V07 = "0x0000000071727De22E5E9d8BAf0edAc6f37da032";
/** The salt the EntryPoint v0.7 was deployed with. */
export const ENTRY_POINT_V07_SALT = "0x90d8084deab30c2a37c45e8d47f49f2f7965183cb6990a98943ef94940681de3";

/** The EntryPoint versions Leash runs behind. */
export type EntryPointRelease = "0.8" | "0.7";

const RELEASES: Record<EntryPointRelease, { address: string; salt: string; artifact: string }> = {
  "0.8": {
    address: ENTRY_POINT_V08,
    salt: ENTRY_POINT_V08_SALT,
    artifact: "@account-abstraction/contracts/artifacts/EntryPoint.json",
  },
  "0.7": {
    address: ENTRY_POINT_V07,
    salt: ENTRY_POINT_V07_SALT,
    artifact: "@account-abstraction/contracts-v07/artifacts/EntryPoint.json",
  },
};

/** Runtime code of the deterministic deployment proxy: CREATE2 with salt = calldata[0:32], init code = the rest. */
const DETERMINISTIC_DEPLOYER_CODE =
  "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3";

interface Provider {
  getCode(address: string): Promise<string>;
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** The EntryPoint artifact's creation code, as published on npm. */
function entryPointCreationCode(artifact: string): string {
  const require = createRequire(import.meta.url);
  return (require(artifact) as { bytecode: string }).bytecode;
}

/**
 * Makes sure the EntryPoint of `version` (default v0.8) exists at its canonical address; deploys it (and, on a local
 * Hardhat network, the deterministic deployment proxy) if not. Returns its address.
 */
export async function ensureEntryPoint(
  provider: Provider,
  deployer: Signer,
  version: EntryPointRelease = "0.8",
): Promise<string> {
  const release = RELEASES[version];
  if ((await provider.getCode(release.address)) !== "0x") return release.address;
  if ((await provider.getCode(DETERMINISTIC_DEPLOYER)) === "0x") {
    try {
      await provider.send("hardhat_setCode", [DETERMINISTIC_DEPLOYER, DETERMINISTIC_DEPLOYER_CODE]);
    } catch (error) {
      throw new Error(
        `No deterministic deployment proxy at ${DETERMINISTIC_DEPLOYER} and this network is not a local Hardhat ` +
          "network: deploy the proxy (its keyless transaction) first, or point Leash at an existing EntryPoint.",
        { cause: error },
      );
    }
  }
  const creationCode = entryPointCreationCode(release.artifact);
  const expected = getCreate2Address(DETERMINISTIC_DEPLOYER, release.salt, keccak256(creationCode));
  if (expected !== release.address) {
    throw new Error(`the npm EntryPoint v${version} artifact would deploy at ${expected}, not at ${release.address}`);
  }
  const tx = await deployer.sendTransaction({
    to: DETERMINISTIC_DEPLOYER,
    data: concat([release.salt, creationCode]),
    gasLimit: 6_000_000n,
  });
  await tx.wait();
  if ((await provider.getCode(release.address)) === "0x") {
    throw new Error(`deploying the EntryPoint through ${DETERMINISTIC_DEPLOYER} left no code at ${release.address}`);
  }
  return release.address;
}
