/**
 * What sendSessionUserOp tells an agent when an op is refused (issue #15, "Refusals"): whether it may retry and when
 * (a budget's reset time; a session that has not started), and that a call out of scope is reported as out of scope,
 * before anything is signed, even when it would also be over a budget. Nothing moves in any of these cases.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { parseEther, parseUnits, Wallet } from "ethers";

import { sendSessionUserOp, type SessionCall } from "../../client/agent.js";
import {
  SessionExpiredError,
  SessionNotYetValidError,
  SessionOutOfScopeError,
  SessionRevokedError,
  SpendLimitExceededError,
  UserOpRefusedError,
} from "../../client/errors.js";
import { NATIVE_ASSET, sessionNonceKey } from "../../client/session.js";
import {
  DAY,
  executeCall,
  grantByTransaction,
  ownerCall,
  SESSION_ID,
  sessionFixture,
  typicalSession,
  type SessionFixture,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();

const GAS = {
  verificationGasLimit: 400_000n,
  callGasLimit: 200_000n,
  preVerificationGas: 60_000n,
  maxFeePerGas: 2_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
};

async function fixture() {
  return sessionFixture(ethers, networkHelpers);
}

async function sendAs(f: SessionFixture, calls: SessionCall[]) {
  const [, , , submitter] = await ethers.getSigners();
  return sendSessionUserOp({
    session: {
      entryPoint: f.entryPoint,
      account: f.accountAddress,
      sessionModule: f.sessionModule.target as string,
      sessionId: SESSION_ID,
      signingKey: new Wallet(f.agent.privateKey).signingKey,
    },
    calls,
    gas: GAS,
    via: { submitter: submitter! },
  });
}

async function refusalOf(f: SessionFixture, calls: SessionCall[]): Promise<UserOpRefusedError> {
  try {
    await sendAs(f, calls);
  } catch (error) {
    expect(error).to.be.instanceOf(UserOpRefusedError);
    return error as UserOpRefusedError;
  }
  throw new Error("the op was not refused");
}

const usdcTransfer = (f: SessionFixture, amount: bigint): SessionCall => ({
  target: f.usdc.target as string,
  value: 0n,
  data: f.usdc.interface.encodeFunctionData("transfer", [f.recipient, amount]),
});

describe("sendSessionUserOp's refusals", function () {
  it("an op over what remains of a daily budget is retryable and says when the budget resets; nothing moves", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    await sendAs(f, [usdcTransfer(f, parseUnits("60", 6))]);
    const refusal = await refusalOf(f, [usdcTransfer(f, parseUnits("50", 6))]);
    expect(refusal).to.be.instanceOf(SpendLimitExceededError);
    const [, periodEnd] = await f.spendLimitHook.remainingBudget(f.accountAddress, SESSION_ID, f.usdc.target as string);
    expect(periodEnd > f.now).to.equal(true);
    expect((refusal as SpendLimitExceededError).resetsAt).to.equal(periodEnd);
    expect(refusal.retryable).to.equal(true);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(parseUnits("60", 6));
  });

  it("an op over the whole budget is not retryable (no period will ever allow it), though it says when the budget resets", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    const refusal = await refusalOf(f, [usdcTransfer(f, parseUnits("150", 6))]);
    expect(refusal).to.be.instanceOf(SpendLimitExceededError);
    const [, periodEnd] = await f.spendLimitHook.remainingBudget(f.accountAddress, SESSION_ID, f.usdc.target as string);
    expect((refusal as SpendLimitExceededError).resetsAt).to.equal(periodEnd);
    expect(refusal.retryable).to.equal(false);
  });

  it("an op over a budget that resets only after the session expires is not retryable", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    // The session ends in an hour; its USDC budget's period is a day.
    await (await grantByTransaction(f, typicalSession(f, { validUntil: f.now + 3_600n }))).wait();
    await sendAs(f, [usdcTransfer(f, parseUnits("60", 6))]);
    const refusal = await refusalOf(f, [usdcTransfer(f, parseUnits("50", 6))]);
    expect(refusal).to.be.instanceOf(SpendLimitExceededError);
    expect(refusal.retryable).to.equal(false);
  });

  it("an op over a lifetime budget is not retryable and has no reset time", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const session = typicalSession(f);
    session.budgets[1] = { ...session.budgets[1]!, period: 0n };
    await (await grantByTransaction(f, session)).wait();
    const refusal = await refusalOf(f, [usdcTransfer(f, parseUnits("150", 6))]);
    expect(refusal).to.be.instanceOf(SpendLimitExceededError);
    expect((refusal as SpendLimitExceededError).resetsAt).to.equal(undefined);
    expect(refusal.retryable).to.equal(false);
  });

  it("a session that has not started is SessionNotYetValidError, retryable, with its start; nothing moves", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const validAfter = f.now + 3_600n;
    await (await grantByTransaction(f, typicalSession(f, { validAfter, validUntil: validAfter + DAY }))).wait();
    const refusal = await refusalOf(f, [usdcTransfer(f, parseUnits("1", 6))]);
    expect(refusal).to.be.instanceOf(SessionNotYetValidError);
    expect((refusal as SessionNotYetValidError).validAfter).to.equal(validAfter);
    expect(refusal.retryable).to.equal(true);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
  });

  it("an expired session is SessionExpiredError and not retryable (not taken for one that has not started)", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    await networkHelpers.time.increaseTo(f.now + DAY + 10n);
    const refusal = await refusalOf(f, [usdcTransfer(f, parseUnits("1", 6))]);
    expect(refusal).to.be.instanceOf(SessionExpiredError);
    expect(refusal).to.not.be.instanceOf(SessionNotYetValidError);
    expect(refusal.retryable).to.equal(false);
  });

  it("a call out of scope and over every budget is reported out of scope, before anything is signed; nothing moves", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    const key = sessionNonceKey(f.sessionModule.target as string, SESSION_ID);
    const nonce = await f.entryPoint.getNonce(f.accountAddress, key);
    const before = await ethers.provider.getBalance(f.stranger.address);
    // 0.4 ETH: under the per-call cap; a batch of it with 150 USDC is over the USDC budget, and the stranger is not
    // in scope.
    const refusal = await refusalOf(f, [
      { target: f.stranger.address, value: parseEther("0.4"), data: "0x" },
      usdcTransfer(f, parseUnits("150", 6)),
    ]);
    expect(refusal).to.be.instanceOf(SessionOutOfScopeError);
    expect(refusal.reason).to.equal("checked before signing");
    expect(refusal.message).to.include(f.stranger.address);
    expect(refusal.retryable).to.equal(false);
    expect(await ethers.provider.getBalance(f.stranger.address)).to.equal(before);
    expect(await f.entryPoint.getNonce(f.accountAddress, key)).to.equal(nonce);
  });

  it("refuses before signing a value-moving function the scope does not name, and a value over the per-call cap", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    const approve = f.usdc.interface.encodeFunctionData("approve", [f.stranger.address, 1n]);
    const approval = await refusalOf(f, [{ target: f.usdc.target as string, value: 0n, data: approve }]);
    expect(approval).to.be.instanceOf(SessionOutOfScopeError);
    expect(approval.message).to.include("value-moving");
    const overCap = await refusalOf(f, [{ target: f.recipient, value: parseEther("0.6"), data: "0x" }]);
    expect(overCap).to.be.instanceOf(SessionOutOfScopeError);
    expect(overCap.message).to.include("over the per-call cap");
    expect(await f.usdc.allowance(f.accountAddress, f.stranger.address)).to.equal(0n);
  });

  it("an out-of-scope call on a revoked session is reported revoked, as the chain asks liveness first", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    const revokeAll = f.sessionModule.interface.encodeFunctionData("revokeAll");
    await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revokeAll))).wait();
    const refusal = await refusalOf(f, [{ target: f.stranger.address, value: parseEther("0.01"), data: "0x" }]);
    expect(refusal).to.be.instanceOf(SessionRevokedError);
    expect(refusal.retryable).to.equal(false);
  });

  it("a revoked session stays SessionRevokedError, not retryable", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    const revoke = f.sessionModule.interface.encodeFunctionData("revoke", [SESSION_ID]);
    await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revoke))).wait();
    const refusal = await refusalOf(f, [{ target: f.recipient, value: parseEther("0.01"), data: "0x" }]);
    expect(refusal).to.be.instanceOf(SessionRevokedError);
    expect(refusal.retryable).to.equal(false);
    const [remaining] = await f.spendLimitHook.remainingBudget(f.accountAddress, SESSION_ID, NATIVE_ASSET);
    expect(remaining).to.equal(parseEther("1"));
  });

  it("an op over budget of a revoked session is SessionRevokedError, not a retryable budget refusal; nothing moves", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    await sendAs(f, [usdcTransfer(f, parseUnits("60", 6))]);
    const revoke = f.sessionModule.interface.encodeFunctionData("revoke", [SESSION_ID]);
    await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revoke))).wait();
    // The hook's budget check runs before the module's session check: the chain's reason is the budget.
    const refusal = await refusalOf(f, [usdcTransfer(f, parseUnits("50", 6))]);
    expect(refusal).to.be.instanceOf(SessionRevokedError);
    expect(refusal.message).to.match(
      /was revoked by its owner \(the op was refused: over budget.*\); it accepts no more ops/,
    );
    expect(refusal.retryable).to.equal(false);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(parseUnits("60", 6));
  });

  it("an op over budget after the kill switch is SessionRevokedError naming the kill switch, not retryable", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    await sendAs(f, [usdcTransfer(f, parseUnits("60", 6))]);
    const revokeAll = f.sessionModule.interface.encodeFunctionData("revokeAll");
    await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revokeAll))).wait();
    const refusal = await refusalOf(f, [usdcTransfer(f, parseUnits("50", 6))]);
    expect(refusal).to.be.instanceOf(SessionRevokedError);
    expect(refusal.message).to.match(/was ended by the owner's kill switch/);
    expect(refusal.retryable).to.equal(false);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(parseUnits("60", 6));
  });
});
