/**
 * SpendLimitHook through the real EntryPoint v0.8, attached to session validations. Test names starting with
 * "T<n>" are the named regression tests of ../shared/THREATS.md item n.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, parseEther, parseUnits, toBeHex, ZeroAddress, zeroPadValue } from "ethers";

import { encodeModuleEntity, encodeValidationSignature } from "../../client/encoding.js";
import { NATIVE_ASSET, SELECTOR_ANY, SPONSORED_FEE_ASSET, SPONSORED_GAS_ASSET } from "../../client/session.js";
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
import { opSucceeded, sendOp, TEST_GAS } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

const PAY = parseEther("0.01");
/** What a session that may use a paymaster needs: a sponsored-gas budget and a fee cap (100 gwei). */
const SPONSORED_BUDGETS = [
  { asset: SPONSORED_GAS_ASSET, limit: parseEther("0.1"), period: DAY, perCallCap: 0n },
  { asset: SPONSORED_FEE_ASSET, limit: 100_000_000_000n, period: 0n, perCallCap: 0n },
];
const USDC = (amount: string) => parseUnits(amount, 6);
/** The most an op of TEST_GAS can cost the account: the EntryPoint's prefund. */
const MAX_GAS_COST =
  (TEST_GAS.verificationGasLimit + TEST_GAS.callGasLimit + TEST_GAS.preVerificationGas) * TEST_GAS.maxFeePerGas;

async function grantedFixture() {
  const f = await sessionFixture(ethers, networkHelpers);
  await (await grantByTransaction(f, typicalSession(f))).wait();
  return f;
}

async function expectRefused(f: SessionFixture, op: UserOperation, error: string, args: unknown[]) {
  const contract = [f.spendLimitHook, f.sessionModule, f.account].find((c) => c.interface.getError(error) !== null);
  if (contract === undefined) throw new Error(`no contract declares ${error}`);
  await expect(sendOp(ethers, f.entryPoint, op))
    .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
    .withArgs(0n, "AA23 reverted", contract.interface.encodeErrorResult(error, args));
}

async function spent(f: SessionFixture, asset: string, sessionId = SESSION_ID): Promise<bigint> {
  return (await f.spendLimitHook.getBudget(f.accountAddress, sessionId, asset)).spent;
}

async function payUsdc(f: SessionFixture, amount: bigint, options: Parameters<typeof sessionOp>[2] = {}) {
  const { op } = await sessionOp(
    f,
    executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, amount)),
    options,
  );
  return op;
}

function usdcBatch(f: SessionFixture, amounts: bigint[]): string {
  return f.account.interface.encodeFunctionData("executeBatch", [
    amounts.map((amount) => ({
      target: f.usdc.target as string,
      value: 0n,
      data: usdcTransfer(f, f.recipient, amount),
    })),
  ]);
}

