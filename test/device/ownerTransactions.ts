/**
 * Characterization of today's owner transactions on Ledger's real Ethereum app (issue #13): `session grant` sends the
 * account `executeWithRuntimeValidation(installValidation(…))`, a transaction with calldata, and app-ethereum 1.22.0
 * refuses any calldata it cannot clear-sign unless the owner has enabled blind signing in its settings (status
 * 0x6a80). The emulated device of test/helpers accepts it; the real app does not. These tests pin the gap the rest of
 * #13 closes (typed data or calldata descriptors the app clear-signs); when a task stops needing blind signing, its
 * test here must change to an approval whose screens are asserted.
 */
import { expect } from "chai";

import { runGrant, type GrantTaskArguments } from "../../packages/hardhat/src/tasks/session/grant.js";
import { deployForTasks, deployOwnerAccount, ledgerConnection, taskOwner, testEnv } from "../helpers/tasks.js";
import { describeOnDevices } from "./harness.js";
import { useSpeculosForHardhatLedger, type SpeculosLedgerSeam } from "./speculosTransport.js";
import type { NetworkConnection } from "hardhat/types/network";

describeOnDevices("today's owner transaction (calldata to the account)", (device, model) => {
  let connection: NetworkConnection;
  let seam: SpeculosLedgerSeam | undefined;

  before(async function () {
    seam = useSpeculosForHardhatLedger(device());
    // The task tests' owner, m/44'/60'/3'/0/0 of Hardhat's mnemonic: the emulator derives it from the same seed.
    connection = await ledgerConnection();
  });

  after(async function () {
    await connection?.close();
    await seam?.restore();
  });

  it("`session grant` by transaction is refused by the app without blind signing (0x6a80), nothing sent", async function () {
    const { ethers } = connection;
    const f = await deployForTasks(connection);
    const account = await deployOwnerAccount(connection, f);
    const { env, io } = testEnv(connection, f.dir);
    const args: GrantTaskArguments = {
      account,
      agent: f.agent.address,
      ttl: "24h",
      allow: `${f.addresses.tokens.USDC}:transfer(address,uint256)`,
      budget: "100 USDC/day,0.05 ETH/day",
      signatureOnly: false,
      byTransaction: true,
      yes: true,
      addresses: f.addressesFile,
      json: false,
    };
    const state = async () => ({
      block: await ethers.provider.getBlockNumber(),
      nonce: await ethers.provider.getTransactionCount(taskOwner.address),
    });
    const before = await state();
    await device().clearEvents();

    let refusal: Error | undefined;
    try {
      await runGrant(args, env);
    } catch (error) {
      refusal = error as Error;
    }

    expect(refusal, "the real app signed a transaction with calldata without blind signing").to.not.equal(undefined);
    // hw-app-eth turns the app's status 0x6a80 into this error; the APDU log keeps the status itself.
    expect(refusal!.name).to.equal("EthAppPleaseEnableContractData");
    expect(refusal!.message).to.match(/enable Blind signing/);
    const signing = seam!.exchanges.filter((e) => e.cla === 0xe0 && e.ins === 0x04);
    expect(signing.at(-1)?.status).to.equal(0x6a80);
    expect(io.text).to.include("installValidation");
    expect(await state()).to.deep.equal(before);
    // The app draws no review: it answers with the refusal, and leaves a warning on screen until the owner closes it.
    const warning = await device().closeBlindSigningWarning();
    expect(warning.join(" ")).to.equal(
      model === "nanosp"
        ? "Blind signing must be enabled in settings"
        : "This transaction cannot be clear-signed Enable blind signing in the settings to sign this transaction. " +
            "Reject transaction Go to settings",
    );
  });
});
