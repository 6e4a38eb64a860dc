/**
 * SpendLimitHook's budgets as the owner sets them, through the real EntryPoint v0.8: what onInstall accepts, the
 * owner's setBudget / removeBudget / setPaymaster and who may call them, the token list's bookkeeping, periods
 * (THREATS 9), the packing's bounds (THREATS 10) and re-grants of a session id (THREATS 11). Test names starting with
 * "T<n>" are the named regression tests of ../shared/THREATS.md item n.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { getAddress, parseEther, toBeHex, ZeroAddress, zeroPadValue } from "ethers";

import { encodeModuleEntity, encodeValidationSignature } from "../../client/encoding.js";
import { NATIVE_ASSET, OPERATIONS_ASSET, SPONSORED_FEE_ASSET, SPONSORED_GAS_ASSET } from "../../client/session.js";
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
  type SessionFixture,
} from "../helpers/sessions.js";
import { installForStranger, payUsdc, spent, usdcBatch } from "../helpers/spendLimit.js";
import { opRevertData, opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

/** A fake token address for the hook's bookkeeping (onInstall, setBudget and removeBudget never call a token). */
const fakeToken = (i: number) => getAddress(zeroPadValue(toBeHex(0x1000 + i), 20));

/** A fixture without any session, for tests that grant their own. */
async function sessionFixtureOnly() {
  return sessionFixture(ethers, networkHelpers);
}

async function grantedFixture() {
  return grantedSessionFixture(ethers, networkHelpers);
}

const expectRefused = expectRefusedOn(ethers);

