/**
 * The EntryPoint v0.8 at its canonical address, for local networks (bundlers such as Alto only recognise it there).
 *
 * It is deployed the canonical way: the npm artifact of @account-abstraction/contracts through the deterministic
 * deployment proxy with the canonical salt. On a local Hardhat network the proxy itself is put in place with
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
/** Runtime code of the deterministic deployment proxy: CREATE2 with salt = calldata[0:32], init code = the rest. */
const DETERMINISTIC_DEPLOYER_CODE =
  "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3";

interface Provider {
  getCode(address: string): Promise<string>;
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** The EntryPoint artifact's creation code, as published on npm. */
function entryPointCreationCode(): string {
  const require = createRequire(import.meta.url);
  return (require("@account-abstraction/contracts/artifacts/EntryPoint.json") as { bytecode: string }).bytecode;
}

/**
 * Makes sure the EntryPoint v0.8 exists at its canonical address; deploys it (and, on a local Hardhat network, the
 * deterministic deployment proxy) if not. Returns its address.
 */
export async function ensureEntryPoint(provider: Provider, deployer: Signer): Promise<string> {
  if ((await provider.getCode(ENTRY_POINT_V08)) !== "0x") return ENTRY_POINT_V08;
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
  const creationCode = entryPointCreationCode();
  const expected = getCreate2Address(DETERMINISTIC_DEPLOYER, ENTRY_POINT_V08_SALT, keccak256(creationCode));
  if (expected !== ENTRY_POINT_V08) {
    throw new Error(`the npm EntryPoint artifact would deploy at ${expected}, not at ${ENTRY_POINT_V08}`);
  }
  const tx = await deployer.sendTransaction({
    to: DETERMINISTIC_DEPLOYER,
    data: concat([ENTRY_POINT_V08_SALT, creationCode]),
    gasLimit: 6_000_000n,
  });
  await tx.wait();
  if ((await provider.getCode(ENTRY_POINT_V08)) === "0x") {
    throw new Error(`deploying the EntryPoint through ${DETERMINISTIC_DEPLOYER} left no code at ${ENTRY_POINT_V08}`);
  }
  return ENTRY_POINT_V08;
}
