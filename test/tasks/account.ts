/**
 * `account create` end to end on the in-process network, with the emulated Ledger behind hardhat-ledger: a relayer
 * deploys the counterfactual account it printed for the Ledger's address (the Ledger signs nothing), or the Ledger
 * sends the factory call itself with --by-transaction.
 */
import { expect } from "chai";

import { runCreateAccount } from "../../packages/hardhat/src/tasks/account/create.js";
import { LedgerAccountError } from "../../packages/hardhat/src/tasks/input.js";
import { deployForTasks, expectRefusal, ledgerConnection, taskLedger, taskOwner, testEnv } from "../helpers/tasks.js";

const connection = await ledgerConnection();
const { ethers, networkHelpers } = connection;

describe("account create", function () {
  before(function () {
    taskLedger.install();
  });

  after(function () {
    taskLedger.uninstall();
  });

  it("deploys the counterfactual account it printed, owned by the Ledger address, sent by a relayer: the Ledger signs nothing", async function () {
    const f = await networkHelpers.loadFixture(deployForTasks);
    const { env, io } = testEnv(connection, f.dir);
    const expected = await f.factory.getAccountAddress(taskOwner.address, 5n);
    const before = taskLedger.requests.length;
    const result = await runCreateAccount({ salt: "5", addresses: f.addressesFile, json: false }, env);
    expect(io.progressLines[0]).to.include(expected);
    expect([result.account, result.submittedBy]).to.deep.equal([expected, (await ethers.getSigners())[0]!.address]);
    expect(taskLedger.requests.length - before).to.equal(0);
    expect(await f.ownerModule.owner(0, expected)).to.equal(taskOwner.address);
  });

  it("has the Ledger send the factory call with --by-transaction", async function () {
    const f = await networkHelpers.loadFixture(deployForTasks);
    const { env } = testEnv(connection, f.dir);
    const expected = await f.factory.getAccountAddress(taskOwner.address, 6n);
    const before = taskLedger.requests.length;
    const result = await runCreateAccount(
      { salt: "6", byTransaction: true, addresses: f.addressesFile, json: false },
      env,
    );
    const request = taskLedger.requests[before];
    if (request?.kind !== "transaction") throw new Error("the device signed no transaction");
    expect([request.transaction.to, taskLedger.requests.length - before]).to.deep.equal([f.addresses.factory, 1]);
    expect([result.submittedBy, await f.ownerModule.owner(0, expected)]).to.deep.equal([
      taskOwner.address,
      taskOwner.address,
    ]);
  });

  it("refuses the Ledger account as --relayer, and deploys nothing", async function () {
    const f = await networkHelpers.loadFixture(deployForTasks);
    const { env } = testEnv(connection, f.dir);
    const expected = await f.factory.getAccountAddress(taskOwner.address, 7n);
    await expectRefusal(
      runCreateAccount({ salt: "7", relayer: taskOwner.address, addresses: f.addressesFile, json: false }, env),
      LedgerAccountError,
      /--relayer is the Ledger account/,
    );
    expect(await ethers.provider.getCode(expected)).to.equal("0x");
  });

  it("signs nothing for an account that already exists", async function () {
    const f = await networkHelpers.loadFixture(deployForTasks);
    const { env } = testEnv(connection, f.dir);
    await runCreateAccount({ salt: "0", addresses: f.addressesFile, json: false }, env);
    const before = taskLedger.requests.length;
    const again = await runCreateAccount({ salt: "0", addresses: f.addressesFile, json: false }, env);
    expect([again.transactionHash, taskLedger.requests.length]).to.deep.equal([undefined, before]);
  });
});