describe("SpendLimitHook", function () {
  describe("accounting", function () {
    it("installs the session's budgets, anchored at validAfter, and emits BudgetSet for each", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const session = typicalSession(f);
      const budget = await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, f.usdc.target as string);
      expect([budget.limit, budget.spent, budget.periodStart, budget.periodLength, budget.perCallCap]).to.deep.equal([
        USDC("100"),
        0n,
        session.validAfter,
        DAY,
        0n,
      ]);
    });

    it("charges the value plus the op's maximum gas cost to the native budget", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
      expect(await spent(f, NATIVE_ASSET)).to.equal(PAY + MAX_GAS_COST);
    });

    it("charges an ERC-20 transfer to the token's budget and the gas to the native budget", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const receipt = await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("40")));
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
      expect(await spent(f, f.usdc.target as string)).to.equal(USDC("40"));
      expect(await spent(f, NATIVE_ASSET)).to.equal(MAX_GAS_COST);
      expect(
        (await f.spendLimitHook.remainingBudget(f.accountAddress, SESSION_ID, f.usdc.target as string))[0],
      ).to.equal(USDC("60"));
    });

    it("does not charge gas when an allowed paymaster pays it, but still charges the value", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const paymaster = await ethers.deployContract("AcceptAllPaymaster", [f.entryPoint.target as string]);
      await (await paymaster.deposit({ value: parseEther("1") })).wait();
      for (const budget of SPONSORED_BUDGETS) {
        const setBudget = f.spendLimitHook.interface.encodeFunctionData("setBudget", [
          SESSION_ID,
          budget.asset,
          budget.limit,
          budget.period,
          0n,
          false,
        ]);
        await (await ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, setBudget))).wait();
      }
      const setPaymaster = f.spendLimitHook.interface.encodeFunctionData("setPaymaster", [
        SESSION_ID,
        paymaster.target as string,
        true,
      ]);
      await (await ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, setPaymaster))).wait();
      const paymasterAndData = concat([
        paymaster.target as string,
        zeroPadValue(toBeHex(200_000n), 16),
        zeroPadValue(toBeHex(50_000n), 16),
      ]);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), { overrides: { paymasterAndData } });
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
      expect(await spent(f, NATIVE_ASSET)).to.equal(PAY);
    });

    it("needs no native budget for an op whose gas an allowed paymaster pays and that sends no value", async function () {
      const f = await networkHelpers.loadFixture(sessionFixtureOnly);
      const paymaster = await ethers.deployContract("AcceptAllPaymaster", [f.entryPoint.target as string]);
      await (await paymaster.deposit({ value: parseEther("1") })).wait();
      const session = typicalSession(f, {
        budgets: [
          { asset: f.usdc.target as string, limit: USDC("100"), period: DAY, perCallCap: 0n },
          ...SPONSORED_BUDGETS,
        ],
        paymasters: [paymaster.target as string],
      });
      await (await grantByTransaction(f, session)).wait();
      const paymasterAndData = concat([
        paymaster.target as string,
        zeroPadValue(toBeHex(200_000n), 16),
        zeroPadValue(toBeHex(50_000n), 16),
      ]);
      const op = await payUsdc(f, USDC("5"), { overrides: { paymasterAndData } });
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("5"));
      expect(await spent(f, f.usdc.target as string)).to.equal(USDC("5"));
    });

    it("charges values and tokens but no gas on the agent's runtime path", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const authorization = encodeValidationSignature(
        { validation: { module: f.sessionModule.target as string, entityId: SESSION_ID }, isGlobal: false },
        "0x",
      );
      await (
        await f.account.connect(f.agent).executeWithRuntimeValidation(executeCall(f, f.recipient, PAY), authorization)
      ).wait();
      expect(await spent(f, NATIVE_ASSET)).to.equal(PAY);
    });

    it("lets the owner change a limit without resetting what was spent (T11)", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("70")));
      const setBudget = f.spendLimitHook.interface.encodeFunctionData("setBudget", [
        SESSION_ID,
        f.usdc.target as string,
        USDC("150"),
        DAY,
        0n,
        false,
      ]);
      await expect(ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, setBudget))).to.emit(
        f.spendLimitHook,
        "BudgetSet",
      );
      expect(await spent(f, f.usdc.target as string)).to.equal(USDC("70"));
      expect(
        (await f.spendLimitHook.remainingBudget(f.accountAddress, SESSION_ID, f.usdc.target as string))[0],
      ).to.equal(USDC("80"));
    });

    it("forgets what was spent only when the owner asks for it explicitly", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("70")));
      const setBudget = f.spendLimitHook.interface.encodeFunctionData("setBudget", [
        SESSION_ID,
        f.usdc.target as string,
        USDC("100"),
        DAY,
        0n,
        true,
      ]);
      await (await ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, setBudget))).wait();
      expect(await spent(f, f.usdc.target as string)).to.equal(0n);
    });

    it("removes a budget: the asset can no longer be spent", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const remove = f.spendLimitHook.interface.encodeFunctionData("removeBudget", [
        SESSION_ID,
        f.usdc.target as string,
      ]);
      await expect(ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, remove)))
        .to.emit(f.spendLimitHook, "BudgetRemoved")
        .withArgs(f.accountAddress, SESSION_ID, f.usdc.target);
      await expectRefused(f, await payUsdc(f, USDC("1")), "SpendLimitNoBudget", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
      ]);
    });
  });

  describe("budget escapes (THREATS 7)", function () {
    it("T7: rejects a call over the daily budget in one call, and nothing moves", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await expectRefused(f, await payUsdc(f, USDC("101")), "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        USDC("101"),
        USDC("100"),
      ]);
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
      expect(await spent(f, f.usdc.target as string)).to.equal(0n);
    });

    it("T7: rejects the call that takes the total over the budget across calls", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("60")));
      await expectRefused(f, await payUsdc(f, USDC("50")), "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        USDC("50"),
        USDC("40"),
      ]);
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("60"));
    });

    it("T7: rejects a batch whose items together exceed the budget", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op } = await sessionOp(f, usdcBatch(f, [USDC("40"), USDC("40"), USDC("40")]));
      await expectRefused(f, op, "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        USDC("120"),
        USDC("100"),
      ]);
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
    });

    it("T7: rejects the first unit over the budget when it is split into many small calls", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      for (let i = 0; i < 10; i++) {
        expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("10"))))).to.equal(
          true,
        );
      }
      await expectRefused(f, await payUsdc(f, 1n), "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        1n,
        0n,
      ]);
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("100"));
    });

    it("T7: enforces the per-call cap on the op's total of the asset", async function () {
      const f = await networkHelpers.loadFixture(sessionFixtureOnly);
      const session = typicalSession(f, {
        budgets: [
          { asset: NATIVE_ASSET, limit: parseEther("1"), period: DAY, perCallCap: 0n },
          { asset: f.usdc.target as string, limit: USDC("100"), period: DAY, perCallCap: USDC("10") },
        ],
      });
      await (await grantByTransaction(f, session)).wait();
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("10"))))).to.equal(
        true,
      );
      const { op } = await sessionOp(f, usdcBatch(f, [USDC("6"), USDC("6")]));
      await expectRefused(f, op, "SpendLimitPerCallCapExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        USDC("12"),
        USDC("10"),
      ]);
    });

    /** Grants the typical session with a 10 USDC per-call cap on its 100 USDC budget. */
    async function cappedFixture() {
      const f = await sessionFixtureOnly();
      const session = typicalSession(f, {
        budgets: [
          { asset: NATIVE_ASSET, limit: parseEther("1"), period: DAY, perCallCap: 0n },
          { asset: f.usdc.target as string, limit: USDC("100"), period: DAY, perCallCap: USDC("10") },
        ],
      });
      await (await grantByTransaction(f, session)).wait();
      return f;
    }

    async function setUsdcBudget(f: Awaited<ReturnType<typeof cappedFixture>>, perCallCap: bigint): Promise<void> {
      const set = f.spendLimitHook.interface.encodeFunctionData("setBudget", [
        SESSION_ID,
        f.usdc.target as string,
        USDC("100"),
        DAY,
        perCallCap,
        false,
      ]);
      await (await ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, set))).wait();
    }

    it("T7: a per-call cap the owner lifts no longer limits an op", async function () {
      const f = await networkHelpers.loadFixture(cappedFixture);
      await setUsdcBudget(f, 0n);
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("12"))))).to.equal(
        true,
      );
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("12"));
    });

    it("T7: a per-call cap removed with its budget does not come back when the budget is set again without one", async function () {
      const f = await networkHelpers.loadFixture(cappedFixture);
      const remove = f.spendLimitHook.interface.encodeFunctionData("removeBudget", [
        SESSION_ID,
        f.usdc.target as string,
      ]);
      await (await ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, remove))).wait();
      await setUsdcBudget(f, 0n);
      expect(
        (await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, f.usdc.target as string)).perCallCap,
      ).to.equal(0n);
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("12"))))).to.equal(
        true,
      );
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("12"));
    });

    it("T7: a per-call cap set again after being lifted applies with its new value, not the old one", async function () {
      const f = await networkHelpers.loadFixture(cappedFixture);
      await setUsdcBudget(f, 0n);
      await setUsdcBudget(f, USDC("20"));
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("15"))))).to.equal(
        true,
      );
      await expectRefused(f, await payUsdc(f, USDC("21")), "SpendLimitPerCallCapExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        USDC("21"),
        USDC("20"),
      ]);
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("15"));
    });
  });

  describe("gas drains (THREATS 8)", function () {
    it("T8: rejects an op whose maximum gas cost (huge maxFeePerGas) exceeds the native budget", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const maxFeePerGas = 1_000_000_000_000n; // 1,000 gwei: 2.56M gas x 1,000 gwei = 2.56 ETH > 1 ETH
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), { overrides: { maxFeePerGas } });
      const cost = (TEST_GAS.verificationGasLimit + TEST_GAS.callGasLimit + TEST_GAS.preVerificationGas) * maxFeePerGas;
      const before = await ethers.provider.getBalance(f.accountAddress);
      await expectRefused(f, op, "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        ZeroAddress,
        cost + PAY,
        parseEther("1"),
      ]);
      expect(await ethers.provider.getBalance(f.accountAddress)).to.equal(before);
    });

    it("T8: rejects an op whose gas limits alone exceed the native budget", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const callGasLimit = 600_000_000n;
      const { op } = await sessionOp(f, executeCall(f, f.recipient, 0n, "0x"), { overrides: { callGasLimit } });
      const cost = (TEST_GAS.verificationGasLimit + callGasLimit + TEST_GAS.preVerificationGas) * TEST_GAS.maxFeePerGas;
      const before = await ethers.provider.getBalance(f.accountAddress);
      await expectRefused(f, op, "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        ZeroAddress,
        cost,
        parseEther("1"),
      ]);
      expect(await spent(f, NATIVE_ASSET)).to.equal(0n);
      expect(await ethers.provider.getBalance(f.accountAddress)).to.equal(before);
    });

    it("T8: counts the gas and the declared amounts of an op whose execution reverts", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      // Transfer to the zero address: USDC reverts in execution, after validation recorded the gas and the amount
      // its calldata declares (conservative: what a failed op declared stays spent).
      const failing = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, ZeroAddress, USDC("1")));
      const { op } = await sessionOp(f, failing);
      const receipt = await sendOp(ethers, f.entryPoint, op);
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(false);
      expect(await spent(f, NATIVE_ASSET)).to.equal(MAX_GAS_COST);
      expect(await spent(f, f.usdc.target as string)).to.equal(USDC("1"));
    });

    it("T8: stops many tiny ops once their gas has used up the native budget", async function () {
      const f = await networkHelpers.loadFixture(sessionFixtureOnly);
      const limit = 3n * MAX_GAS_COST + MAX_GAS_COST / 2n;
      await (
        await grantByTransaction(
          f,
          typicalSession(f, { budgets: [{ asset: NATIVE_ASSET, limit, period: DAY, perCallCap: 0n }] }),
        )
      ).wait();
      for (let i = 0; i < 3; i++) {
        const { op } = await sessionOp(f, executeCall(f, f.recipient, 0n));
        expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
      }
      const { op } = await sessionOp(f, executeCall(f, f.recipient, 0n));
      await expectRefused(f, op, "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        ZeroAddress,
        MAX_GAS_COST,
        limit - 3n * MAX_GAS_COST,
      ]);
    });

    it("T8: rejects a paymaster the session was not allowed (no fees charged in tokens behind the budget)", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const paymaster = await ethers.deployContract("AcceptAllPaymaster", [f.entryPoint.target as string]);
      const paymasterAndData = concat([
        paymaster.target as string,
        zeroPadValue(toBeHex(200_000n), 16),
        zeroPadValue(toBeHex(50_000n), 16),
      ]);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), { overrides: { paymasterAndData } });
      await expectRefused(f, op, "SpendLimitPaymasterRefused", [paymaster.target]);
    });

    it("T8: rejects ops that need native currency when the session has no native budget", async function () {
      const f = await networkHelpers.loadFixture(sessionFixtureOnly);
      await (
        await grantByTransaction(
          f,
          typicalSession(f, {
            budgets: [{ asset: f.usdc.target as string, limit: USDC("100"), period: DAY, perCallCap: 0n }],
          }),
        )
      ).wait();
      await expectRefused(f, await payUsdc(f, USDC("1")), "SpendLimitNoBudget", [
        f.accountAddress,
        SESSION_ID,
        ZeroAddress,
      ]);
    });
  });

  describe("periods (THREATS 9)", function () {
    it("T9: refuses at the last second of a period, then accepts a full budget from the first second of the next", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const start = typicalSession(f).validAfter;
      await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("100")));

      await networkHelpers.time.setNextBlockTimestamp(start + DAY - 1n);
      await expectRefused(f, await payUsdc(f, 1n, { timeHint: start + DAY - 1n }), "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        1n,
        0n,
      ]);

      await networkHelpers.time.setNextBlockTimestamp(start + DAY);
      const op = await payUsdc(f, USDC("100"), { timeHint: start + DAY });
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.emit(f.spendLimitHook, "BudgetPeriodStarted")
        .withArgs(f.accountAddress, SESSION_ID, f.usdc.target, start + DAY);
      expect(await spent(f, f.usdc.target as string)).to.equal(USDC("100"));
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("200"));
    });

    it("T9: the EntryPoint refuses an op whose time hint claims a period that has not begun (AA22), and nothing is recorded", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const start = typicalSession(f).validAfter;
      await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("100")));
      await expect(sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("100"), { timeHint: start + DAY })))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOp")
        .withArgs(0n, "AA22 expired or not due");
      const budget = await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, f.usdc.target as string);
      expect([budget.spent, budget.periodStart]).to.deep.equal([USDC("100"), start]);
    });

    it("T9: never rolls a period back: a hint before the recorded period is charged to the recorded one", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const start = typicalSession(f).validAfter;
      await networkHelpers.time.setNextBlockTimestamp(start + DAY + 5n);
      await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("90"), { timeHint: start + DAY + 5n }));
      await expectRefused(f, await payUsdc(f, USDC("20"), { timeHint: start + 1n }), "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        USDC("20"),
        USDC("10"),
      ]);
    });

    it("T9: an op without a time hint after its period ended is refused by the EntryPoint (AA22), not charged", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const start = typicalSession(f).validAfter;
      await networkHelpers.time.increaseTo(start + DAY + 60n);
      await expect(sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("1"))))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOp")
        .withArgs(0n, "AA22 expired or not due");
      expect(await spent(f, f.usdc.target as string)).to.equal(0n);
    });

    it("T9: keeps the periods on the grid of the grant: a late first spend starts the period that contains it", async function () {
      const f = await networkHelpers.loadFixture(sessionFixtureOnly);
      const session = typicalSession(f, { validUntil: f.now + 10n * DAY });
      await (await grantByTransaction(f, session)).wait();
      const start = session.validAfter;
      const late = start + 3n * DAY + 7_200n;
      await networkHelpers.time.setNextBlockTimestamp(late);
      await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("1"), { timeHint: late }));
      expect(
        (await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, f.usdc.target as string)).periodStart,
      ).to.equal(start + 3n * DAY);
    });

    it("shows a full budget in the view once the period has ended, before any spend", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const start = typicalSession(f).validAfter;
      await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("100")));
      expect(
        await f.spendLimitHook.remainingBudget(f.accountAddress, SESSION_ID, f.usdc.target as string),
      ).to.deep.equal([0n, start + DAY]);
      await networkHelpers.time.increaseTo(start + DAY);
      expect(
        await f.spendLimitHook.remainingBudget(f.accountAddress, SESSION_ID, f.usdc.target as string),
      ).to.deep.equal([USDC("100"), start + 2n * DAY]);
    });
  });

  describe("packing bounds (THREATS 10)", function () {
    it("T10: accepts a limit of 2^96 - 1 and spends up to it exactly, refusing one unit more", async function () {
      const f = await networkHelpers.loadFixture(sessionFixtureOnly);
      const max = 2n ** 96n - 1n;
      const big = await ethers.deployContract("TestToken", ["Big", "BIG", 18]);
      await (await big.mint(f.accountAddress, 2n ** 100n)).wait();
      const session = typicalSession(f, {
        scope: [{ target: big.target as string, selector: big.interface.getFunction("transfer").selector }],
        budgets: [
          { asset: NATIVE_ASSET, limit: parseEther("1"), period: DAY, perCallCap: 0n },
          { asset: big.target as string, limit: max, period: 0n, perCallCap: 0n },
        ],
      });
      await (await grantByTransaction(f, session)).wait();
      const send = async (amount: bigint) =>
        (
          await sessionOp(
            f,
            executeCall(
              f,
              big.target as string,
              0n,
              big.interface.encodeFunctionData("transfer", [f.recipient, amount]),
            ),
          )
        ).op;
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, await send(max - 1n)))).to.equal(true);
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, await send(1n)))).to.equal(true);
      await expectRefused(f, await send(1n), "SpendLimitExceeded", [f.accountAddress, SESSION_ID, big.target, 1n, 0n]);
      expect(await spent(f, big.target as string)).to.equal(max);
    });

    it("T10: refuses amounts near 2^128 and 2^256 without overflowing", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      for (const amount of [2n ** 128n, 2n ** 256n - 1n]) {
        await expectRefused(f, await payUsdc(f, amount), "SpendLimitExceeded", [
          f.accountAddress,
          SESSION_ID,
          f.usdc.target,
          amount,
          USDC("100"),
        ]);
      }
    });

    it("T10: refuses a batch whose amounts would overflow when summed", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op } = await sessionOp(f, usdcBatch(f, [2n ** 255n, 2n ** 255n]));
      await expect(sendOp(ethers, f.entryPoint, op)).to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert");
      expect(await spent(f, f.usdc.target as string)).to.equal(0n);
    });

    it("T10: refuses a limit or a period beyond the packing's range", async function () {
      const f = await networkHelpers.loadFixture(sessionFixtureOnly);
      await expect(
        grantByTransaction(
          f,
          typicalSession(f, { budgets: [{ asset: NATIVE_ASSET, limit: 2n ** 96n, period: DAY, perCallCap: 0n }] }),
        ),
      )
        .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitLimitOutOfRange")
        .withArgs(2n ** 96n);
      await expect(
        grantByTransaction(
          f,
          typicalSession(f, { budgets: [{ asset: NATIVE_ASSET, limit: 1n, period: 2n ** 23n, perCallCap: 0n }] }),
        ),
      )
        .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitPeriodOutOfRange")
        .withArgs(2n ** 23n);
      await expect(
        grantByTransaction(
          f,
          typicalSession(f, { budgets: [{ asset: NATIVE_ASSET, limit: 0n, period: DAY, perCallCap: 0n }] }),
        ),
      )
        .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitLimitOutOfRange")
        .withArgs(0n);
    });
  });

  describe("re-grants (THREATS 11)", function () {
    it("T11: re-installing a session id starts a new generation: old budgets and counters are gone", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("90")));
      const entity = encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID });
      const data = ethers.AbiCoder.defaultAbiCoder().encode(["uint32"], [SESSION_ID]);
      await (
        await ownerCall(f, f.account.interface.encodeFunctionData("uninstallValidation", [entity, data, [data, "0x"]]))
      ).wait();
      // The new grant has a native budget only: the old USDC budget must not come back.
      const regrant = typicalSession(f, {
        budgets: [{ asset: NATIVE_ASSET, limit: parseEther("1"), period: DAY, perCallCap: 0n }],
      });
      await (await grantByTransaction(f, regrant)).wait();
      expect(await f.spendLimitHook.generationOf(f.accountAddress, SESSION_ID)).to.equal(3n);
      await expectRefused(f, await payUsdc(f, USDC("1")), "SpendLimitNoBudget", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
      ]);
    });

    it("T11: a session id uninstalled without its data cannot be re-granted over its surviving record", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await sendOp(ethers, f.entryPoint, await payUsdc(f, USDC("90")));
      const entity = encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID });
      await (
        await ownerCall(f, f.account.interface.encodeFunctionData("uninstallValidation", [entity, "0x", []]))
      ).wait();
      await expect(grantByTransaction(f, typicalSession(f)))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionAlreadyExists")
        .withArgs(f.accountAddress, SESSION_ID);
      expect(await spent(f, f.usdc.target as string)).to.equal(USDC("90"));
    });
  });

  describe("token functions (THREATS 5)", function () {
    async function tokenFixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      await (
        await grantByTransaction(
          f,
          typicalSession(f, {
            // The four ERC-20 spends by name (a wildcard does not cover them, THREATS 26), and the wildcard for
            // every other function, which the hook refuses on a budgeted token.
            scope: [
              ...(["transfer", "approve", "transferFrom", "increaseAllowance"] as const).map((name) => ({
                target: f.usdc.target as string,
                selector: f.usdc.interface.getFunction(name).selector,
              })),
              { target: f.usdc.target as string, selector: SELECTOR_ANY },
            ],
          }),
        )
      ).wait();
      return f;
    }
    const tokenOp = async (f: SessionFixture, data: string) =>
      (await sessionOp(f, executeCall(f, f.usdc.target as string, 0n, data))).op;

    it("T5: charges approve and increaseAllowance to the token's budget", async function () {
      const f = await networkHelpers.loadFixture(tokenFixture);
      await sendOp(
        ethers,
        f.entryPoint,
        await tokenOp(f, f.usdc.interface.encodeFunctionData("approve", [f.stranger.address, USDC("60")])),
      );
      await expectRefused(
        f,
        await tokenOp(f, f.usdc.interface.encodeFunctionData("increaseAllowance", [f.stranger.address, USDC("41")])),
        "SpendLimitExceeded",
        [f.accountAddress, SESSION_ID, f.usdc.target, USDC("41"), USDC("40")],
      );
      expect(await f.usdc.allowance(f.accountAddress, f.stranger.address)).to.equal(USDC("60"));
    });

    it("T5: refuses transferFrom of someone else's tokens", async function () {
      const f = await networkHelpers.loadFixture(tokenFixture);
      const data = f.usdc.interface.encodeFunctionData("transferFrom", [f.stranger.address, f.recipient, 1n]);
      await expectRefused(f, await tokenOp(f, data), "SpendLimitTokenCallRefused", [f.usdc.target, data.slice(0, 10)]);
    });

    it("T5: charges transferFrom of the account's own tokens", async function () {
      const f = await networkHelpers.loadFixture(tokenFixture);
      const data = f.usdc.interface.encodeFunctionData("transferFrom", [f.accountAddress, f.recipient, USDC("101")]);
      await expectRefused(f, await tokenOp(f, data), "SpendLimitExceeded", [
        f.accountAddress,
        SESSION_ID,
        f.usdc.target,
        USDC("101"),
        USDC("100"),
      ]);
    });

    it("T5: refuses permit on a budgeted token", async function () {
      const f = await networkHelpers.loadFixture(tokenFixture);
      const data = f.usdc.interface.encodeFunctionData("permit", [
        f.accountAddress,
        f.stranger.address,
        USDC("1000"),
        2n ** 40n,
        27,
        ethers.ZeroHash,
        ethers.ZeroHash,
      ]);
      await expectRefused(f, await tokenOp(f, data), "SpendLimitTokenCallRefused", [f.usdc.target, data.slice(0, 10)]);
    });

    it("T5: refuses a token transfer with truncated calldata", async function () {
      const f = await networkHelpers.loadFixture(tokenFixture);
      const data = usdcTransfer(f, f.recipient, USDC("1")).slice(0, 2 + 2 * 40);
      await expectRefused(f, await tokenOp(f, data), "SpendLimitTokenCallRefused", [f.usdc.target, data.slice(0, 10)]);
    });

    it("T5: refuses ERC-20 spends on a token without a budget", async function () {
      const f = await networkHelpers.loadFixture(sessionFixtureOnly);
      const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
      await (await other.mint(f.accountAddress, 100n)).wait();
      await (
        await grantByTransaction(
          f,
          typicalSession(f, { scope: [{ target: other.target as string, selector: SELECTOR_ANY }] }),
        )
      ).wait();
      const data = other.interface.encodeFunctionData("transfer", [f.recipient, 1n]);
      const { op } = await sessionOp(f, executeCall(f, other.target as string, 0n, data));
      await expectRefused(f, op, "SpendLimitNoBudget", [f.accountAddress, SESSION_ID, other.target]);
      expect(await other.balanceOf(f.recipient)).to.equal(0n);
    });
  });

  describe("owner controls", function () {
    it("refuses budget changes for an entity the hook is not installed for", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await expect(f.spendLimitHook.connect(f.stranger).setBudget(1, NATIVE_ASSET, 1n, DAY, 0n, false))
        .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitNotInstalled")
        .withArgs(f.stranger.address, 1);
    });

    it("keys a caller's changes to the caller: a stranger cannot touch the account's budgets", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await expect(
        f.spendLimitHook.connect(f.stranger).removeBudget(SESSION_ID, f.usdc.target as string),
      ).to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitNotInstalled");
      expect((await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, f.usdc.target as string)).limit).to.equal(
        USDC("100"),
      );
    });

    it("refuses unexpected hook data on a user op", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      const validation = { module: f.sessionModule.target as string, entityId: SESSION_ID };
      const raw = op.signature.slice(op.signature.length - 130);
      op.signature = encodeValidationSignature({ validation, isGlobal: false, hookData: ["0x1234"] }, "0x" + raw);
      await expectRefused(f, op, "SpendLimitHookDataInvalid", []);
    });
  });
});

