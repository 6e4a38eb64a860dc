/**
 * SpendLimitHook's budgets bound what leaves the account, not what calldata says: pulls through standing
 * allowances, callbacks, fallbacks, approvals left standing, batches (THREATS 21, 23), degenerate periods and windows
 * (THREATS 24), and the op-count budget (rate limit). Through the real EntryPoint v0.8, as the agent's user ops.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, Interface, parseUnits, ZeroHash, type BaseContract } from "ethers";

import { NATIVE_ASSET, OPERATIONS_ASSET, SELECTOR_ANY, SELECTOR_NO_CALLDATA } from "../../client/session.js";
import type { UserOperation } from "../../client/userOp.js";
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
  type SessionFixture,
} from "../helpers/sessions.js";
import { opRevertData, opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

const USDC = (amount: string) => parseUnits(amount, 6);
const HOUR = 3_600n;

/** The owner makes the account approve `spender` for `amount` of `token` (a standing allowance). */
async function ownerApproves(f: SessionFixture, token: BaseContract, spender: string, amount: bigint) {
  const approve = f.usdc.interface.encodeFunctionData("approve", [spender, amount]);
  await (await ownerCall(f, executeCall(f, token.target as string, 0n, approve))).wait();
}

async function spent(f: SessionFixture, asset: string): Promise<bigint> {
  return (await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, asset)).spent;
}

/** Sends the op; expects validation to pass and the execution to revert with the hook's `error`. */
async function expectExecutionRefused(f: SessionFixture, op: UserOperation, error: string, args: unknown[]) {
  const receipt = await sendOp(ethers, f.entryPoint, op);
  expect(opSucceeded(f.entryPoint, receipt)).to.equal(false);
  expect(opRevertData(f.entryPoint, receipt)).to.equal(f.spendLimitHook.interface.encodeErrorResult(error, args));
}

async function send(f: SessionFixture, callData: string) {
  const { op } = await sessionOp(f, callData);
  const receipt = await sendOp(ethers, f.entryPoint, op);
  expect(opSucceeded(f.entryPoint, receipt), opRevertData(f.entryPoint, receipt)).to.equal(true);
}

