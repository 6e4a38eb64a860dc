/**
 * `session revoke` and `session revoke-all` (the kill switch) on Ledger's real Ethereum app, blind signing off: the
 * task has the owner clear-sign an EIP-712 revocation whose display rules are generated from docs/erc7730 and signed
 * with Ledger's public test key (served by a local stand-in of Ledger's CAL service), and a relayer, not the owner's
 * Ledger, carries it on chain.
 *
 * For each: every screen is captured, every field shown must equal the task's printed summary and the typed data, and
 * the chain must then hold the same value. A rejection on the device is reported as a rejection and changes nothing;
 * filters whose signature is not the test key's are refused by the device, and the task says why.
 */
import { expect } from "chai";
import type { NetworkConnection } from "hardhat/types/network";
import { network } from "hardhat";

import { LedgerFiltersRefusedError, LedgerRejectedError } from "../../packages/hardhat/src/ledger/ledgerTypedData.js";
import { MAX_FILTER_LABEL_LENGTH } from "../../packages/hardhat/src/ledger/ledgerFilters.js";
import { nestOwnerTypedData, SESSION_REVOCATION_TYPES, sessionModuleDomain } from "../../client/session.js";
import { ALL_SESSIONS_REVOCATION_TYPES } from "../../client/session.js";
import { runGrant } from "../../packages/hardhat/src/tasks/session/grant.js";
import { runRevoke, runRevokeAll, type RevokeTaskResult } from "../../packages/hardhat/src/tasks/session/revoke.js";
import { startCalStandIn, type CalStandIn } from "../helpers/calStandIn.js";
import { deployForTasks, deployOwnerAccount, taskLedger, taskOwner, testEnv } from "../helpers/tasks.js";
import { describeOnDevices, reviewFields, reviewOnDevice, transcript } from "./harness.js";
import type { Screen } from "./speculos.js";
import { useSpeculosForHardhatLedger, type SpeculosLedgerSeam } from "./speculosTransport.js";

/** Labels the app may show: "Contract" and "Network" (its own) and the descriptors' labels. */
const LABELS = ["Contract", "Network", "Account", "Session id", "Grant id", "Nonce", "Chain id", "Signed for account"];