/** A fixture without any session, for tests that grant their own. */
async function sessionFixtureOnly() {
  return sessionFixture(ethers, networkHelpers);
}

describe("SpendLimitHook install rules", function () {
  async function installAs(f: SessionFixture, data: string) {
    return f.spendLimitHook.connect(f.stranger).onInstall(data);
  }
  const encode = (args: unknown[]) =>
    ethers.AbiCoder.defaultAbiCoder().encode(
      ["uint32", "uint48", "address[]", "uint256[]", "uint48[]", "uint256[]", "address[]"],
      args,
    );

  it("refuses budget arrays of different lengths", async function () {
    const f = await networkHelpers.loadFixture(sessionFixtureOnly);
    await expect(installAs(f, encode([1, 0, [ZeroAddress], [1n, 2n], [DAY], [0n], []]))).to.be.revertedWithCustomError(
      f.spendLimitHook,
      "SpendLimitBudgetArraysMismatch",
    );
  });

  it("refuses more budgets or paymasters than it can check on every op", async function () {
    const f = await networkHelpers.loadFixture(sessionFixtureOnly);
    const paymasters = Array.from({ length: 9 }, (_, i) => zeroPadValue(toBeHex(i + 1), 20));
    await expect(installAs(f, encode([1, 0, [], [], [], [], paymasters])))
      .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitTooManyEntries")
      .withArgs(0n, 9n);
  });

  it("refuses an asset listed twice", async function () {
    const f = await networkHelpers.loadFixture(sessionFixtureOnly);
    await expect(installAs(f, encode([1, 0, [ZeroAddress, ZeroAddress], [1n, 1n], [DAY, DAY], [0n, 0n], []])))
      .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitAssetDuplicated")
      .withArgs(ZeroAddress);
  });

  it("refuses a period anchor beyond 40 bits", async function () {
    const f = await networkHelpers.loadFixture(sessionFixtureOnly);
    await expect(installAs(f, encode([1, 2n ** 40n, [ZeroAddress], [1n], [DAY], [0n], []])))
      .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitPeriodStartOutOfRange")
      .withArgs(2n ** 40n);
  });

  it("allows the installed paymasters, and only those", async function () {
    const f = await networkHelpers.loadFixture(sessionFixtureOnly);
    const allowed = zeroPadValue("0x01", 20);
    const sponsored = [SPONSORED_GAS_ASSET, SPONSORED_FEE_ASSET];
    await (await installAs(f, encode([1, 0, sponsored, [1n, 1n], [0n, 0n], [0n, 0n], [allowed]]))).wait();
    expect(await f.spendLimitHook.isPaymasterAllowed(f.stranger.address, 1, allowed)).to.equal(true);
    expect(await f.spendLimitHook.isPaymasterAllowed(f.stranger.address, 1, zeroPadValue("0x02", 20))).to.equal(false);
  });

  it("starts a new budget's period when the owner adds it, and keeps the period when only the limit changes", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
    const add = f.spendLimitHook.interface.encodeFunctionData("setBudget", [
      SESSION_ID,
      other.target as string,
      10n,
      DAY,
      5n,
      false,
    ]);
    const receipt = await (await ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, add))).wait();
    const block = await ethers.provider.getBlock(receipt!.blockNumber);
    const budget = await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, other.target as string);
    expect([budget.limit, budget.periodStart, budget.perCallCap]).to.deep.equal([10n, BigInt(block!.timestamp), 5n]);
    const change = f.spendLimitHook.interface.encodeFunctionData("setBudget", [
      SESSION_ID,
      other.target as string,
      20n,
      DAY,
      0n,
      false,
    ]);
    await (await ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, change))).wait();
    const changed = await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, other.target as string);
    expect([changed.limit, changed.periodStart, changed.perCallCap]).to.deep.equal([20n, BigInt(block!.timestamp), 0n]);
  });

  it("refuses hook data on the runtime path", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const authorization = encodeValidationSignature(
      {
        validation: { module: f.sessionModule.target as string, entityId: SESSION_ID },
        isGlobal: false,
        hookData: ["0x01"],
      },
      "0x",
    );
    await expect(
      f.account.connect(f.agent).executeWithRuntimeValidation(executeCall(f, f.recipient, PAY), authorization),
    ).to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitHookDataInvalid");
  });

  it("reports its module id and a zero remaining budget for an asset without one", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    expect(await f.spendLimitHook.moduleId()).to.equal("leash.spend-limit-hook.0.2.0");
    expect(await f.spendLimitHook.remainingBudget(f.accountAddress, SESSION_ID, f.stranger.address)).to.deep.equal([
      0n,
      0n,
    ]);
  });
});
