/**
 * The client under a misbehaving bundler (client/bundler.ts `sendAndWaitForUserOp`, client/transport.ts; issue 17),
 * deterministic: a scripted JSON-RPC bundler in this process includes ops on the in-process chain with `handleOps`,
 * and is told to lose ops, forget receipts, refuse connections, rate-limit or never include. Each test checks what
 * the client reports against the chain: the op included exactly once, or a clear error and nothing included. The
 * same faults against the real Alto bundler are in test/load (npm run test:load).
 */
import { expect } from "chai";
import { network } from "hardhat";

import { sendSessionUserOp, type DeferredGrant, type SessionCall } from "../../client/agent.js";
import { createBundlerClient } from "../../client/bundler.js";
import { NonceConflictError, SessionRevokedError, UserOpTimeoutError } from "../../client/errors.js";
import { sessionGrantMessage, sessionNonceKey } from "../../client/session.js";
import { createSessionHandle } from "../../client/sessionHandle.js";
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetriedMethod,
  isTransientRpcError,
  ResilientJsonRpcProvider,
} from "../../client/transport.js";
import { packUserOp } from "../../client/userOp.js";
import { fakeBundler, fromRpcUserOp, type FakeBundler } from "../helpers/fakeBundler.js";
import {
  executeCall,
  grantByTransaction,
  signGrant,
  ownerCall,
  sessionFileOf,
  sessionFixture,
  typicalSession,
  USDC,
  type SessionFixture,
} from "../helpers/sessions.js";

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
  options: { timeoutMs?: number; resubmitAfterMs?: number; nonce?: bigint; deferredGrant?: DeferredGrant } = {},
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
    resubmitAfterMs: options.resubmitAfterMs,
    nonce: options.nonce,
    deferredGrant: options.deferredGrant,
  });
}

/** The hash of an op the bundler received. */
const hashOf = async (f: SessionFixture, rpc: FakeBundler["sends"][number]) =>
  f.entryPoint.getUserOpHash(packUserOp({ ...fromRpcUserOp(rpc), signature: "0x" }));

/** What `promise` threw, and when (Date.now()). */
async function rejection(promise: Promise<unknown>): Promise<{ error: unknown; at: number }> {
  try {
    await promise;
  } catch (error) {
    return { error, at: Date.now() };
  }
  throw new Error(
    `expected a rejection, got a result: ${JSON.stringify(await promise, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`,
  );
}

/** The owner revokes the typical session. */
async function revoke(f: SessionFixture) {
  const data = f.sessionModule.interface.encodeFunctionData("revoke", [typicalSession(f).sessionId]);
  await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, data))).wait();
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
    const [winner] = await f.entryPoint.queryFilter(
      f.entryPoint.filters.UserOperationEvent(undefined, f.accountAddress),
    );
    expect((loser.reason as NonceConflictError).winnerUserOpHash).to.equal(winner!.args.userOpHash);
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

