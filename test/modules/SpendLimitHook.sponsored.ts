/**
 * Paymaster-sponsored ops (THREATS 22): an agent that bundles its own ops cannot turn an allowed paymaster's deposit
 * into fees (a per-period budget of the sponsored ops' maximum cost and a maxFeePerGas cap, required whenever a
 * paymaster is allowed), and an ERC-20 paymaster can only take tokens through an allowance the session approved,
 * which its budget was charged for. Through the real EntryPoint v0.8.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, parseEther, parseUnits, toBeHex, zeroPadValue, type BaseContract } from "ethers";

import { NATIVE_ASSET, SELECTOR_NO_CALLDATA, SPONSORED_FEE_ASSET, SPONSORED_GAS_ASSET } from "../../client/session.js";
import {
  DAY,
  executeCall,
  grantByTransaction,
  SESSION_ID,
  sessionFixture,
  sessionOp,
  typicalSession,
  usdcTransfer,
  type SessionFixture,
} from "../helpers/sessions.js";
import { opSucceeded, sendOp, TEST_GAS } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

const USDC = (amount: string) => parseUnits(amount, 6);
const GWEI = 1_000_000_000n;
const SPONSORED_LIMIT = parseEther("0.02");
const FEE_CAP = 100n * GWEI;
const PAYMASTER_GAS = { verification: 200_000n, postOp: 50_000n };
/** TEST_GAS's maximum cost with the paymaster's two limits, at TEST_GAS's 2 gwei. */
const SPONSORED_COST =
  (TEST_GAS.verificationGasLimit +
    TEST_GAS.callGasLimit +
    TEST_GAS.preVerificationGas +
    PAYMASTER_GAS.verification +
    PAYMASTER_GAS.postOp) *
  TEST_GAS.maxFeePerGas;

function paymasterAndData(paymaster: BaseContract): string {
  return concat([
    paymaster.target as string,
    zeroPadValue(toBeHex(PAYMASTER_GAS.verification), 16),
    zeroPadValue(toBeHex(PAYMASTER_GAS.postOp), 16),
  ]);
}

const sponsoredBudgets = () => [
  { asset: SPONSORED_GAS_ASSET, limit: SPONSORED_LIMIT, period: DAY, perCallCap: 0n },
  { asset: SPONSORED_FEE_ASSET, limit: FEE_CAP, period: 0n, perCallCap: 0n },
];

async function spent(f: SessionFixture, asset: string): Promise<bigint> {
  return (await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, asset)).spent;
}

