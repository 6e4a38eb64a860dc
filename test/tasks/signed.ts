/**
 * Signature-only grants and revocations: the emulated Ledger signs the EIP-712 SessionGrant / SessionRevocation /
 * AllSessionsRevocation (nested for the account), the task writes a file, and `session submit` — from any account,
 * e.g. a relayer or a watchtower — puts it on chain. The hashes the device signed are those of the typed data rebuilt
 * from the printed summary (THREATS 18).
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { expect } from "chai";
import { TypedDataEncoder } from "ethers";

import { SessionRevokedError } from "../../client/errors.js";
import { InvalidScopeError, InvalidSignedFileError, WrongChainError } from "../../client/inputErrors.js";
import { nestOwnerTypedData, sessionGrantTypedData, type SessionDescription } from "../../client/session.js";
import type { GrantPlanJson } from "../../packages/hardhat/src/tasks/summary.js";
import { runGrant, type GrantTaskArguments } from "../../packages/hardhat/src/tasks/session/grant.js";
import { runRevoke, runRevokeAll } from "../../packages/hardhat/src/tasks/session/revoke.js";
import { runSubmit } from "../../packages/hardhat/src/tasks/session/submit.js";
import { startCalStandIn, type CalStandIn } from "../helpers/calStandIn.js";
import {
  agentPaysUsdc,
  deployForTasks,
  deployOwnerAccount,
  ledgerConnection,
  taskLedger,
  testEnv,
} from "../helpers/tasks.js";

const connection = await ledgerConnection();
const { ethers, networkHelpers } = connection;

async function signedFixture() {
  const f = await deployForTasks(connection);
  const account = await deployOwnerAccount(connection, f);
  return { ...f, account };
}
type Fixture = Awaited<ReturnType<typeof signedFixture>>;

let fileCounter = 0;
const newFile = (f: Fixture, name: string) => path.join(f.dir, `${name}-${++fileCounter}.json`);

function grantArgs(f: Fixture, out: string): GrantTaskArguments {
  return {
    account: f.account,
    agent: f.agent.address,
    ttl: "24h",
    allow: `${f.addresses.tokens.USDC}:transfer(address,uint256)`,
    budget: "100 USDC/day,0.05 ETH/day",
    signatureOnly: true,
    out,
    yes: true,
    addresses: f.addressesFile,
    json: true,
  };
}

/** A SessionDescription rebuilt from the printed --json summary alone. */
function sessionFromPrinted(printed: GrantPlanJson): SessionDescription {
  return {
    account: printed.account,
    sessionId: printed.sessionId,
    agent: printed.agent,
    validAfter: BigInt(printed.validAfter),
    validUntil: BigInt(printed.validUntil),
    valueCapPerCall: BigInt(printed.valueCapPerCall),
    canSignMessages: printed.canSignMessages,
    scope: printed.scope.map(({ target, selector, signature }) => ({ target, selector, function: signature })),
    budgets: printed.budgets.map((b) => ({
      asset: b.asset,
      limit: BigInt(b.limit),
      period: BigInt(b.period),
      perCallCap: BigInt(b.perCallCap),
    })),
    paymasters: printed.paymasters,
    epoch: printed.epoch,
    nonce: BigInt(printed.nonce),
  };
}

/** Grants session 1 by signature and submits it from the first Hardhat account (a relayer). */
async function grantBySignature(f: Fixture) {
  const { env } = testEnv(connection, f.dir);
  const file = newFile(f, "grant");
  await runGrant(grantArgs(f, file), env);
  await runSubmit({ file, addresses: f.addressesFile, json: false }, testEnv(connection, f.dir).env);
  return file;
}

