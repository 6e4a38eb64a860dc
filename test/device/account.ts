/**
 * `account create` on Ledger's real Ethereum app (issue #13): creating the owner's account needs no signature from
 * the owner, since the factory call carries only the owner's address. The task has the owner check that address on
 * the device ("Verify Ethereum address") and a relayer sends the factory call: the Ledger signs nothing, blind or not.
 */
import { expect } from "chai";

import { LedgerRejectedError } from "../../packages/hardhat/src/ledger/ledgerTypedData.js";
import { runCreateAccount } from "../../packages/hardhat/src/tasks/account/create.js";
import { taskOwner, testEnv } from "../helpers/tasks.js";
import { startGrantChain, type GrantChain } from "./grantChain.js";
import { describeOnDevices, reviewOnDevice, transcript } from "./harness.js";
import { useSpeculosForHardhatLedger, type SpeculosLedgerSeam } from "./speculosTransport.js";

describeOnDevices("account create, the owner's address checked on the device", (device, model) => {
  let chain: GrantChain;
  let seam: SpeculosLedgerSeam;
  const until = model === "nanosp" ? /^Confirm$/ : /(^| )Confirm$/;

  before(async function () {
    chain = await startGrantChain();
  });

  after(async function () {
    await seam?.restore();
    await chain?.close();
  });

  async function create(salt: string, approve: boolean) {
    const { connection, f } = chain;
    seam ??= useSpeculosForHardhatLedger(device());
    const { env } = testEnv(connection, f.dir);
    const task = runCreateAccount({ salt, relayer: chain.relayer, addresses: f.addressesFile, json: false }, env);
    const outcome = await reviewOnDevice(device(), task, {
      until,
      approve,
      flexApproveTap: /^Confirm$/,
      rejectText: /^Cancel$/,
    });
    if (process.env.LEASH_DEVICE_TRANSCRIPTS === "1") console.log(transcript(outcome.review.screens));
    return outcome;
  }

  it("shows the owner's address, then a relayer deploys the account it owns; the Ledger sends nothing", async function () {
    const { connection, f } = chain;
    const expected = await f.factory.getAccountAddress(taskOwner.address, 11n);
    const nonceBefore = await connection.ethers.provider.getTransactionCount(taskOwner.address);
    const { review, result } = await create("11", true);
    if ("error" in result) throw result.error;
    const shown = review.screens.flat().join("").replace(/\s/g, "");
    expect(shown, transcript(review.screens)).to.include(taskOwner.address);
    expect([result.value.account, result.value.submittedBy]).to.deep.equal([expected, chain.relayer]);
    expect(await f.ownerModule.owner(0, expected)).to.equal(taskOwner.address);
    expect(await connection.ethers.provider.getTransactionCount(taskOwner.address)).to.equal(nonceBefore);
  });

  it("rejected on the device: the task reports it and deploys nothing", async function () {
    const { connection, f } = chain;
    const expected = await f.factory.getAccountAddress(taskOwner.address, 12n);
    const { result } = await create("12", false);
    if (!("error" in result)) throw new Error("the address check was not rejected");
    expect(result.error).to.be.instanceOf(LedgerRejectedError);
    expect(await connection.ethers.provider.getCode(expected)).to.equal("0x");
  });
});