describe("SpendLimitHook paymaster-sponsored ops (THREATS 22)", function () {
  /** A session that may use a verifying paymaster (1 ETH deposit): USDC 100/day, sponsored gas 0.02 ETH/day. */
  async function sponsoredFixture() {
    const f = await sessionFixture(ethers, networkHelpers);
    const paymaster = await ethers.deployContract("AcceptAllPaymaster", [f.entryPoint.target as string]);
    await (await paymaster.deposit({ value: parseEther("1") })).wait();
    const session = typicalSession(f, {
      budgets: [
        { asset: f.usdc.target as string, limit: USDC("100"), period: DAY, perCallCap: 0n },
        ...sponsoredBudgets(),
      ],
      paymasters: [paymaster.target as string],
    });
    await (await grantByTransaction(f, session)).wait();
    return { ...f, paymaster };
  }

  async function sponsoredPay(f: Awaited<ReturnType<typeof sponsoredFixture>>, overrides = {}) {
    const call = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, 1n));
    const { op } = await sessionOp(f, call, {
      overrides: { paymasterAndData: paymasterAndData(f.paymaster), ...overrides },
    });
    return op;
  }

  async function deposit(f: Awaited<ReturnType<typeof sponsoredFixture>>): Promise<bigint> {
    return f.entryPoint.balanceOf(f.paymaster.target as string);
  }

  it("T22: refuses a sponsored op whose maxFeePerGas (1,700 gwei) is over the session's fee cap, and the paymaster pays nothing", async function () {
    const f = await networkHelpers.loadFixture(sponsoredFixture);
    const before = await deposit(f);
    const op = await sponsoredPay(f, { maxFeePerGas: 1_700n * GWEI, maxPriorityFeePerGas: 1_700n * GWEI });
    await expect(sendOp(ethers, f.entryPoint, op))
      .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
      .withArgs(
        0n,
        "AA23 reverted",
        f.spendLimitHook.interface.encodeErrorResult("SpendLimitExceeded", [
          f.accountAddress,
          SESSION_ID,
          SPONSORED_FEE_ASSET,
          1_700n * GWEI,
          FEE_CAP,
        ]),
      );
    expect(await deposit(f)).to.equal(before);
  });

  it("T22: charges each sponsored op's maximum cost to the sponsored-gas budget", async function () {
    const f = await networkHelpers.loadFixture(sponsoredFixture);
    expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, await sponsoredPay(f)))).to.equal(true);
    expect(await spent(f, SPONSORED_GAS_ASSET)).to.equal(SPONSORED_COST);
    expect(await spent(f, SPONSORED_FEE_ASSET)).to.equal(0n);
  });

  it("T22: refuses the sponsored op that takes the period's sponsored gas over its budget, within the fee cap", async function () {
    const f = await networkHelpers.loadFixture(sponsoredFixture);
    // Within the fee cap, but large limits: the most a self-bundling agent could take from the deposit.
    const op = await sponsoredPay(f, { maxFeePerGas: FEE_CAP, callGasLimit: 1_000_000n });
    const cost =
      (TEST_GAS.verificationGasLimit +
        1_000_000n +
        TEST_GAS.preVerificationGas +
        PAYMASTER_GAS.verification +
        PAYMASTER_GAS.postOp) *
      FEE_CAP;
    await expect(sendOp(ethers, f.entryPoint, op))
      .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
      .withArgs(
        0n,
        "AA23 reverted",
        f.spendLimitHook.interface.encodeErrorResult("SpendLimitExceeded", [
          f.accountAddress,
          SESSION_ID,
          SPONSORED_GAS_ASSET,
          cost,
          SPONSORED_LIMIT,
        ]),
      );
    expect(await spent(f, SPONSORED_GAS_ASSET)).to.equal(0n);
  });

  it("T22: refuses to install a session that allows a paymaster without a sponsored-gas budget and fee cap", async function () {
    const f = await sessionFixture(ethers, networkHelpers);
    const paymaster = await ethers.deployContract("AcceptAllPaymaster", [f.entryPoint.target as string]);
    for (const missing of [SPONSORED_GAS_ASSET, SPONSORED_FEE_ASSET]) {
      const session = typicalSession(f, {
        budgets: [
          { asset: NATIVE_ASSET, limit: parseEther("1"), period: DAY, perCallCap: 0n },
          ...sponsoredBudgets().filter((budget) => budget.asset !== missing),
        ],
        paymasters: [paymaster.target as string],
      });
      await expect(grantByTransaction(f, session))
        .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitSponsorshipUnbounded")
        .withArgs(f.accountAddress, SESSION_ID);
    }
    expect(await f.spendLimitHook.generationOf(f.accountAddress, SESSION_ID)).to.equal(0n);
  });

  describe("an ERC-20 paymaster", function () {
    const FEE = USDC("5");

    async function tokenPaymasterFixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      const paymaster = await ethers.deployContract("TokenFeePaymaster", [
        f.entryPoint.target as string,
        f.usdc.target as string,
        FEE,
      ]);
      await (await paymaster.deposit({ value: parseEther("1") })).wait();
      const usdc = f.usdc.target as string;
      const session = typicalSession(f, {
        scope: [
          { target: usdc, selector: f.usdc.interface.getFunction("transfer").selector },
          { target: usdc, selector: f.usdc.interface.getFunction("approve").selector },
          { target: f.recipient, selector: SELECTOR_NO_CALLDATA },
        ],
        budgets: [{ asset: usdc, limit: USDC("100"), period: DAY, perCallCap: 0n }, ...sponsoredBudgets()],
        paymasters: [paymaster.target as string],
      });
      await (await grantByTransaction(f, session)).wait();
      return { ...f, paymaster };
    }

    it("T22: takes its token fee only through an allowance the session approved, charged to the token's budget", async function () {
      const f = await networkHelpers.loadFixture(tokenPaymasterFixture);
      const usdc = f.usdc.target as string;
      const pmData = paymasterAndData(f.paymaster);
      const approve = f.usdc.interface.encodeFunctionData("approve", [f.paymaster.target, USDC("10")]);
      const first = (await sessionOp(f, executeCall(f, usdc, 0n, approve), { overrides: { paymasterAndData: pmData } }))
        .op;
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, first))).to.equal(true);
      // The approval was charged in full when made; the paymaster then took 5 of it.
      expect(await spent(f, usdc)).to.equal(USDC("10"));
      const pay = executeCall(f, usdc, 0n, usdcTransfer(f, f.recipient, USDC("90")));
      const second = (await sessionOp(f, pay, { overrides: { paymasterAndData: pmData } })).op;
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, second))).to.equal(true);
      expect(await spent(f, usdc)).to.equal(USDC("100"));
      // What left the account (90 paid, 10 in fees) is what its budget was charged.
      expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(USDC("900"));
      expect(await f.usdc.balanceOf(f.paymaster.target as string)).to.equal(USDC("10"));
    });

    it("T22: cannot charge the account in a token the session did not approve it for: the op reverts and nothing moves", async function () {
      const f = await networkHelpers.loadFixture(tokenPaymasterFixture);
      const pay = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, USDC("1")));
      const { op } = await sessionOp(f, pay, { overrides: { paymasterAndData: paymasterAndData(f.paymaster) } });
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(false);
      expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(USDC("1000"));
      expect(await f.usdc.balanceOf(f.paymaster.target as string)).to.equal(0n);
    });
  });
});
