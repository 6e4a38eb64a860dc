/**
 * SpendLimitHook through the real EntryPoint v0.8, attached to session validations: what validation charges to the
 * budgets (values, tokens, the op's maximum gas cost, nothing for gas an allowed paymaster pays), across the calls of
 * a batch and within a validity window, and the escapes it refuses: over-budget calls and per-call caps (THREATS 7)
 * and gas drains (THREATS 8). Test names starting with "T<n>" are the named regression tests of ../shared/THREATS.md
 * item n. The owner's budgets are in SpendLimitHook.budgets.ts, token calls and the execution hook's snapshot in
 * SpendLimitHook.tokens.ts, outflows in SpendLimitHook.outflow.ts, paymasters in SpendLimitHook.sponsored.ts.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, parseEther, toBeHex, ZeroAddress, ZeroHash, zeroPadValue } from "ethers";

import { encodeValidationSignature } from "../../client/encoding.js";
import { NATIVE_ASSET, SPONSORED_FEE_ASSET, SPONSORED_GAS_ASSET } from "../../client/session.js";
import {
  DAY,
  executeCall,
  expectRefusedOn,
  grantByTransaction,
  grantedSessionFixture,
  ownerCall,
  PAY,
  SESSION_ID,
  sessionFixture,
  sessionOp,
  typicalSession,
  USDC,
  usdcTransfer,
} from "../helpers/sessions.js";
import { payUsdc, spent, twoTokenSessionFixture, usdcBatch } from "../helpers/spendLimit.js";
import { opSucceeded, sendOp, TEST_GAS } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

/** What a session that may use a paymaster needs: a sponsored-gas budget and a fee cap (100 gwei). */
const SPONSORED_BUDGETS = [
  { asset: SPONSORED_GAS_ASSET, limit: parseEther("0.1"), period: DAY, perCallCap: 0n },
  { asset: SPONSORED_FEE_ASSET, limit: 100_000_000_000n, period: 0n, perCallCap: 0n },
];
/** The most an op of TEST_GAS can cost the account: the EntryPoint's prefund. */
const MAX_GAS_COST =
  (TEST_GAS.verificationGasLimit + TEST_GAS.callGasLimit + TEST_GAS.preVerificationGas) * TEST_GAS.maxFeePerGas;

/** A fixture without any session, for tests that grant their own. */
async function sessionFixtureOnly() {
  return sessionFixture(ethers, networkHelpers);
}

async function grantedFixture() {
  return grantedSessionFixture(ethers, networkHelpers);
}

async function twoTokenFixture() {
  return twoTokenSessionFixture(ethers, networkHelpers);
}

const expectRefused = expectRefusedOn(ethers);

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

  describe("preUserOpValidationHook on a batch", function () {
    describe("when the batch spends two budgeted tokens, interleaved", function () {
      it("charges each token's budget once with the sum of its transfers", async function () {
        const f = await networkHelpers.loadFixture(twoTokenFixture);
        const daiTransfer = (amount: bigint) => f.dai.interface.encodeFunctionData("transfer", [f.recipient, amount]);
        const calls = [
          { target: f.usdc.target as string, value: 0n, data: usdcTransfer(f, f.recipient, USDC("10")) },
          { target: f.dai.target as string, value: 0n, data: daiTransfer(parseEther("5")) },
          { target: f.usdc.target as string, value: 0n, data: usdcTransfer(f, f.recipient, USDC("20")) },
          { target: f.dai.target as string, value: 0n, data: daiTransfer(parseEther("1")) },
        ];
        const { op } = await sessionOp(f, f.account.interface.encodeFunctionData("executeBatch", [calls]));
        expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
        const usdc = await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, f.usdc.target as string);
        const dai = await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, f.dai.target as string);
        expect([usdc.spent, dai.spent]).to.deep.equal([USDC("30"), parseEther("6")]);
        expect([await f.usdc.balanceOf(f.recipient), await f.dai.balanceOf(f.recipient)]).to.deep.equal([
          USDC("30"),
          parseEther("6"),
        ]);
      });
    });
  });

  describe("preUserOpValidationHook's validity window", function () {
    const NATIVE_LIMIT = parseEther("1");
    const VALUE = 1_000n;
    /** The op's maximum gas cost: preVerificationGas 700 at 1 wei per gas. */
    const GAS_COST = 700n;

    /** The stranger's EOA stands in for an account: entity 1 with a lifetime native budget only. */
    async function lifetimeFixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      const install = ethers.AbiCoder.defaultAbiCoder().encode(
        ["uint32", "uint48", "address[]", "uint256[]", "uint48[]", "uint256[]", "address[]"],
        [1, f.now, [NATIVE_ASSET], [NATIVE_LIMIT], [0n], [0n], []],
      );
      await (await f.spendLimitHook.connect(f.stranger).onInstall(install)).wait();
      // Validation records the gas (GAS_COST) and the call's value.
      const op = {
        sender: f.stranger.address,
        nonce: 0n,
        initCode: "0x",
        callData: f.account.interface.encodeFunctionData("execute", [f.recipient, VALUE, "0x"]),
        accountGasLimits: ZeroHash,
        preVerificationGas: GAS_COST,
        gasFees: ethers.zeroPadValue("0x01", 32),
        paymasterAndData: "0x",
        signature: "0x",
      };
      return { ...f, op };
    }

    describe("when only lifetime budgets are charged", function () {
      it("returns validation data with no validAfter / validUntil window", async function () {
        const f = await networkHelpers.loadFixture(lifetimeFixture);
        const hook = f.spendLimitHook.connect(f.stranger);
        expect(await hook.preUserOpValidationHook.staticCall(1, f.op, ZeroHash)).to.equal(0n);
        await (await hook.preUserOpValidationHook(1, f.op, ZeroHash)).wait();
        expect((await f.spendLimitHook.getBudget(f.stranger.address, 1, NATIVE_ASSET)).spent).to.equal(
          GAS_COST + VALUE,
        );
      });

      it("reports the lifetime budget's remainder with no period end", async function () {
        const f = await networkHelpers.loadFixture(lifetimeFixture);
        await (await f.spendLimitHook.connect(f.stranger).preUserOpValidationHook(1, f.op, ZeroHash)).wait();
        expect(await f.spendLimitHook.remainingBudget(f.stranger.address, 1, NATIVE_ASSET)).to.deep.equal([
          NATIVE_LIMIT - GAS_COST - VALUE,
          0n,
        ]);
      });
    });
  });
});