describeOnDevices("session revoke / revoke-all, clear-signed and relayed", (device, model) => {
  let connection: NetworkConnection;
  let seam: SpeculosLedgerSeam;
  let cal: CalStandIn;
  let f: Awaited<ReturnType<typeof deployForTasks>> & { account: string };
  const until = model === "nanosp" ? "Sign message" : "Hold to sign";

  before(async function () {
    connection = await network.create({ override: { ledgerAccounts: [taskOwner.address] } });
    const deployed = await deployForTasks(connection);
    const account = await deployOwnerAccount(connection, deployed);
    f = { ...deployed, account };
    cal = await startCalStandIn({ chainId: f.addresses.chainId, sessionModule: f.addresses.sessionModule });
  });

  after(async function () {
    await seam?.restore();
    await cal?.stop();
    await connection?.close();
  });

  /** Grants session `sessionId` by transaction on the emulated device (the grant is not this file's subject). */
  async function grant(sessionId: number) {
    taskLedger.install();
    try {
      await runGrant(
        {
          account: f.account,
          agent: f.agent.address,
          sessionId: String(sessionId),
          ttl: "24h",
          allow: `${f.addresses.tokens.USDC}:transfer(address,uint256)`,
          budget: "100 USDC/day,0.05 ETH/day",
          signatureOnly: false,
          byTransaction: true,
          yes: true,
          addresses: f.addressesFile,
          json: false,
        },
        testEnv(connection, f.dir).env,
      );
    } finally {
      taskLedger.uninstall();
    }
  }

  function onDevice<T>(request: Promise<T>, approve: boolean) {
    seam ??= useSpeculosForHardhatLedger(device());
    return reviewOnDevice(device(), request, { until, approve });
  }

  async function relayer(): Promise<string> {
    const signers = await connection.ethers.getSigners();
    return signers[7]!.address;
  }

  /** The review's fields, checked to be exactly the task's printed summary, in order. */
  function expectShownAsSummary(screens: readonly Screen[], summary: [string, string][] | undefined): void {
    if (process.env.LEASH_DEVICE_TRANSCRIPTS === "1") console.log(transcript(screens));
    const shown = reviewFields(screens, LABELS).fields;
    const expected = summary!.flatMap(([label, value]): [string, string][] =>
      label === "Contract"
        ? [
            [label, value],
            ["Network", String(f.addresses.chainId)],
          ]
        : [[label, value]],
    );
    // A value wrapped at a space loses it when the screen's lines are joined: compare without whitespace.
    const squeeze = (fields: [string, string][]) => fields.map(([label, value]) => [label, value.replace(/\s/g, "")]);
    expect(squeeze(shown), transcript(screens)).to.deep.equal(squeeze(expected));
    for (const [label] of shown) expect(label.length).to.be.at.most(MAX_FILTER_LABEL_LENGTH);
  }

  it("revokes one session: every field shown is the summary and the typed data, and a relayer submits it", async function () {
    await grant(1);
    const grantId = (await f.sessionModule.getSession(f.account, 1)).grantId;
    const nonceBefore = await connection.ethers.provider.getTransactionCount(taskOwner.address);
    const { env, io } = testEnv(connection, f.dir);
    const task = runRevoke(
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
    const { review, result } = await onDevice(task, true);
    if ("error" in result) throw result.error;
    const revoked: RevokeTaskResult = result.value;
    const file = revoked.signedFile!;
    if (file.kind !== "leash.session-revocation") throw new Error(file.kind);

    // The screens are the task's summary…
    expectShownAsSummary(review.screens, revoked.deviceSummary);
    // …which is the typed data the owner signed.
    const contents = {
      ...file.revocation,
      grantId: BigInt(file.revocation.grantId),
      nonce: BigInt(file.revocation.nonce),
    };
    const app = {
      domain: sessionModuleDomain(f.addresses),
      types: SESSION_REVOCATION_TYPES,
      primaryType: "SessionRevocation",
    };
    const nested = nestOwnerTypedData(app, contents, f.account, f.addresses.chainId);
    expect(revoked.deviceSummary).to.deep.equal([
      ["Contract", "Revoke a session key"],
      ["Account", f.account],
      ["Session id", "1"],
      ["Grant id", grantId.toString()],
      ["Nonce", file.revocation.nonce],
      ["Chain id", f.addresses.chainId.toString()],
      ["Signed for account", f.account],
    ]);
    expect(io.text).to.include(`Session id: 1`);

    // The chain holds the same value: that session (that grant) is revoked, by the relayer, not the Ledger.
    const session = await f.sessionModule.getSession(f.account, 1);
    expect([session.revoked, revoked.submittedBy]).to.deep.equal([true, await relayer()]);
    expect(await connection.ethers.provider.getTransactionCount(taskOwner.address)).to.equal(nonceBefore);
    expect(nested.message.verifyingContract).to.equal(f.account);
  });

  it("pulls the kill switch: the device names it, a relayer submits it and the epoch moves by one", async function () {
    await grant(2);
    const epochBefore = await f.sessionModule.epochOf(f.account);
    const { env } = testEnv(connection, f.dir);
    const task = runRevokeAll(
      {
        account: f.account,
        relayer: await relayer(),
        signatureOnly: false,
        yes: true,
        addresses: f.addressesFile,
        json: false,
      },
      env,
    );
    const { review, result } = await onDevice(task, true);
    if ("error" in result) throw result.error;
    const file = result.value.signedFile!;
    if (file.kind !== "leash.all-sessions-revocation") throw new Error(file.kind);
    expectShownAsSummary(review.screens, result.value.deviceSummary);
    expect(result.value.deviceSummary).to.deep.equal([
      ["Contract", "Revoke ALL session keys (kill switch)"],
      ["Account", f.account],
      ["Nonce", file.revocation.nonce],
      ["Chain id", f.addresses.chainId.toString()],
      ["Signed for account", f.account],
    ]);
    expect(await f.sessionModule.epochOf(f.account)).to.equal(epochBefore + 1n);
  });

  it("reports a rejection on the device as a rejection, and nothing changes on chain", async function () {
    await grant(3);
    const block = await connection.ethers.provider.getBlockNumber();
    const before = seam.exchanges.length;
    const { env } = testEnv(connection, f.dir);
    const task = runRevoke(
      {
        account: f.account,
        session: "3",
        relayer: await relayer(),
        signatureOnly: false,
        yes: true,
        addresses: f.addressesFile,
        json: false,
      },
      env,
    );
    const { review, result } = await onDevice(task, false);
    expect(review.after.join(" ")).to.match(/rejected/i);
    expect("error" in result && result.error).to.be.instanceOf(LedgerRejectedError);
    expect(String((result as { error: Error }).error.message)).to.match(/rejected on the Ledger/);
    // One signing request, answered "denied by the user"; no hashed retry.
    const signs = seam.exchanges.slice(before).filter((e) => e.cla === 0xe0 && e.ins === 0x0c);
    expect(signs.map((e) => [e.p2, e.status])).to.deep.equal([[1, 0x6985]]);
    expect(await connection.ethers.provider.getBlockNumber()).to.equal(block);
    expect((await f.sessionModule.getSession(f.account, 3)).revoked).to.equal(false);
    await device().waitForHome();
  });

  it("refuses filters not signed by the key the device trusts, before any screen, and says why", async function () {
    const block = await connection.ethers.provider.getBlockNumber();
    cal.tamper(true);
    try {
      seam ??= useSpeculosForHardhatLedger(device());
      const { env } = testEnv(connection, f.dir);
      const error = await runRevoke(
        {
          account: f.account,
          session: "3",
          relayer: await relayer(),
          signatureOnly: false,
          yes: true,
          addresses: f.addressesFile,
          json: false,
        },
        env,
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(LedgerFiltersRefusedError);
      expect((error as Error).message).to.match(/signature does not verify with the key this device trusts/);
      expect(await connection.ethers.provider.getBlockNumber()).to.equal(block);
      expect((await device().screen()).join(" ")).to.match(/app is ready|This app enables signing/);
    } finally {
      cal.tamper(false);
    }
  });
});