describe("SpendLimitHook", function () {
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

  describe("setBudget", function () {
    describe("when the new limit is below what was spent in the period", function () {
      it("keeps the spent amount at the new limit and emits BudgetSet with it: nothing remains, never less", async function () {
        const f = await networkHelpers.loadFixture(sessionFixtureOnly);
        const session = typicalSession(f);
        await (await grantByTransaction(f, session)).wait();
        const pay = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, USDC("70")));
        expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, (await sessionOp(f, pay)).op))).to.equal(
          true,
        );
        const lower = f.spendLimitHook.interface.encodeFunctionData("setBudget", [
          SESSION_ID,
          f.usdc.target as string,
          USDC("50"),
          DAY,
          0n,
          false,
        ]);
        await expect(ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, lower)))
          .to.emit(f.spendLimitHook, "BudgetSet")
          .withArgs(f.accountAddress, SESSION_ID, f.usdc.target, USDC("50"), DAY, 0n, session.validAfter, USDC("50"));
        expect(
          await f.spendLimitHook.remainingBudget(f.accountAddress, SESSION_ID, f.usdc.target as string),
        ).to.deep.equal([0n, session.validAfter + DAY]);
      });
    });

    describe("when the asset is native currency and has no budget yet", function () {
      it("sets the native budget without listing it among the budgeted tokens", async function () {
        const f = await networkHelpers.loadFixture(sessionFixtureOnly);
        const hook = await installForStranger(f, [fakeToken(0)]);
        await (await hook.setBudget(1, NATIVE_ASSET, 500n, 0, 0n, false)).wait();
        expect((await f.spendLimitHook.getBudget(f.stranger.address, 1, NATIVE_ASSET)).limit).to.equal(500n);
        expect(await f.spendLimitHook.budgetedTokensOf(f.stranger.address, 1)).to.deep.equal([fakeToken(0)]);
      });
    });

    describe("when the session already has 16 budgeted tokens", function () {
      it("reverts with SpendLimitTooManyEntries if the owner adds a 17th token", async function () {
        const f = await networkHelpers.loadFixture(sessionFixtureOnly);
        const tokens = Array.from({ length: 16 }, (_, i) => fakeToken(i));
        const hook = await installForStranger(f, tokens);
        await expect(hook.setBudget(1, fakeToken(16), 1n, 0, 0n, false))
          .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitTooManyEntries")
          .withArgs(17n, 0n);
        expect(await f.spendLimitHook.budgetedTokensOf(f.stranger.address, 1)).to.deep.equal(tokens);
      });
    });
  });

  describe("removeBudget", function () {
    describe("when the asset has no budget", function () {
      it("emits BudgetRemoved and leaves the budgeted tokens as they were if the asset has no budget", async function () {
        const f = await networkHelpers.loadFixture(sessionFixtureOnly);
        const hook = await installForStranger(f, [fakeToken(0), fakeToken(1)]);
        await expect(hook.removeBudget(1, fakeToken(2)))
          .to.emit(f.spendLimitHook, "BudgetRemoved")
          .withArgs(f.stranger.address, 1, fakeToken(2));
        expect(await f.spendLimitHook.budgetedTokensOf(f.stranger.address, 1)).to.deep.equal([
          fakeToken(0),
          fakeToken(1),
        ]);
      });
    });

    describe("when the asset is native currency", function () {
      it("removes the native budget and keeps the budgeted tokens listed", async function () {
        const f = await networkHelpers.loadFixture(sessionFixtureOnly);
        const hook = await installForStranger(f, [NATIVE_ASSET, fakeToken(0)]);
        await (await hook.removeBudget(1, NATIVE_ASSET)).wait();
        expect((await f.spendLimitHook.getBudget(f.stranger.address, 1, NATIVE_ASSET)).limit).to.equal(0n);
        expect(await f.spendLimitHook.budgetedTokensOf(f.stranger.address, 1)).to.deep.equal([fakeToken(0)]);
      });
    });

    describe("when the asset is the op count", function () {
      it("lifts the rate limit: ops beyond the removed op-count budget's limit are accepted", async function () {
        const f = await networkHelpers.loadFixture(sessionFixtureOnly);
        const session = typicalSession(f);
        session.budgets.push({ asset: OPERATIONS_ASSET, limit: 1n, period: DAY, perCallCap: 0n });
        await (await grantByTransaction(f, session)).wait();
        const pay = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, USDC("1")));
        expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, (await sessionOp(f, pay)).op))).to.equal(
          true,
        );
        const remove = f.spendLimitHook.interface.encodeFunctionData("removeBudget", [SESSION_ID, OPERATIONS_ASSET]);
        await (await ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, remove))).wait();
        for (let i = 0; i < 2; i++) {
          const { op } = await sessionOp(f, pay);
          expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
        }
        expect(await f.usdc.balanceOf(f.recipient)).to.equal(USDC("3"));
        expect(await f.spendLimitHook.budgetedTokensOf(f.accountAddress, SESSION_ID)).to.deep.equal([f.usdc.target]);
      });
    });

    describe("when the asset is a token", function () {
      it("keeps the token listed, so it stays measured, and lists it once when its budget is set again", async function () {
        const f = await networkHelpers.loadFixture(sessionFixtureOnly);
        const hook = await installForStranger(f, [fakeToken(0), fakeToken(1), fakeToken(2)]);
        await (await hook.removeBudget(1, fakeToken(1))).wait();
        expect((await f.spendLimitHook.getBudget(f.stranger.address, 1, fakeToken(1))).limit).to.equal(0n);
        await (await hook.setBudget(1, fakeToken(1), 5n, 0n, 0n, false)).wait();
        expect(await f.spendLimitHook.budgetedTokensOf(f.stranger.address, 1)).to.deep.equal([
          fakeToken(0),
          fakeToken(1),
          fakeToken(2),
        ]);
      });

      it("refuses, after its budget is removed, an op in which the token leaves the account (M-1 of the #12 review)", async function () {
        const f = await networkHelpers.loadFixture(sessionFixtureOnly);
        const puller = await ethers.deployContract("AllowancePuller", [f.usdc.target, f.stranger.address]);
        const session = typicalSession(f, {
          scope: [{ target: puller.target as string, selector: puller.interface.getFunction("claimRewards").selector }],
        });
        await (await grantByTransaction(f, session)).wait();
        const approve = f.usdc.interface.encodeFunctionData("approve", [puller.target, USDC("10")]);
        await (await ownerCall(f, executeCall(f, f.usdc.target as string, 0n, approve))).wait();
        const remove = f.spendLimitHook.interface.encodeFunctionData("removeBudget", [
          SESSION_ID,
          f.usdc.target as string,
        ]);
        await (await ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, remove))).wait();
        const claim = puller.interface.encodeFunctionData("claimRewards");
        const { op } = await sessionOp(f, executeCall(f, puller.target as string, 0n, claim));
        const receipt = await sendOp(ethers, f.entryPoint, op);
        expect(opRevertData(f.entryPoint, receipt)).to.equal(
          f.spendLimitHook.interface.encodeErrorResult("SpendLimitNoBudget", [
            f.accountAddress,
            SESSION_ID,
            f.usdc.target,
          ]),
        );
        expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(USDC("1000"));
      });
    });
  });

  describe("setPaymaster", function () {
    describe("when the owner disallows a paymaster", function () {
      it("disallows the paymaster even once the sponsored fee cap is gone, which allowing one needs", async function () {
        const f = await networkHelpers.loadFixture(sessionFixtureOnly);
        const paymaster = fakeToken(100);
        const hook = await installForStranger(f, [SPONSORED_GAS_ASSET, SPONSORED_FEE_ASSET], [paymaster]);
        await (await hook.removeBudget(1, SPONSORED_FEE_ASSET)).wait();
        await expect(hook.setPaymaster(1, paymaster, false))
          .to.emit(f.spendLimitHook, "PaymasterSet")
          .withArgs(f.stranger.address, 1, paymaster, false);
        expect(await f.spendLimitHook.isPaymasterAllowed(f.stranger.address, 1, paymaster)).to.equal(false);
      });
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
});

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