describe("the client when the bundler's view and the chain's disagree (Alto's answers)", function () {
  this.timeout(60_000);
  let bundler: FakeBundler | undefined;

  afterEach(async function () {
    await bundler?.close();
    bundler = undefined;
  });

  it("returns the op's receipt when its resend is refused because the op itself was included meanwhile, and pays once", async function () {
    const f = await networkHelpers.loadFixture(granted);
    // The bundler shows the pending op as unknown, so the client sends it again; in between the op is included and
    // the owner revokes, so the resend fails validation (not AA25): the chain, not the refusal, has the last word.
    bundler = await fakeBundler(ethers, f, { includeOnResend: () => revoke(f) });
    const result = await send(f, bundler, [pay(f, USDC("5"))], { resubmitAfterMs: 300 });
    expect(result.success).to.equal(true);
    expect(bundler.sends).to.have.length(2);
    expect(bundler.sends[1]).to.deep.equal(bundler.sends[0]);
    expect(bundler.inclusions.map((inclusion) => inclusion.userOpHash)).to.deep.equal([
      await hashOf(f, bundler.sends[0]!),
    ]);
    expect(await includedOps(f)).to.equal(1);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("5"));
  });

  it("keeps waiting while a rival op holds the nonce at the bundler, and reports NonceConflictError only once the rival is mined", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, { includeAfterMs: 1_500 });
    const first = send(f, bundler, [pay(f, USDC("30"))], { resubmitAfterMs: 300 });
    // The rival is built at the same nonce while the first is pending: the bundler answers it AA25 "already present".
    while (bundler.sends.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const nonce = fromRpcUserOp(bundler.sends[0]!).nonce;
    const second = rejection(send(f, bundler, [pay(f, USDC("40"))], { resubmitAfterMs: 300, nonce }));
    expect((await first).success).to.equal(true);
    const { error, at } = await second;
    expect(error).to.be.instanceOf(NonceConflictError);
    expect((error as NonceConflictError).nonce).to.equal(nonce);
    expect(bundler.inclusions).to.have.length(1);
    expect((error as NonceConflictError).winnerUserOpHash).to.equal(bundler.inclusions[0]!.userOpHash);
    expect(at).to.be.at.least(bundler.inclusions[0]!.at);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("30"));
    const [remaining] = await f.spendLimitHook.remainingBudget(f.accountAddress, typicalSession(f).sessionId, f.usdc);
    expect(remaining).to.equal(USDC("70"));
  });

  it("times out both ops racing on one nonce when neither is mined, each error carrying its own hash; nothing moved", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, { neverInclude: true });
    const first = rejection(send(f, bundler, [pay(f, USDC("30"))], { timeoutMs: 1_500, resubmitAfterMs: 300 }));
    while (bundler.sends.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const nonce = fromRpcUserOp(bundler.sends[0]!).nonce;
    const second = rejection(send(f, bundler, [pay(f, USDC("40"))], { timeoutMs: 1_500, resubmitAfterMs: 300, nonce }));
    const errors = [(await first).error, (await second).error];
    for (const error of errors) expect(error).to.be.instanceOf(UserOpTimeoutError);
    const hashes = errors.map((error) => (error as UserOpTimeoutError).userOpHash);
    const sent = new Set(await Promise.all(bundler.sends.map((rpc) => hashOf(f, rpc))));
    expect(new Set(hashes)).to.deep.equal(sent);
    expect(sent.size).to.equal(2);
    expect(await includedOps(f)).to.equal(0);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
  });

  it("does not take a receipt it cannot read for an outcome: the chain's receipt of the op is returned", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, { badReceipt: true });
    const result = await send(f, bundler, [pay(f, USDC("5"))], { resubmitAfterMs: 300 });
    expect(result.success).to.equal(true);
    expect(result.userOpHash).to.equal(await hashOf(f, bundler.sends[0]!));
    expect(result.transactionHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("5"));
  });

  it("does not believe a bundler's receipt the chain does not confirm: the op times out, nothing included", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, { neverInclude: true, lyingReceipts: true });
    const { error } = await rejection(
      send(f, bundler, [pay(f, USDC("5"))], { timeoutMs: 1_500, resubmitAfterMs: 300 }),
    );
    expect(error).to.be.instanceOf(UserOpTimeoutError);
    expect((error as UserOpTimeoutError).userOpHash).to.equal(await hashOf(f, bundler.sends[0]!));
    expect(await includedOps(f)).to.equal(0);
  });

  it("waits out a refusal of a resend that does not rule out the op the bundler holds, and returns its receipt once mined", async function () {
    const f = await networkHelpers.loadFixture(granted);
    // A fee floor raised meanwhile: the resend is refused, the op the bundler holds is still valid and is included.
    bundler = await fakeBundler(ethers, f, {
      includeAfterMs: 1_500,
      refuseResends: "maxFeePerGas must be at least 999 gwei",
    });
    const result = await send(f, bundler, [pay(f, USDC("5"))], { resubmitAfterMs: 300 });
    expect(result.success).to.equal(true);
    expect(bundler.sends.length).to.be.greaterThan(1);
    expect(await includedOps(f)).to.equal(1);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("5"));
  });

  it("reports that last refusal with the timeout when the held op is never mined", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, {
      neverInclude: true,
      refuseResends: "maxFeePerGas must be at least 999 gwei",
    });
    const { error } = await rejection(
      send(f, bundler, [pay(f, USDC("5"))], { timeoutMs: 1_500, resubmitAfterMs: 300 }),
    );
    expect(error).to.be.instanceOf(UserOpTimeoutError);
    expect((error as UserOpTimeoutError).lastRefusal?.message).to.match(/maxFeePerGas must be at least/);
    expect((error as Error).message).to.match(/which last refused it sent again/);
    expect(await includedOps(f)).to.equal(0);
  });

  it("reports a resend refused because the owner revoked the session as SessionRevokedError at once; nothing included", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, { neverInclude: true, beforeResend: () => revoke(f) });
    const started = Date.now();
    const { error } = await rejection(
      send(f, bundler, [pay(f, USDC("5"))], { timeoutMs: 10_000, resubmitAfterMs: 300 }),
    );
    expect(error, String(error)).to.be.instanceOf(SessionRevokedError);
    expect(Date.now() - started).to.be.below(5_000);
    // The op the bundler still holds cannot pass validation any more.
    await bundler.includePending().catch(() => undefined);
    expect(await includedOps(f)).to.equal(0);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
  });

  it("refuses a nonce that is not one of the session's before signing or sending anything", async function () {
    const f = await networkHelpers.loadFixture(granted);
    bundler = await fakeBundler(ethers, f, {});
    const key = sessionNonceKey(f.sessionModule.target as string, typicalSession(f).sessionId, 2);
    const other = sessionNonceKey(f.sessionModule.target as string, typicalSession(f).sessionId + 1);
    const { error } = await rejection(send(f, bundler, [pay(f, USDC("5"))], { nonce: other << 64n }));
    expect(error).to.be.instanceOf(RangeError);
    expect((error as Error).message).to.match(/is not in lane 0 of session .*: pass the lane the nonce was taken in/);
    const inLane2 = await rejection(send(f, bundler, [pay(f, USDC("5"))], { nonce: key << 64n }));
    expect(inLane2.error).to.be.instanceOf(RangeError);
    expect(bundler.methods).to.deep.equal([]);
    expect(await includedOps(f)).to.equal(0);
  });

  it("pins a handle's next ops to the nonce of an op that timed out, so a retry and the lost op are never both included", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const script = { neverInclude: true };
    bundler = await fakeBundler(ethers, f, script);
    const fees = await ethers.provider.getFeeData();
    const handle = createSessionHandle({
      session: sessionFileOf(f, typicalSession(f)),
      provider: ethers.provider,
      agentKey: f.agent.privateKey,
      via: {
        bundler: createBundlerClient({
          url: bundler.url,
          entryPoint: f.entryPoint.target as string,
          retry: { baseDelayMs: 20, maxDelayMs: 100, deadlineMs: 5_000 },
        }),
      },
      gas: { maxFeePerGas: fees.maxFeePerGas!, maxPriorityFeePerGas: fees.maxPriorityFeePerGas! },
      timeoutMs: 2_000,
      resubmitAfterMs: 300,
    });
    const payment = { asset: f.usdc.target as string, to: f.recipient, amount: USDC("5") };
    const lost = (await rejection(handle.pay(payment))).error as UserOpTimeoutError;
    expect(lost).to.be.instanceOf(UserOpTimeoutError);
    // The retry of the lost intent and an unrelated op (another of the agent's tasks), at once: both take the lost
    // op's nonce. The retry, signed alike, is the lost op itself (same hash): it resolves with that op's receipt.
    const retry = handle.pay(payment);
    const other = rejection(handle.pay({ ...payment, amount: USDC("7") }));
    const distinct = () => new Set(bundler!.sends.map((rpc) => rpc.signature)).size;
    while (distinct() < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(new Set(bundler.sends.map((rpc) => BigInt(rpc.nonce)))).to.deep.equal(new Set([lost.nonce]));
    await bundler.includePending();
    const retried = await retry;
    expect(retried.success).to.equal(true);
    expect(retried.userOpHash).to.equal(lost.userOpHash);
    const conflict = (await other).error as NonceConflictError;
    expect(conflict).to.be.instanceOf(NonceConflictError);
    // It names the op that won: the lost one, so the caller can tell its intent is done.
    expect(conflict.winnerUserOpHash).to.equal(lost.userOpHash);
    expect(conflict.message).to.contain(`taken by op ${lost.userOpHash}, included`);
    expect(bundler.inclusions.map((inclusion) => inclusion.userOpHash)).to.deep.equal([lost.userOpHash]);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("5"));
    // Settled: the next op takes the lane's next nonce and goes through.
    script.neverInclude = false;
    expect((await handle.pay(payment)).success).to.equal(true);
    expect(BigInt(bundler.sends.at(-1)!.nonce)).to.equal(lost.nonce! + 1n);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("10"));
  });
});

