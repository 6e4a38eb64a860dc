/**
 * Measures what the compiler settings change: the gas of a steady-state owner op (0.01 ETH transfer through
 * EntryPoint.handleOps, one op per bundle) and the deployed size of the account implementation.
 *
 *   LEASH_OPTIMIZER_RUNS=1000 npx hardhat run scripts/compiler-settings.ts
 *
 * The figures for each tried setting are in docs/ARCHITECTURE.md ("Compiler settings").
 */
import { network } from "hardhat";
import { parseEther, Wallet } from "ethers";

import { createAccount, deployLeash, fund, OWNER_ENTITY_ID, OWNER_PATH, testWallet } from "../test/helpers/fixture.js";
import { buildSignedOp, sendOp } from "../test/helpers/userOps.js";

const { ethers } = await network.create();
const deployment = await deployLeash(ethers);
const owner = testWallet(ethers, OWNER_PATH);
const account = await createAccount(ethers, deployment, owner.address);
await fund(ethers, await account.getAddress());
const recipient = Wallet.createRandom().address;
const selection = {
  validation: { module: deployment.ownerModule.target as string, entityId: OWNER_ENTITY_ID },
  isGlobal: true,
};
const callData = account.interface.encodeFunctionData("execute", [recipient, parseEther("0.01"), "0x"]);

let gasUsed = 0n;
for (let i = 0; i < 2; i++) {
  // The first op warms the nonce and the recipient; the second is the steady-state figure.
  const { op } = await buildSignedOp(deployment.entryPoint, {
    sender: await account.getAddress(),
    callData,
    selection,
    signer: owner,
  });
  gasUsed = (await sendOp(ethers, deployment.entryPoint, op)).gasUsed;
}
const code = await ethers.provider.getCode(deployment.implementation.target as string);
console.log(
  JSON.stringify({
    optimizerRuns: process.env.LEASH_OPTIMIZER_RUNS ?? "default",
    ownerNativeGas: Number(gasUsed),
    accountBytes: (code.length - 2) / 2,
  }),
);