describe("SpendLimitHook outflow accounting", function () {
  describe("pulls through allowances the account already gave (THREATS 21)", function () {
    /** The owner approved an ERC-4626 vault for all 1,000 USDC long ago; the session may deposit (100 USDC/day). */
    async function vaultFixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      const vault = await ethers.deployContract("TestVault", [f.usdc.target]);
      await ownerApproves(f, f.usdc, vault.target as string, USDC("1000"));
      const deposit = vault.interface.getFunction("deposit").selector;
      await (
        await grantByTransaction(
          f,
          typicalSession(f, { scope: [{ target: vault.target as string, selector: deposit }] }),
        )
      ).wait();
      return { ...f, vault };
    }

    /** The owner approved a contract that pulls whatever its caller allows; the session may call it. */
    async function pullerFixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      const puller = await ethers.deployContract("AllowancePuller", [f.usdc.target, f.stranger.address]);
      const transfer = f.usdc.interface.getFunction("transfer").selector;
      const approve = f.usdc.interface.getFunction("approve").selector;
      await (
        await grantByTransaction(
          f,
          typicalSession(f, {
            scope: [
              { target: puller.target as string, selector: puller.interface.getFunction("claimRewards").selector },
              { target: puller.target as string, selector: puller.interface.getFunction("pull").selector },
              { target: f.usdc.target as string, selector: transfer },
              { target: f.usdc.target as string, selector: approve },
            ],
          }),
        )
      ).wait();
      return { ...f, puller };
    }

    it("T21: refuses a vault deposit that pulls the account's 1,000 USDC to the agent through the owner's old approval, and nothing moves", async function () {
      const f = await networkHelpers.loadFixture(vaultFixture);
      const deposit = f.vault.interface.encodeFunctionData("deposit", [USDC("1000"), f.agent.address]);
      const { op } = await sessionOp(f, executeCall(f, f.vault.target as string, 0n, deposit));
      await expectExecutionRefused(f, op, "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        USDC("1000"),
        USDC("100"),
      ]);
      expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(USDC("1000"));
      expect(await f.vault.balanceOf(f.agent.address)).to.equal(0n);
      expect(await spent(f, f.usdc.target as string)).to.equal(0n);
    });

    it("T21: charges a vault deposit within the budget as what the vault pulled", async function () {
      const f = await networkHelpers.loadFixture(vaultFixture);
      const deposit = f.vault.interface.encodeFunctionData("deposit", [USDC("60"), f.agent.address]);
      await send(f, executeCall(f, f.vault.target as string, 0n, deposit));
      expect(await spent(f, f.usdc.target as string)).to.equal(USDC("60"));
      expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(USDC("940"));
      expect(await f.vault.balanceOf(f.agent.address)).to.equal(USDC("60"));
    });

    it("T21: refuses a scoped contract that pulls the account's tokens through a standing allowance when called, and nothing moves", async function () {
      const f = await networkHelpers.loadFixture(pullerFixture);
      await ownerApproves(f, f.usdc, f.puller.target as string, USDC("1000"));
      const claim = f.puller.interface.encodeFunctionData("claimRewards");
      const { op } = await sessionOp(f, executeCall(f, f.puller.target as string, 0n, claim));
      await expectExecutionRefused(f, op, "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        USDC("1000"),
        USDC("100"),
      ]);
      expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(USDC("1000"));
      expect(await f.usdc.balanceOf(f.stranger.address)).to.equal(0n);
    });

    it("T21: counts pulls and transfers of one batch together, and refuses the batch whose sum is over the budget", async function () {
      const f = await networkHelpers.loadFixture(pullerFixture);
      await ownerApproves(f, f.usdc, f.puller.target as string, USDC("1000"));
      const batch = f.account.interface.encodeFunctionData("executeBatch", [
        [
          { target: f.usdc.target as string, value: 0n, data: usdcTransfer(f, f.recipient, USDC("50")) },
          {
            target: f.puller.target as string,
            value: 0n,
            data: f.puller.interface.encodeFunctionData("pull", [USDC("51")]),
          },
        ],
      ]);
      const { op } = await sessionOp(f, batch);
      // Validation recorded the declared 50; the pull of 51 is charged at execution, over the 50 that remain.
      await expectExecutionRefused(f, op, "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        USDC("51"),
        USDC("50"),
      ]);
      expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(USDC("1000"));
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
    });

    it("T21: charges a pull through an allowance another session paid for to the session that pulls", async function () {
      const f = await networkHelpers.loadFixture(pullerFixture);
      // Session 1 approves the puller for 80 USDC (charged to session 1 as an allowance left standing).
      const approve = f.usdc.interface.encodeFunctionData("approve", [f.puller.target, USDC("80")]);
      await send(f, executeCall(f, f.usdc.target as string, 0n, approve));
      expect(await spent(f, f.usdc.target as string)).to.equal(USDC("80"));
      // Session 2 may only call the puller, with 50 USDC a day: pulling the 80 is refused, 50 is charged to it.
      const second = typicalSession(f, {
        sessionId: 2,
        scope: [{ target: f.puller.target as string, selector: f.puller.interface.getFunction("pull").selector }],
        budgets: [
          { asset: NATIVE_ASSET, limit: parseUnits("1", 18), period: DAY, perCallCap: 0n },
          { asset: f.usdc.target as string, limit: USDC("50"), period: DAY, perCallCap: 0n },
        ],
      });
      await (await grantByTransaction(f, second)).wait();
      const pull = (amount: bigint) => f.puller.interface.encodeFunctionData("pull", [amount]);
      const over = (
        await sessionOp(f, executeCall(f, f.puller.target as string, 0n, pull(USDC("80"))), { sessionId: 2 })
      ).op;
      const receipt = await sendOp(ethers, f.entryPoint, over);
      expect(opRevertData(f.entryPoint, receipt)).to.equal(
        f.spendLimitHook.interface.encodeErrorResult("SpendLimitExceeded", [
          f.accountAddress,
          2,
          f.usdc.target,
          USDC("80"),
          USDC("50"),
        ]),
      );
      const within = (
        await sessionOp(f, executeCall(f, f.puller.target as string, 0n, pull(USDC("50"))), { sessionId: 2 })
      ).op;
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, within))).to.equal(true);
      expect((await f.spendLimitHook.getBudget(f.accountAddress, 2, f.usdc.target as string)).spent).to.equal(
        USDC("50"),
      );
      expect(await f.usdc.balanceOf(f.stranger.address)).to.equal(USDC("50"));
    });

    it("T21: charges an approval its spender uses in the same op once, as what left the account", async function () {
      const f = await networkHelpers.loadFixture(pullerFixture);
      const batch = f.account.interface.encodeFunctionData("executeBatch", [
        [
          {
            target: f.usdc.target as string,
            value: 0n,
            data: f.usdc.interface.encodeFunctionData("approve", [f.puller.target, USDC("60")]),
          },
          {
            target: f.puller.target as string,
            value: 0n,
            data: f.puller.interface.encodeFunctionData("pull", [USDC("60")]),
          },
        ],
      ]);
      await send(f, batch);
      expect(await spent(f, f.usdc.target as string)).to.equal(USDC("60"));
      expect(await f.usdc.allowance(f.accountAddress, f.puller.target)).to.equal(0n);
    });

    it("T21: never credits an approval against another spender's pull: approve the stranger 100 and pull 100 through a standing allowance is refused, and nothing moves", async function () {
      const f = await networkHelpers.loadFixture(pullerFixture);
      await ownerApproves(f, f.usdc, f.puller.target as string, USDC("1000"));
      const batch = f.account.interface.encodeFunctionData("executeBatch", [
        [
          {
            target: f.usdc.target as string,
            value: 0n,
            data: f.usdc.interface.encodeFunctionData("approve", [f.stranger.address, USDC("100")]),
          },
          {
            target: f.puller.target as string,
            value: 0n,
            data: f.puller.interface.encodeFunctionData("pull", [USDC("100")]),
          },
        ],
      ]);
      const { op } = await sessionOp(f, batch);
      // Validation recorded the approval (100); the pull is 100 more, which the approval does not cover.
      await expectExecutionRefused(f, op, "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        USDC("100"),
        0n,
      ]);
      expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(USDC("1000"));
      expect(await f.usdc.allowance(f.accountAddress, f.stranger.address)).to.equal(0n);
    });

    it("T21: credits an increaseAllowance over a standing allowance only with what exceeds the standing part", async function () {
      const f = await networkHelpers.loadFixture(pullerFixture);
      await ownerApproves(f, f.usdc, f.puller.target as string, USDC("30"));
      const increase = f.usdc.interface.getFunction("increaseAllowance").selector;
      await (
        await grantByTransaction(
          f,
          typicalSession(f, {
            sessionId: SESSION_ID + 1,
            scope: [
              { target: f.puller.target as string, selector: f.puller.interface.getFunction("pull").selector },
              { target: f.usdc.target as string, selector: increase },
            ],
          }),
        )
      ).wait();
      const batch = f.account.interface.encodeFunctionData("executeBatch", [
        [
          {
            target: f.usdc.target as string,
            value: 0n,
            data: f.usdc.interface.encodeFunctionData("increaseAllowance", [f.puller.target, USDC("20")]),
          },
          {
            target: f.puller.target as string,
            value: 0n,
            data: f.puller.interface.encodeFunctionData("pull", [USDC("50")]),
          },
        ],
      ]);
      const { op } = await sessionOp(f, batch, { sessionId: SESSION_ID + 1 });
      const receipt = await sendOp(ethers, f.entryPoint, op);
      expect(opSucceeded(f.entryPoint, receipt), opRevertData(f.entryPoint, receipt)).to.equal(true);
      // 50 left: 20 of the increase (recorded in validation) and the owner's standing 30 (charged at execution).
      expect((await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID + 1, f.usdc.target)).spent).to.equal(
        USDC("50"),
      );
    });

    it("T21: charges the part of an approval left standing after the op, since its spender can pull it later", async function () {
      const f = await networkHelpers.loadFixture(pullerFixture);
      const batch = f.account.interface.encodeFunctionData("executeBatch", [
        [
          {
            target: f.usdc.target as string,
            value: 0n,
            data: f.usdc.interface.encodeFunctionData("approve", [f.puller.target, USDC("60")]),
          },
          {
            target: f.puller.target as string,
            value: 0n,
            data: f.puller.interface.encodeFunctionData("pull", [USDC("20")]),
          },
        ],
      ]);
      await send(f, batch);
      // 20 pulled + 40 still approved.
      expect(await spent(f, f.usdc.target as string)).to.equal(USDC("60"));
      expect(await f.usdc.allowance(f.accountAddress, f.puller.target)).to.equal(USDC("40"));
    });

    it("T21: refuses an execution whose measured outflow is over the per-call cap, and nothing moves", async function () {
      const f = await networkHelpers.loadFixture(pullerFixture);
      const setCap = f.spendLimitHook.interface.encodeFunctionData("setBudget", [
        SESSION_ID,
        f.usdc.target as string,
        USDC("100"),
        DAY,
        USDC("50"),
        false,
      ]);
      await (await ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, setCap))).wait();
      await ownerApproves(f, f.usdc, f.puller.target as string, USDC("60"));
      const claim = f.puller.interface.encodeFunctionData("claimRewards");
      const { op } = await sessionOp(f, executeCall(f, f.puller.target as string, 0n, claim));
      await expectExecutionRefused(f, op, "SpendLimitPerCallCapExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        USDC("60"),
        USDC("50"),
      ]);
      expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(USDC("1000"));
    });
  });

  describe("inflows during the op cannot mask what leaves (THREATS 21)", function () {
    /** A faucet (standing for a swap's output or a reward) that pays the account 1,000 USDC on request. */
    async function faucetFixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      const faucet = await ethers.deployContract("TestFaucet", [f.usdc.target]);
      await (await f.usdc.mint(faucet.target as string, USDC("1000"))).wait();
      const puller = await ethers.deployContract("AllowancePuller", [f.usdc.target, f.stranger.address]);
      await ownerApproves(f, f.usdc, puller.target as string, USDC("1000"));
      const scope = [
        { target: faucet.target as string, selector: faucet.interface.getFunction("drip").selector },
        { target: puller.target as string, selector: puller.interface.getFunction("pull").selector },
        { target: f.usdc.target as string, selector: f.usdc.interface.getFunction("transfer").selector },
      ];
      await (await grantByTransaction(f, typicalSession(f, { scope }))).wait();
      return { ...f, faucet, puller };
    }
    const drip = (f: Awaited<ReturnType<typeof faucetFixture>>, amount: bigint) => ({
      target: f.faucet.target as string,
      value: 0n,
      data: f.faucet.interface.encodeFunctionData("drip", [amount]),
    });

    it("T21: charges a transfer out even when the same op brings the amount in first", async function () {
      const f = await networkHelpers.loadFixture(faucetFixture);
      const usdc = f.usdc.target as string;
      const batch = f.account.interface.encodeFunctionData("executeBatch", [
        [drip(f, USDC("100")), { target: usdc, value: 0n, data: usdcTransfer(f, f.agent.address, USDC("100")) }],
      ]);
      await send(f, batch);
      expect(await spent(f, usdc)).to.equal(USDC("100"));
      // The same again: its declared transfer is over what remains, refused before it runs.
      const { op } = await sessionOp(f, batch);
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.spendLimitHook.interface.encodeErrorResult("SpendLimitExceeded", [
            f.accountAddress,
            SESSION_ID,
            usdc,
            USDC("100"),
            0n,
          ]),
        );
      expect(await f.usdc.balanceOf(f.agent.address)).to.equal(USDC("100"));
    });

    it("T21: charges a pull through a standing allowance even when the same op brings the amount in first", async function () {
      const f = await networkHelpers.loadFixture(faucetFixture);
      const usdc = f.usdc.target as string;
      const pull = (amount: bigint) => ({
        target: f.puller.target as string,
        value: 0n,
        data: f.puller.interface.encodeFunctionData("pull", [amount]),
      });
      const batch = f.account.interface.encodeFunctionData("executeBatch", [[drip(f, USDC("100")), pull(USDC("100"))]]);
      await send(f, batch);
      expect(await spent(f, usdc)).to.equal(USDC("100"));
      const { op } = await sessionOp(f, batch);
      await expectExecutionRefused(f, op, "SpendLimitExceeded", [f.accountAddress, SESSION_ID, usdc, USDC("100"), 0n]);
      expect(await f.usdc.balanceOf(f.stranger.address)).to.equal(USDC("100"));
    });
  });

  describe("Permit2 allowances a session sets (THREATS 21)", function () {
    const PERMIT2_APPROVE = "approve(address,address,uint160,uint48)";
    const permit2 = new Interface([`function ${PERMIT2_APPROVE}`]);

    /** The session may call Permit2's `approve` by name (a stand-in contract at Permit2's place); 100 USDC a day. */
    async function permit2Fixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      const stand = await ethers.deployContract("ReentrantTarget");
      const selector = permit2.getFunction("approve")!.selector;
      const session = typicalSession(f, { scope: [{ target: stand.target as string, selector }] });
      await (await grantByTransaction(f, session)).wait();
      return { ...f, permit2: stand.target as string };
    }
    const approve = (f: SessionFixture & { permit2: string }, token: string, amount: bigint) =>
      executeCall(f, f.permit2, 0n, permit2.encodeFunctionData("approve", [token, f.agent.address, amount, 2n ** 40n]));

    it("T21: charges a Permit2 approve of a budgeted token to that token's budget, since its spender can pull later", async function () {
      const f = await networkHelpers.loadFixture(permit2Fixture);
      await send(f, approve(f, f.usdc.target as string, USDC("60")));
      expect(await spent(f, f.usdc.target as string)).to.equal(USDC("60"));
    });

    it("T21: refuses a Permit2 approve over the token's remaining budget, before anything runs", async function () {
      const f = await networkHelpers.loadFixture(permit2Fixture);
      const { op } = await sessionOp(f, approve(f, f.usdc.target as string, USDC("150")));
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.spendLimitHook.interface.encodeErrorResult("SpendLimitExceeded", [
            f.accountAddress,
            SESSION_ID,
            f.usdc.target,
            USDC("150"),
            USDC("100"),
          ]),
        );
      expect(await spent(f, f.usdc.target as string)).to.equal(0n);
    });

    it("T21: refuses a Permit2 approve whose token word has dirty high bits", async function () {
      const f = await networkHelpers.loadFixture(permit2Fixture);
      const clean = permit2.encodeFunctionData("approve", [f.usdc.target, f.agent.address, USDC("60"), 2n ** 40n]);
      // The token word's first byte set: Permit2 would read the budgeted token, a naive key another asset.
      const dirty = clean.slice(0, 10) + "ff" + clean.slice(12);
      const { op } = await sessionOp(f, executeCall(f, f.permit2, 0n, dirty));
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.spendLimitHook.interface.encodeErrorResult("SpendLimitTokenCallRefused", [f.permit2, clean.slice(0, 10)]),
        );
    });

    it("charges nothing for a Permit2 approve of a token without a budget, which the owner named", async function () {
      const f = await networkHelpers.loadFixture(permit2Fixture);
      const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
      await send(f, approve(f, other.target as string, USDC("500")));
      expect(await spent(f, f.usdc.target as string)).to.equal(0n);
    });

    it("charges a Permit2 approve naming the op-count pseudo-asset as its token nothing beyond the op itself", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const stand = await ethers.deployContract("ReentrantTarget");
      const base = typicalSession(f);
      const session = typicalSession(f, {
        scope: [{ target: stand.target as string, selector: permit2.getFunction("approve")!.selector }],
        budgets: [...base.budgets, { asset: OPERATIONS_ASSET, limit: 20n, period: DAY, perCallCap: 0n }],
      });
      await (await grantByTransaction(f, session)).wait();
      await send(f, approve({ ...f, permit2: stand.target as string }, OPERATIONS_ASSET, 5n));
      expect(await spent(f, OPERATIONS_ASSET)).to.equal(1n);
    });
  });

  describe("calls to a budgeted token that are not a recognised spend (THREATS 23)", function () {
    it("T23: refuses calldata of 1 to 3 bytes to a budgeted token, even under a wildcard scope", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      await (
        await grantByTransaction(
          f,
          typicalSession(f, { scope: [{ target: f.usdc.target as string, selector: SELECTOR_ANY }] }),
        )
      ).wait();
      for (const data of ["0x01", "0x0102", "0xa9059c"]) {
        const { op } = await sessionOp(f, executeCall(f, f.usdc.target as string, 0n, data));
        await expect(sendOp(ethers, f.entryPoint, op))
          .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
          .withArgs(
            0n,
            "AA23 reverted",
            f.spendLimitHook.interface.encodeErrorResult("SpendLimitTokenCallRefused", [
              f.usdc.target,
              ethers.zeroPadBytes(data, 4),
            ]),
          );
      }
      expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(USDC("1000"));
    });

    it("T23: charges what a budgeted token's fallback takes on a plain call, and refuses it over the budget", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const token = await ethers.deployContract("DrainingFallbackToken", [f.stranger.address]);
      await (await token.mint(f.accountAddress, USDC("1000"))).wait();
      await (
        await grantByTransaction(
          f,
          typicalSession(f, {
            scope: [{ target: token.target as string, selector: SELECTOR_NO_CALLDATA }],
            budgets: [
              { asset: NATIVE_ASSET, limit: parseUnits("1", 18), period: DAY, perCallCap: 0n },
              { asset: token.target as string, limit: USDC("100"), period: DAY, perCallCap: 0n },
            ],
          }),
        )
      ).wait();
      const { op } = await sessionOp(f, executeCall(f, token.target as string, 0n, "0x"));
      await expectExecutionRefused(f, op, "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        token.target,
        USDC("1000"),
        USDC("100"),
      ]);
      expect(await token.balanceOf(f.accountAddress)).to.equal(USDC("1000"));
      expect(await token.balanceOf(f.stranger.address)).to.equal(0n);
    });
  });

  describe("degenerate periods and windows (THREATS 24)", function () {
    it("T24: refuses a budget period shorter than MIN_PERIOD (an hour) at grant, and installs nothing", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      for (const period of [1n, HOUR - 1n]) {
        const session = typicalSession(f, {
          budgets: [{ asset: NATIVE_ASSET, limit: parseUnits("1", 18), period, perCallCap: 0n }],
        });
        await expect(grantByTransaction(f, session))
          .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitPeriodOutOfRange")
          .withArgs(period);
      }
      expect(await f.spendLimitHook.generationOf(f.accountAddress, SESSION_ID)).to.equal(0n);
    });

    it("T24: refuses an op charged to the first period of a session valid from time 0: its window ends in the past, not never", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      await (
        await grantByTransaction(
          f,
          typicalSession(f, {
            validAfter: 0n,
            budgets: [{ asset: NATIVE_ASSET, limit: parseUnits("1", 18), period: HOUR, perCallCap: 0n }],
          }),
        )
      ).wait();
      // No time hint: the op is charged to the recorded period [0, 3600), whose validUntil is 3599.
      const { op } = await sessionOp(f, executeCall(f, f.recipient, 1n));
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOp")
        .withArgs(0n, "AA22 expired or not due");
      expect(await spent(f, NATIVE_ASSET)).to.equal(0n);
    });

    it("T24: returns validUntil = MIN_PERIOD - 1 for the first period from time 0, never 0 (which means no end)", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const install = AbiCoder.defaultAbiCoder().encode(
        ["uint32", "uint48", "address[]", "uint256[]", "uint48[]", "uint256[]", "address[]"],
        [1, 0, [NATIVE_ASSET], [parseUnits("1", 18)], [HOUR], [0n], []],
      );
      await (await f.spendLimitHook.connect(f.stranger).onInstall(install)).wait();
      const op = {
        sender: f.stranger.address,
        nonce: 0n,
        initCode: "0x",
        callData: f.account.interface.encodeFunctionData("execute", [f.recipient, 1n, "0x"]),
        accountGasLimits: ZeroHash,
        preVerificationGas: 0n,
        gasFees: ZeroHash,
        paymasterAndData: "0x",
        signature: "0x",
      };
      const validationData = await f.spendLimitHook
        .connect(f.stranger)
        .preUserOpValidationHook.staticCall(1, op, ZeroHash);
      const validUntil = (validationData >> 160n) & (2n ** 48n - 1n);
      const validAfter = validationData >> 208n;
      expect([validAfter, validUntil]).to.deep.equal([0n, HOUR - 1n]);
    });
  });

  describe("rate limit: an op-count budget", function () {
    async function rateFixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      const session = typicalSession(f);
      session.budgets.push({ asset: OPERATIONS_ASSET, limit: 2n, period: DAY, perCallCap: 0n });
      await (await grantByTransaction(f, session)).wait();
      return f;
    }
    const pay = (f: SessionFixture) => executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, 1n));

    it("refuses the op beyond the session's op count in a period, before anything runs", async function () {
      const f = await networkHelpers.loadFixture(rateFixture);
      await send(f, pay(f));
      await send(f, pay(f));
      const { op } = await sessionOp(f, pay(f));
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.spendLimitHook.interface.encodeErrorResult("SpendLimitExceeded", [
            f.accountAddress,
            SESSION_ID,
            OPERATIONS_ASSET,
            1n,
            0n,
          ]),
        );
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(2n);
    });

    it("counts ops again from the next period", async function () {
      const f = await networkHelpers.loadFixture(rateFixture);
      await send(f, pay(f));
      await send(f, pay(f));
      // The next period starts a day after the session's validAfter (f.now - 10), inside the session's day.
      const time = f.now - 10n + DAY + 1n;
      await networkHelpers.time.setNextBlockTimestamp(time);
      const { op } = await sessionOp(f, pay(f), { timeHint: time });
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
      expect(await spent(f, OPERATIONS_ASSET)).to.equal(1n);
    });

    it("counts an op whose execution reverts", async function () {
      const f = await networkHelpers.loadFixture(rateFixture);
      const failing = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, ethers.ZeroAddress, 1n));
      const { op } = await sessionOp(f, failing);
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(false);
      expect(await spent(f, OPERATIONS_ASSET)).to.equal(1n);
    });
  });
});