describe("the agent's first op, carrying its grant, held by a bundler (THREATS 33)", function () {
  this.timeout(60_000);
  let bundler: FakeBundler | undefined;

  afterEach(async function () {
    await bundler?.close();
    bundler = undefined;
  });

  it("recovers promptly when the grant is submitted by someone else while the bundler holds the op: pays once", async function () {
    const f = await sessionFixture(ethers, networkHelpers);
    const session = typicalSession(f);
    const grant: DeferredGrant = { session, ownerSignature: await signGrant(f, session) };
    // The bundler holds the op carrying the grant; before it is sent again, a stranger submits the grant.
    const frontRun = async () =>
      void (await (
        await f.sessionModule.connect(f.stranger).grantWithSignature(sessionGrantMessage(session), grant.ownerSignature)
      ).wait());
    bundler = await fakeBundler(ethers, f, {
      includeAfterMs: 3_000,
      beforeResend: frontRun,
      verificationGas: 1_500_000n,
    });
    const started = Date.now();
    const result = await send(f, bundler, [pay(f, USDC("5"))], { resubmitAfterMs: 300, deferredGrant: grant });
    expect(result.success).to.equal(true);
    expect(result.grant?.status).to.equal("already-submitted");
    // The held op can never be included (its grant's nonce is spent): the refusal stood at once, no timeout.
    expect(Date.now() - started).to.be.below(10_000);
    expect(await includedOps(f)).to.equal(1);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("5"));
  });

  it("waits out a fee-floor refusal of a held grant op after an earlier kill switch, and returns its receipt", async function () {
    const f = await sessionFixture(ethers, networkHelpers);
    const revokeAll = f.sessionModule.interface.encodeFunctionData("revokeAll");
    await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revokeAll))).wait();
    // Granted after the kill switch (epoch 1); not installed yet, so nothing on chain rules the held op out.
    const session = typicalSession(f, { epoch: 1 });
    const grant: DeferredGrant = { session, ownerSignature: await signGrant(f, session) };
    bundler = await fakeBundler(ethers, f, {
      includeAfterMs: 1_500,
      refuseResends: "maxFeePerGas must be at least 999 gwei",
      verificationGas: 1_500_000n,
    });
    const result = await send(f, bundler, [pay(f, USDC("5"))], { resubmitAfterMs: 300, deferredGrant: grant });
    expect(result.success).to.equal(true);
    expect(result.grant?.status).to.equal("installed-by-this-op");
    expect(await includedOps(f)).to.equal(1);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("5"));
  });
});