async function expectRejected(promise: Promise<unknown>, errorClass: new (...args: never[]) => Error, message: RegExp) {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(errorClass);
    expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected a ${errorClass.name}`);
}

describe("signature-only grants and revocations, and session submit", function () {
  let cal: CalStandIn;

  before(async function () {
    taskLedger.install();
    const f = await networkHelpers.loadFixture(signedFixture);
    cal = await startCalStandIn({
      chainId: f.addresses.chainId,
      sessionModule: f.addresses.sessionModule,
      tokens: [
        { address: ethers.ZeroAddress, ticker: "ETH", decimals: 18 },
        { address: f.addresses.tokens.USDC!, ticker: "USDC", decimals: 6 },
      ],
    });
  });

  after(async function () {
    taskLedger.uninstall();
    await cal.stop();
  });

  it("has the device sign the SessionGrant rebuilt from the printed summary, and changes nothing on chain", async function () {
    const f = await networkHelpers.loadFixture(signedFixture);
    const { env, io } = testEnv(connection, f.dir);
    const before = taskLedger.requests.length;
    const block = await ethers.provider.getBlockNumber();
    const file = newFile(f, "grant");
    await runGrant(grantArgs(f, file), env);
    const printed = JSON.parse(io.lines.join("\n")) as GrantPlanJson & { grantFile: string };
    const app = sessionGrantTypedData(sessionFromPrinted(printed), f.addresses);
    const nested = nestOwnerTypedData(app, app.message, printed.account, f.addresses.chainId);
    const requests = taskLedger.requests.slice(before);
    expect(requests).to.have.length(1);
    const request = requests[0]!;
    if (request.kind !== "eip712") throw new Error(`the device got a ${request.kind}`);
    expect(TypedDataEncoder.hash(request.domain, request.types, request.message)).to.equal(
      TypedDataEncoder.hash(nested.domain, nested.types, nested.message),
    );
    expect([printed.grantFile, await ethers.provider.getBlockNumber()]).to.deep.equal([file, block]);
    expect((await f.sessionModule.getSession(f.account, printed.sessionId)).agent).to.equal(ethers.ZeroAddress);
  });

  it("T29: refuses, before the device is asked, a function text that shares transfer's selector but is not transfer", async function () {
    const f = await networkHelpers.loadFixture(signedFixture);
    const { env } = testEnv(connection, f.dir);
    const before = taskLedger.requests.length;
    const file = newFile(f, "grant");
    const refused = await runGrant(
      { ...grantArgs(f, file), allow: `${f.addresses.tokens.USDC}:many_msg_babbage(bytes1)` },
      env,
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(InvalidScopeError);
    expect(String(refused)).to.match(/GrantFunctionInvalid\(many_msg_babbage\(bytes1\)\)/);
    expect([taskLedger.requests.length - before, existsSync(file)]).to.deep.equal([0, false]);
  });

  it("lets a relayer submit the grant file, after which the agent can pay", async function () {
    const f = await networkHelpers.loadFixture(signedFixture);
    await grantBySignature(f);
    expect((await f.sessionModule.getSession(f.account, 1)).agent).to.equal(f.agent.address);
    const paid = await agentPaysUsdc(connection, f, f.account, 1, f.recipient, 10_000_000n);
    expect([paid.success, await f.usdc.balanceOf(f.recipient)]).to.deep.equal([true, 10_000_000n]);
  });

  it("lets a watchtower submit a signed revocation, after which the agent is refused", async function () {
    const f = await networkHelpers.loadFixture(signedFixture);
    await grantBySignature(f);
    const file = newFile(f, "revocation");
    const { env } = testEnv(connection, f.dir);
    const args = {
      account: f.account,
      session: "1",
      signatureOnly: true,
      out: file,
      yes: true,
      addresses: f.addressesFile,
    };
    await runRevoke({ ...args, json: false }, env);
    expect((await f.sessionModule.getSession(f.account, 1)).revoked).to.equal(false);
    const [, , watchtower] = await ethers.getSigners();
    await runSubmit({ file, from: watchtower!.address, addresses: f.addressesFile, json: false }, env);
    expect((await f.sessionModule.getSession(f.account, 1)).revoked).to.equal(true);
    await expectRejected(agentPaysUsdc(connection, f, f.account, 1, f.recipient, 1n), SessionRevokedError, /revoked/);
  });

  it("lets a watchtower submit a signed kill switch", async function () {
    const f = await networkHelpers.loadFixture(signedFixture);
    await grantBySignature(f);
    const file = newFile(f, "kill");
    const { env } = testEnv(connection, f.dir);
    await runRevokeAll(
      { account: f.account, signatureOnly: true, out: file, yes: true, addresses: f.addressesFile, json: false },
      env,
    );
    await runSubmit({ file, addresses: f.addressesFile, json: false }, env);
    expect(await f.sessionModule.epochOf(f.account)).to.equal(1n);
    await expectRejected(
      agentPaysUsdc(connection, f, f.account, 1, f.recipient, 1n),
      SessionRevokedError,
      /kill switch/,
    );
  });

  it("refuses to submit a file signed for another chain, or one already submitted", async function () {
    const f = await networkHelpers.loadFixture(signedFixture);
    const file = await grantBySignature(f);
    const { env } = testEnv(connection, f.dir);
    await expectRejected(
      runSubmit({ file, addresses: f.addressesFile, json: false }, env),
      InvalidSignedFileError,
      /SessionNonceUsed/,
    );
    const other = newFile(f, "other-chain");
    await writeFile(other, (await readFile(file, "utf8")).replace(/"chainId": "\d+"/, '"chainId": "10"'));
    await expectRejected(
      runSubmit({ file: other, addresses: f.addressesFile, json: false }, env),
      WrongChainError,
      /chain 10/,
    );
  });
});
