/**
 * client/errors.ts: every kind of refusal an agent meets decodes into its typed error, with the figures it needs.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { Interface, parseEther, parseUnits } from "ethers";

import {
  decodeUserOpRefusal,
  UserOpRefusedError,
  SessionExpiredError,
  SessionOutOfScopeError,
  SessionRevokedError,
  SessionSignatureError,
  SpendLimitExceededError,
} from "../../client/errors.js";
import {
  DAY,
  executeCall,
  grantByTransaction,
  ownerCall,
  SESSION_ID,
  sessionFixture,
  sessionOp,
  typicalSession,
  usdcTransfer,
} from "../helpers/sessions.js";
import { sendOp } from "../helpers/userOps.js";
import {
  EntryPoint__factory,
  SessionKeyValidationModule__factory,
  SpendLimitHook__factory,
} from "../../typechain-types/index.js";

const { ethers, networkHelpers } = await network.create();

async function grantedFixture() {
  const f = await sessionFixture(ethers, networkHelpers);
  await (await grantByTransaction(f, typicalSession(f))).wait();
  return f;
}

/** What handleOps threw for `op` (the test fails if it did not throw). */
async function refusalOf(f: Awaited<ReturnType<typeof grantedFixture>>, op: Parameters<typeof sendOp>[2]) {
  try {
    await sendOp(ethers, f.entryPoint, op);
  } catch (error) {
    return decodeUserOpRefusal(error);
  }
  throw new Error("the op was not refused");
}

