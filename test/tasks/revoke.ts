/**
 * `session revoke` and `session revoke-all` on the emulated Ledger. By default the owner clear-signs an EIP-712
 * revocation (display rules from docs/erc7730, served by a CAL stand-in) and a relayer submits it; without display
 * rules the task refuses before the device is asked and prints the hashes, and a rejection on the device is reported
 * as one. With --by-transaction the device signs the account call that revokes. Either way the agent's next op is
 * refused. A session id that does not exist, or an account the Ledger does not own, is refused before the device is
 * asked. test/device/revoke.ts proves the same on Ledger's real app.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { SessionRevokedError } from "../../client/errors.js";
import { InvalidSessionIdError, NotAccountOwnerError } from "../../client/inputErrors.js";
import { LedgerAccountError, MissingOptionError } from "../../packages/hardhat/src/tasks/input.js";
import { SessionKeyValidationModule__factory, ModularAccount__factory } from "../../typechain-types/index.js";
import { runGrant } from "../../packages/hardhat/src/tasks/session/grant.js";
import { runRevoke, runRevokeAll } from "../../packages/hardhat/src/tasks/session/revoke.js";
import { runList } from "../../packages/hardhat/src/tasks/session/list.js";
import {
  LedgerBlindSigningRequiredError,
  LedgerRejectedError,
} from "../../packages/hardhat/src/ledger/ledgerTypedData.js";
import { startCalStandIn, type CalStandIn } from "../helpers/calStandIn.js";
import {
  agentPaysUsdc,
  deployForTasks,
  deployOwnerAccount,
  ledgerConnection,
  taskLedger,
  taskOwner,
  testEnv,
} from "../helpers/tasks.js";

const connection = await ledgerConnection();
const { ethers, networkHelpers } = connection;

/** Leash, the owner's account, and session 1 granted through the task. */
async function grantedFixture() {
  const f = await deployForTasks(connection);
  const account = await deployOwnerAccount(connection, f);
  const { env } = testEnv(connection, f.dir);
  await runGrant(
    {
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
    },
    env,
  );
  return { ...f, account, sessionId: 1 };
}

/** What the session module call inside the device's last transaction was. */
function deviceModuleCall(): string | undefined {
  const request = taskLedger.requests.at(-1);
  if (request?.kind !== "transaction") return undefined;
  const account = ModularAccount__factory.createInterface();
  const outer = account.parseTransaction({ data: request.transaction.data });
  const inner = account.parseTransaction({ data: outer!.args[0] as string });
  const call = SessionKeyValidationModule__factory.createInterface().parseTransaction({
    data: inner!.args[2] as string,
  });
  return call === null ? undefined : `${call.name}(${call.args.join(",")})`;
}

async function expectAgentRefused(f: Awaited<ReturnType<typeof grantedFixture>>) {
  try {
    await agentPaysUsdc(connection, f, f.account, f.sessionId, f.recipient, 1_000_000n);
  } catch (error) {
    expect(error).to.be.instanceOf(SessionRevokedError);
    return;
  }
  expect.fail("the agent's op went through after the revocation");
}

