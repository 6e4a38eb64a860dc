/**
 * client/actions.ts: sending an op straight to the EntryPoint, and reading a session's status and budgets.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { parseEther, parseUnits, ZeroAddress } from "ethers";

import { getSessionStatus, sendUserOpDirect } from "../../client/actions.js";
import { SpendLimitExceededError } from "../../client/errors.js";
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

const { ethers, networkHelpers } = await network.create();

async function grantedFixture() {
  const f = await sessionFixture(ethers, networkHelpers);
  await (await grantByTransaction(f, typicalSession(f))).wait();
  const [, , , bundler] = await ethers.getSigners();
  return { ...f, bundler: bundler! };
}

describe("client actions", function () {
  describe("sendUserOpDirect", function () {
    it("sends the agent's op and reports its execution's success", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, parseEther("0.01")));
      const result = await sendUserOpDirect({ entryPoint: f.entryPoint, submitter: f.bundler, op });
      expect([result.success, result.revertData]).to.deep.equal([true, undefined]);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(parseEther("0.01"));
    });

    it("throws the typed refusal of an over-budget op", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const call = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, parseUnits("101", 6)));
      const { op } = await sessionOp(f, call);
      const thrown = await sendUserOpDirect({ entryPoint: f.entryPoint, submitter: f.bundler, op }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(thrown).to.be.instanceOf(SpendLimitExceededError);
      expect((thrown as SpendLimitExceededError).requested).to.equal(parseUnits("101", 6));
    });

    it("reports an execution that reverted, with its revert data", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const failing = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, ZeroAddress, 1n));
      const { op } = await sessionOp(f, failing);
      const result = await sendUserOpDirect({ entryPoint: f.entryPoint, submitter: f.bundler, op });
      expect(result.success).to.equal(false);
      expect(result.revertData).to.equal(f.usdc.interface.encodeErrorResult("ERC20InvalidReceiver", [ZeroAddress]));
    });
  });

  describe("getSessionStatus", function () {
    it("shows a live session with what remains of each budget this period", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const call = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, parseUnits("30", 6)));
      await sendUserOpDirect({ entryPoint: f.entryPoint, submitter: f.bundler, op: (await sessionOp(f, call)).op });
      const status = await getSessionStatus({
        sessionModule: f.sessionModule,
        spendLimitHook: f.spendLimitHook,
        account: f.accountAddress,
        sessionId: SESSION_ID,
        assets: [f.usdc.target as string],
      });
      const session = typicalSession(f);
      expect([status.agent, status.live, status.revoked, status.killed]).to.deep.equal([
        f.agent.address,
        true,
        false,
        false,
      ]);
      expect(status.budgets).to.deep.equal([
        {
          asset: f.usdc.target,
          limit: parseUnits("100", 6),
          remaining: parseUnits("70", 6),
          period: DAY,
          resetsAt: session.validAfter + DAY,
          perCallCap: 0n,
        },
      ]);
    });

    it("shows a session granted before the kill switch as killed and not live", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const revokeAll = f.sessionModule.interface.encodeFunctionData("revokeAll");
      await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revokeAll))).wait();
      const status = await getSessionStatus({
        sessionModule: f.sessionModule,
        spendLimitHook: f.spendLimitHook,
        account: f.accountAddress,
        sessionId: SESSION_ID,
        assets: [],
      });
      expect([status.live, status.killed, status.revoked]).to.deep.equal([false, true, false]);
    });

    it("says what to check when the session does not exist", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const failure = await getSessionStatus({
        sessionModule: f.sessionModule,
        spendLimitHook: f.spendLimitHook,
        account: f.accountAddress,
        sessionId: 99,
        assets: [],
      }).then(
        () => "",
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      expect(failure).to.match(/has no session 99; check the id/);
    });
  });
});
