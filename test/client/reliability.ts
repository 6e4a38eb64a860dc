/**
 * The client under a misbehaving bundler (client/bundler.ts `sendAndWaitForUserOp`, client/transport.ts; issue 17),
 * deterministic: a scripted JSON-RPC bundler in this process includes ops on the in-process chain with `handleOps`,
 * and is told to lose ops, forget receipts, refuse connections, rate-limit or never include. Each test checks what
 * the client reports against the chain: the op included exactly once, or a clear error and nothing included. The
 * same faults against the real Alto bundler are in test/load (npm run test:load).
 */
import { expect } from "chai";
import { network } from "hardhat";

import { sendSessionUserOp, type SessionCall } from "../../client/agent.js";
import { createBundlerClient } from "../../client/bundler.js";
import { NonceConflictError, UserOpTimeoutError } from "../../client/errors.js";
import { sessionNonceKey } from "../../client/session.js";
import { backoffDelay, DEFAULT_RETRY_POLICY, isTransientRpcError } from "../../client/transport.js";
import { packUserOp } from "../../client/userOp.js";
import { fakeBundler, fromRpcUserOp, type FakeBundler } from "../helpers/fakeBundler.js";
import { grantByTransaction, sessionFixture, typicalSession, USDC, type SessionFixture } from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();

/** The typical session granted (100 USDC a day). */
async function granted() {
  const f = await sessionFixture(ethers, networkHelpers);
  await (await grantByTransaction(f, typicalSession(f))).wait();
  return f;
}

const pay = (f: SessionFixture, amount: bigint): SessionCall => ({
  target: f.usdc.target as string,
  value: 0n,
  data: f.usdc.interface.encodeFunctionData("transfer", [f.recipient, amount]),
});

/** Sends `calls` under the session through `bundler`. */
async function send(
  f: SessionFixture,
  bundler: FakeBundler,
  calls: SessionCall[],
  options: { timeoutMs?: number; resubmitAfterMs?: number; nonce?: bigint } = {},
) {
  const fees = await ethers.provider.getFeeData();
  return sendSessionUserOp({
    session: {
      entryPoint: f.entryPoint,
      account: f.accountAddress,
      sessionModule: f.sessionModule.target as string,
      sessionId: typicalSession(f).sessionId,
      signingKey: f.agent.signingKey,
    },
    calls,
    gas: {
      verificationGasLimit: 400_000n,
      callGasLimit: 200_000n,
      preVerificationGas: 60_000n,
      maxFeePerGas: fees.maxFeePerGas!,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas!,
    },
    via: {
      bundler: createBundlerClient({
        url: bundler.url,
        entryPoint: f.entryPoint.target as string,
        retry: { baseDelayMs: 20, maxDelayMs: 100, deadlineMs: 5_000 },
      }),
    },
    timeoutMs: options.timeoutMs ?? 20_000,
  });
}

const includedOps = async (f: SessionFixture) =>
  (await f.entryPoint.queryFilter(f.entryPoint.filters.UserOperationEvent(undefined, f.accountAddress))).length;