describe("session revoke / revoke-all", function () {
  let cal: CalStandIn;

  before(async function () {
    taskLedger.install();
    const f = await networkHelpers.loadFixture(grantedFixture);
    cal = await startCalStandIn({ chainId: f.addresses.chainId, sessionModule: f.addresses.sessionModule });
  });

  after(async function () {
    taskLedger.uninstall();
    await cal.stop();
  });

  async function relayer(): Promise<string> {
    return (await ethers.getSigners())[7]!.address;
  }

  it("has the Ledger clear-sign a SessionRevocation a relayer submits, printing what the device shows", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { env, io } = testEnv(connection, f.dir);
    const ownerNonce = await ethers.provider.getTransactionCount(taskOwner.address);
    const result = await runRevoke(
      {
        account: f.account,
        session: "1",
        relayer: await relayer(),
        signatureOnly: false,
        yes: true,
        addresses: f.addressesFile,
        json: false,
      },
      env,
    );
    const request = taskLedger.requests.at(-1);
    if (request?.kind !== "eip712") throw new Error(`the device got a ${request?.kind}`);
    expect([["Contract", request.contract], ...request.shown]).to.deep.equal(result.deviceSummary);
    for (const [label, value] of result.deviceSummary!) expect(io.progressLines).to.include(`  ${label}: ${value}`);
    expect(request.message).to.deep.include({ verifyingContract: f.account });
    expect(result.deviceSummary![2]).to.deep.equal(["Session id", "1"]);
    expect([(await f.sessionModule.getSession(f.account, 1)).revoked, result.submittedBy]).to.deep.equal([
      true,
      await relayer(),
    ]);
    expect(await ethers.provider.getTransactionCount(taskOwner.address)).to.equal(ownerNonce);
    expect(io.lines.at(-1)).to.match(/^Session 1 of 0x[0-9a-fA-F]{40} revoked in 0x[0-9a-f]{64} \(submitted by /);
    await expectAgentRefused(f);
  });

  it("refuses before the device is asked when no display rules exist, printing the hashes", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { env } = testEnv(connection, f.dir);
    const before = taskLedger.requests.length;
    cal.serveNothing(true);
    try {
      await runRevokeAll(
        {
          account: f.account,
          relayer: await relayer(),
          signatureOnly: false,
          yes: true,
          addresses: f.addressesFile,
          json: false,
        },
        env,
      ).then(
        () => expect.fail("signed without display rules"),
        (error: unknown) => {
          expect(error).to.be.instanceOf(LedgerBlindSigningRequiredError);
          const { hashes } = error as LedgerBlindSigningRequiredError;
          expect((error as Error).message)
            .to.include(hashes.domainHash)
            .and.include(hashes.messageHash);
          expect((error as Error).message).to.match(/no display rules for TypedDataSign on chain 31337/);
        },
      );
    } finally {
      cal.serveNothing(false);
    }
    expect([taskLedger.requests.length, await f.sessionModule.epochOf(f.account)]).to.deep.equal([before, 0n]);
  });

  it("reports a rejection on the device as a rejection, and nothing changes on chain", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { env } = testEnv(connection, f.dir);
    const block = await ethers.provider.getBlockNumber();
    taskLedger.rejectNext = true;
    await runRevokeAll(
      {
        account: f.account,
        relayer: await relayer(),
        signatureOnly: false,
        yes: true,
        addresses: f.addressesFile,
        json: false,
      },
      env,
    ).then(
      () => expect.fail("a rejected revocation was submitted"),
      (error: unknown) => expect(error).to.be.instanceOf(LedgerRejectedError),
    );
    expect([await ethers.provider.getBlockNumber(), await f.sessionModule.epochOf(f.account)]).to.deep.equal([
      block,
      0n,
    ]);
  });

  it("revokes the session with a device-signed revoke(id) and the agent's next op is refused", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { env, io } = testEnv(connection, f.dir);
    const before = taskLedger.requests.length;
    await runRevoke(
      {
        account: f.account,
        session: "1",
        byTransaction: true,
        signatureOnly: false,
        yes: true,
        addresses: f.addressesFile,
        json: false,
      },
      env,
    );
    expect([taskLedger.requests.length - before, deviceModuleCall()]).to.deep.equal([1, "revoke(1)"]);
    expect((await f.sessionModule.getSession(f.account, 1)).revoked).to.equal(true);
    expect(io.lines.at(-1)).to.match(/^Session 1 of 0x[0-9a-fA-F]{40} revoked in 0x[0-9a-f]{64}$/);
    await expectAgentRefused(f);
  });

  it("pulls the kill switch with a device-signed revokeAll() and the agent's next op is refused", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { env } = testEnv(connection, f.dir);
    await runRevokeAll(
      {
        account: f.account,
        byTransaction: true,
        signatureOnly: false,
        yes: true,
        addresses: f.addressesFile,
        json: true,
      },
      env,
    );
    expect([deviceModuleCall(), await f.sessionModule.epochOf(f.account)]).to.deep.equal(["revokeAll()", 1n]);
    await expectAgentRefused(f);
  });

  it("refuses a session id that does not exist before asking the Ledger", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { env } = testEnv(connection, f.dir);
    const before = taskLedger.requests.length;
    const block = await ethers.provider.getBlockNumber();
    const args = {
      account: f.account,
      session: "7",
      signatureOnly: false,
      yes: true,
      addresses: f.addressesFile,
      json: false,
    };
    await runRevoke(args, env).then(
      () => expect.fail("revoked a session that does not exist"),
      (error: unknown) => {
        expect(error).to.be.instanceOf(InvalidSessionIdError);
        expect((error as Error).message).to.include("has no session 7");
      },
    );
    expect([taskLedger.requests.length, await ethers.provider.getBlockNumber()]).to.deep.equal([before, block]);
  });

  it("refuses revoke without --session instead of revoking everything", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { env } = testEnv(connection, f.dir);
    const args = { account: f.account, signatureOnly: false, yes: true, addresses: f.addressesFile, json: false };
    await runRevoke(args, env).then(
      () => expect.fail("revoke ran without --session"),
      (error: unknown) => expect(error).to.be.instanceOf(MissingOptionError),
    );
    expect(await f.sessionModule.epochOf(f.account)).to.equal(0n);
  });

  it("refuses an account the configured Ledger does not own before asking the Ledger", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { env } = testEnv(connection, f.dir);
    const [stranger] = await ethers.getSigners();
    await (await f.factory.createAccount(stranger!.address, 0n)).wait();
    const foreign = await f.factory.getAccountAddress(stranger!.address, 0n);
    const before = taskLedger.requests.length;
    await runRevokeAll(
      { account: foreign, signatureOnly: false, yes: true, addresses: f.addressesFile, json: false },
      env,
    ).then(
      () => expect.fail("revoked on a foreign account"),
      (error: unknown) => expect(error).to.be.instanceOf(NotAccountOwnerError),
    );
    expect(taskLedger.requests.length).to.equal(before);
  });

  it("prints --json with bigints as decimal strings for revoke-all and list", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const revoked = testEnv(connection, f.dir);
    const common = { account: f.account, addresses: f.addressesFile, json: true };
    await runRevokeAll({ ...common, relayer: await relayer(), signatureOnly: false, yes: true }, revoked.env);
    const listed = testEnv(connection, f.dir);
    await runList(common, listed.env);
    const revocation = JSON.parse(revoked.io.lines.join("\n")) as { chainId: string; transactionHash: string };
    const list = JSON.parse(listed.io.lines.join("\n")) as { sessions: { state: string; validUntil: string }[] };
    expect([revocation.chainId, /^0x[0-9a-f]{64}$/.test(revocation.transactionHash)]).to.deep.equal(["31337", true]);
    expect([list.sessions[0]!.state, /^\d+$/.test(list.sessions[0]!.validUntil)]).to.deep.equal(["killed", true]);
  });

  it("refuses to run on a network without a Ledger account, saying how to configure one", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { env } = testEnv(await network.create(), f.dir);
    const args = { account: f.account, signatureOnly: false, yes: true, addresses: f.addressesFile, json: false };
    await runRevokeAll(args, env).then(
      () => expect.fail("revoked without a Ledger account"),
      (error: unknown) => {
        expect(error).to.be.instanceOf(LedgerAccountError);
        expect((error as Error).message).to.include("has 0 ledgerAccounts; configure exactly one");
      },
    );
  });
});
