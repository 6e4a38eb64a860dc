/**
 * The modular account on its own, without sessions: a fixture and the owner's selection, authorization, calls and
 * ops, for the account's tests (test/account/ModularAccount*.ts) and the owner module's
 * (test/modules/OwnerValidationModule.ts).
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { AbiCoder, parseEther, Wallet, type HDNodeWallet } from "ethers";

import { encodeModuleEntity, encodeValidationConfig, encodeValidationSignature } from "../../client/encoding.js";
import { createAccount, deployLeash, fund, OWNER_ENTITY_ID, OWNER_PATH, testWallet } from "./fixture.js";
import { buildSignedOp } from "./userOps.js";

export const ONE_CENT_ETH = parseEther("0.01");
/** A selector that is neither native nor reserved. */
export const OTHER_SELECTOR = "0x12345678";

/**
 * Deploys Leash and an account of the owner holding 10 ETH; a funded stranger, a random recipient, a recording hook
 * module, an execution module (the greeter) and the ERC-6900 interface ids.
 */
export async function modularAccountFixture(ethers: HardhatEthers) {
  const deployment = await deployLeash(ethers);
  const owner = testWallet(ethers, OWNER_PATH);
  const stranger = testWallet(ethers, "m/44'/60'/7'/0/0");
  await fund(ethers, owner.address);
  await fund(ethers, stranger.address);
  const account = await createAccount(ethers, deployment, owner.address);
  const accountAddress = await account.getAddress();
  await fund(ethers, accountAddress);
  const recipient = Wallet.createRandom().address;
  const hooks = await ethers.deployContract("RecordingHookModule");
  const greeter = await ethers.deployContract("GreeterExecutionModule");
  const ids = await (await ethers.deployContract("InterfaceIds")).ids();
  const interfaceIds = {
    module: ids[0]!,
    validationHookModule: ids[2]!,
    executionHookModule: ids[4]!,
  };
  return { ...deployment, owner, stranger, account, accountAddress, recipient, hooks, greeter, interfaceIds };
}

export type AccountFixture = Awaited<ReturnType<typeof modularAccountFixture>>;

/** The owner's validation selection: the owner module's root entity, global. */
export function ownerSelection(f: AccountFixture) {
  return {
    validation: { module: f.ownerModule.target as string, entityId: OWNER_ENTITY_ID },
    isGlobal: true,
  };
}

/** The owner's runtime authorization: owner validation, global, no hook data, empty validation data. */
export function ownerAuthorization(f: AccountFixture): string {
  return encodeValidationSignature(ownerSelection(f), "0x");
}

/** The owner calls the account through its runtime validation. */
export function ownerCall(f: AccountFixture, data: string) {
  return f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f));
}

/** A user op for `callData` under the owner's validation, signed by `signer` (the owner unless given). */
export async function ownerOp(f: AccountFixture, callData: string, signer: HDNodeWallet = f.owner) {
  const { op } = await buildSignedOp(f.entryPoint, {
    sender: await f.account.getAddress(),
    callData,
    selection: ownerSelection(f),
    signer,
  });
  return op;
}

export function selectorOf(f: AccountFixture, name: "execute" | "executeBatch" | "executeUserOp" | "entryPoint") {
  return f.account.interface.getFunction(name).selector;
}

/** The entity of the second owner-module validation {@link installSecondValidation} installs. */
export const SECOND_OWNER_ENTITY = 2;

/** installValidation calldata for a second owner-module validation (owner: the stranger). */
export function installSecondValidation(
  f: AccountFixture,
  options: { selectors?: string[]; hooks?: string[]; isGlobal?: boolean; isUserOpValidation?: boolean } = {},
) {
  const config = encodeValidationConfig(
    { module: f.ownerModule.target as string, entityId: SECOND_OWNER_ENTITY },
    {
      isGlobal: options.isGlobal ?? false,
      isSignatureValidation: false,
      isUserOpValidation: options.isUserOpValidation ?? true,
    },
  );
  const installData = AbiCoder.defaultAbiCoder().encode(
    ["uint32", "address"],
    [SECOND_OWNER_ENTITY, f.stranger.address],
  );
  return f.account.interface.encodeFunctionData("installValidation", [
    config,
    options.selectors ?? [],
    installData,
    options.hooks ?? [],
  ]);
}

export const secondEntity = (f: AccountFixture) =>
  encodeModuleEntity({ module: f.ownerModule.target as string, entityId: SECOND_OWNER_ENTITY });