describe("retry policy", function () {
  it("retries reads only: a send, or a method it does not know, goes once even when the endpoint answers 503", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const bundler = await fakeBundler(ethers, f, { unavailable: 2 });
    try {
      const provider = new ResilientJsonRpcProvider(bundler.url, {
        policy: { baseDelayMs: 10, maxDelayMs: 20, deadlineMs: 2_000 },
      });
      const request = (method: string, params: unknown[]) => ({ jsonrpc: "2.0" as const, id: 1, method, params });
      const { error } = await rejection(provider._send(request("eth_sendUserOperation", [{}, f.entryPoint.target])));
      expect(isTransientRpcError(error)).to.equal(true);
      const [answer] = await provider._send(request("eth_chainId", []));
      expect(BigInt((answer as { result: string }).result)).to.equal((await ethers.provider.getNetwork()).chainId);
      expect(bundler.methods).to.deep.equal(["eth_sendUserOperation", "eth_chainId", "eth_chainId"]);
      expect(bundler.sends).to.have.length(0);
      provider.destroy();
    } finally {
      await bundler.close();
    }
  });

  it("names as reads eth_get*, eth_call, eth_chainId and the gas estimates, and nothing that sends", function () {
    for (const read of [
      "eth_getUserOperationReceipt",
      "eth_getLogs",
      "eth_call",
      "eth_chainId",
      "eth_estimateUserOperationGas",
    ]) {
      expect(isRetriedMethod(read), read).to.equal(true);
    }
    for (const send of [
      "eth_sendUserOperation",
      "eth_sendRawTransaction",
      "eth_sendTransaction",
      "pimlico_sendCompressedUserOperation",
      "debug_bundler_sendBundleNow",
    ]) {
      expect(isRetriedMethod(send), send).to.equal(false);
    }
  });

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