describe("decodeUserOpRefusal", function () {
  it("decodes an out-of-scope call into SessionOutOfScopeError", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { op } = await sessionOp(f, executeCall(f, f.stranger.address, parseEther("0.01")));
    const refusal = await refusalOf(f, op);
    expect(refusal).to.be.instanceOf(SessionOutOfScopeError);
    expect(refusal?.message).to.contain(f.stranger.address);
  });

  it("decodes an over-budget op into SpendLimitExceededError with the amount and what remains", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const amount = parseUnits("150", 6);
    const { op } = await sessionOp(
      f,
      executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, amount)),
    );
    const refusal = await refusalOf(f, op);
    expect(refusal).to.be.instanceOf(SpendLimitExceededError);
    const exceeded = refusal as SpendLimitExceededError;
    expect([exceeded.asset, exceeded.requested, exceeded.remaining]).to.deep.equal([
      f.usdc.target,
      amount,
      parseUnits("100", 6),
    ]);
  });

  it("decodes an expired session into SessionExpiredError", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    await networkHelpers.time.increaseTo(f.now + DAY + 1n);
    const { op } = await sessionOp(f, executeCall(f, f.recipient, parseEther("0.01")), { timeHint: f.now + DAY + 2n });
    expect(await refusalOf(f, op)).to.be.instanceOf(SessionExpiredError);
  });

  it("decodes a revoked session and a pulled kill switch into SessionRevokedError", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const revokeAll = f.sessionModule.interface.encodeFunctionData("revokeAll");
    await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revokeAll))).wait();
    const { op } = await sessionOp(f, executeCall(f, f.recipient, parseEther("0.01")));
    const refusal = await refusalOf(f, op);
    expect(refusal).to.be.instanceOf(SessionRevokedError);
    expect(refusal?.details?.args.toArray()).to.deep.equal([f.accountAddress, BigInt(SESSION_ID)]);
  });

  it("decodes a signature by another key into SessionSignatureError", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { op } = await sessionOp(f, executeCall(f, f.recipient, parseEther("0.01")), { signer: f.stranger });
    expect(await refusalOf(f, op)).to.be.instanceOf(SessionSignatureError);
  });

  /** What a provider throws for handleOps when the account reverted with `inner` (FailedOpWithRevert). */
  function failedOpWithRevert(inner: string) {
    const data = EntryPoint__factory.createInterface().encodeErrorResult("FailedOpWithRevert", [
      0n,
      "AA23 reverted",
      inner,
    ]);
    return Object.assign(new Error("execution reverted"), { data });
  }
  const revoked = SessionKeyValidationModule__factory.createInterface().encodeErrorResult("SessionRevokedError", [
    "0x000000000000000000000000000000000000dEaD",
    3n,
  ]);

  it("finds the module's refusal inside an account's (bytes24 moduleFunction, bytes reason) wrapper error (Alchemy MAv2)", function () {
    const wrapper = new Interface([
      "error UserOpValidationFunctionReverted(bytes24 moduleFunction, bytes revertReason)",
    ]);
    const wrapped = wrapper.encodeErrorResult("UserOpValidationFunctionReverted", [`0x${"ab".repeat(24)}`, revoked]);
    const refusal = decodeUserOpRefusal(failedOpWithRevert(wrapped));
    expect(refusal).to.be.instanceOf(SessionRevokedError);
    expect(refusal?.details?.args.toArray()).to.deep.equal(["0x000000000000000000000000000000000000dEaD", 3n]);
    expect(refusal?.revertData).to.equal(wrapped);
  });

  it("finds it through two wrappers, the outer one (address module, bytes reason)", function () {
    const wrappers = new Interface([
      "error PreUserOpValidationHookReverted(bytes24 moduleFunction, bytes revertReason)",
      "error ModuleCallFailed(address module, bytes revertReason)",
    ]);
    const inner = wrappers.encodeErrorResult("PreUserOpValidationHookReverted", [`0x${"cd".repeat(24)}`, revoked]);
    const outer = wrappers.encodeErrorResult("ModuleCallFailed", ["0x000000000000000000000000000000000000bEEF", inner]);
    expect(decodeUserOpRefusal(failedOpWithRevert(outer))).to.be.instanceOf(SessionRevokedError);
  });

  it("finds it inside the reference rc.6's (address module, uint32 entityId, bytes reason) wrapper", function () {
    const wrapper = new Interface([
      "error RuntimeValidationFunctionReverted(address module, uint32 entityId, bytes revertReason)",
    ]);
    const wrapped = wrapper.encodeErrorResult("RuntimeValidationFunctionReverted", [
      "0x000000000000000000000000000000000000bEEF",
      7,
      revoked,
    ]);
    expect(decodeUserOpRefusal(failedOpWithRevert(wrapped))).to.be.instanceOf(SessionRevokedError);
  });

  it("reports the spend-limit hook's refusals of a call (a module or EntryPoint target, a budgeted token's function) as out of scope", function () {
    const hook = SpendLimitHook__factory.createInterface();
    const forbidden = hook.encodeErrorResult("SpendLimitForbiddenCall", ["0x000000000000000000000000000000000000bEEF"]);
    const token = hook.encodeErrorResult("SpendLimitTokenCallRefused", [
      "0x000000000000000000000000000000000000dEaD",
      "0x095ea7b3",
    ]);
    const first = decodeUserOpRefusal(failedOpWithRevert(forbidden));
    expect(first).to.be.instanceOf(SessionOutOfScopeError);
    expect(first?.message).to.include("0x000000000000000000000000000000000000bEEF");
    expect(first?.retryable).to.equal(false);
    const second = decodeUserOpRefusal(failedOpWithRevert(token));
    expect(second).to.be.instanceOf(SessionOutOfScopeError);
    expect(second?.message).to.include("0x095ea7b3");
  });

  it("leaves an unknown wrapper of unknown data as a plain UserOpRefusedError with the raw data", function () {
    const wrapper = new Interface(["error Wrapped(bytes24 moduleFunction, bytes revertReason)"]);
    const wrapped = wrapper.encodeErrorResult("Wrapped", [`0x${"ab".repeat(24)}`, "0x12345678"]);
    const refusal = decodeUserOpRefusal(failedOpWithRevert(wrapped));
    expect(refusal?.constructor).to.equal(UserOpRefusedError);
    expect(refusal?.revertData).to.equal(wrapped);
  });

  it("returns undefined for an error that is not a refusal", function () {
    expect(decodeUserOpRefusal(new Error("network down"))).to.equal(undefined);
  });
});