describe("the client under a misbehaving bundler (scripted, in process)", function () {
  this.timeout(60_000);
  let bundler: FakeBundler | undefined;

  afterEach(async function () {
    await bundler?.close();
    bundler = undefined;
  });

  it("sends the same signed op again when the bundler lost it, and it is included once", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, { lose: 1 });
    const result = await send(f, bundler, [pay(f, USDC("5"))]);
    expect(result.success).to.equal(true);
    expect(bundler.sends).to.have.length(2);
    expect(bundler.sends[1]).to.deep.equal(bundler.sends[0]);
    expect(await includedOps(f)).to.equal(1);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("5"));
  });

  it("reads the op's inclusion from the chain when the bundler answers no receipt", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, { forgetReceipts: true });
    const result = await send(f, bundler, [pay(f, USDC("5"))]);
    expect(result.success).to.equal(true);
    expect(result.transactionHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(bundler.sends).to.have.length(1);
    expect(await includedOps(f)).to.equal(1);
  });

  it("rides out a bundler answering 503 for a while, with backoff, and pays once", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, { unavailable: 4 });
    const result = await send(f, bundler, [pay(f, USDC("5"))]);
    expect(result.success).to.equal(true);
    // The four 503s went to the first requests; the op was then sent once.
    expect(bundler.methods.length).to.be.greaterThan(4 + 3);
    expect(bundler.sends).to.have.length(1);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("5"));
  });

  it("backs off on a bundler's rate limit (-32005) and then goes on", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, { rateLimited: 3 });
    const result = await send(f, bundler, [pay(f, USDC("5"))]);
    expect(result.success).to.equal(true);
    expect(await includedOps(f)).to.equal(1);
  });

  it("sends the op again later when the bundler holds as many ops of the sender as it takes, and pays once", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, { full: 1 });
    const result = await send(f, bundler, [pay(f, USDC("5"))]);
    expect(result.success).to.equal(true);
    expect(bundler.sends).to.have.length(2);
    expect(bundler.sends[1]).to.deep.equal(bundler.sends[0]);
    expect(await includedOps(f)).to.equal(1);
  });

  it("times out on a receipt that never comes with an error carrying the op's hash; nothing was included", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, { neverInclude: true });
    let thrown: unknown;
    try {
      await send(f, bundler, [pay(f, USDC("5"))], { timeoutMs: 1_500 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(UserOpTimeoutError);
    const timeout = thrown as UserOpTimeoutError;
    const sent = fromRpcUserOp(bundler.sends[0]!);
    expect(timeout.userOpHash).to.equal(await f.entryPoint.getUserOpHash(packUserOp({ ...sent, signature: "0x" })));
    expect(timeout.message).to.match(/look it up by this hash before sending the same intent again/);
    expect(await includedOps(f)).to.equal(0);
  });

  it("reports a nonce another op took first as NonceConflictError: that op is included, this one never, the budget charged once", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, {});
    const key = sessionNonceKey(f.sessionModule.target as string, typicalSession(f).sessionId);
    const nonce = await f.entryPoint.getNonce(f.accountAddress, key);
    // Two clients of one session key, one lane: both build at the same nonce; the first is included.
    const [first, second] = await Promise.allSettled([
      send(f, bundler, [pay(f, USDC("30"))]),
      send(f, bundler, [pay(f, USDC("40"))]),
    ]);
    const outcomes = [first, second].map((outcome) => outcome.status);
    expect(outcomes.sort()).to.deep.equal(["fulfilled", "rejected"]);
    const loser = [first, second].find((outcome) => outcome.status === "rejected") as PromiseRejectedResult;
    expect(loser.reason).to.be.instanceOf(NonceConflictError);
    expect((loser.reason as NonceConflictError).nonce).to.equal(nonce);
    expect(await includedOps(f)).to.equal(1);
    const paid = await f.usdc.balanceOf(f.recipient);
    expect([USDC("30"), USDC("40")]).to.deep.include(paid);
    const [remaining] = await f.spendLimitHook.remainingBudget(
      f.accountAddress,
      typicalSession(f).sessionId,
      f.usdc.target,
    );
    expect(remaining).to.equal(USDC("100") - paid);
  });
});

describe("retry policy", function () {
  it("calls refused connections, timeouts, 429 / 5xx and rate-limit errors transient, and answers not", function () {
    expect(isTransientRpcError({ code: "ECONNREFUSED" })).to.equal(true);
    expect(isTransientRpcError({ code: "TIMEOUT" })).to.equal(true);
    expect(isTransientRpcError({ info: { responseStatus: "503" }, response: { statusCode: 503 } })).to.equal(true);
    expect(isTransientRpcError({ error: { code: -32005, message: "limit exceeded" } })).to.equal(true);
    expect(isTransientRpcError({ code: "CALL_EXCEPTION", message: "execution reverted" })).to.equal(false);
    expect(isTransientRpcError({ error: { code: -32500, message: "AA23 reverted" } })).to.equal(false);
  });

  it("doubles its wait from try to try up to the cap, with ±50 % jitter", function () {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5, 9].map((attempt) => backoffDelay(attempt, policy, () => 0.5))).to.deep.equal([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect(backoffDelay(1, policy, () => 0)).to.equal(50);
    expect(backoffDelay(1, policy, () => 0.999)).to.equal(150);
  });
});
