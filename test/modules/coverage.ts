/**
 * Paths of the modules the rest of the suite did not take, found by the coverage gate (docs/COVERAGE.md): the
 * spend-limit hook's per-asset summing across tokens and its truncated transferFrom refusal, its token list's
 * bookkeeping (budgets added and removed, the 17th token), a paymaster disallowed once its sponsorship bounds are
 * gone, the execution hook's snapshot of approvals (repeated, several spenders, another budgeted token, calldata that
 * is no execution, dirty spender bits), of transferFrom and of contracts the op calls, its charge of a native loss
 * beyond the calls' values, the session module's refusal of owner signatures on accounts without the ERC-6900 view.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, getAddress, parseEther, parseUnits, toBeHex, ZeroAddress, ZeroHash, zeroPadValue } from "ethers";

import { encodeModuleEntity } from "../../client/encoding.js";
import {
  NATIVE_ASSET,
  OPERATIONS_ASSET,
  SELECTOR_ANY,
  SPONSORED_FEE_ASSET,
  SPONSORED_GAS_ASSET,
} from "../../client/session.js";
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

async function fixture() {
  return sessionFixture(ethers, networkHelpers);
}

describe("SpendLimitHook (coverage)", function () {
  /** A session over USDC and a second token, with a budget for each. */
  async function twoTokenFixture() {
    const f = await sessionFixture(ethers, networkHelpers);
    const dai = await ethers.deployContract("TestToken", ["Dai", "DAI", 18]);
    await (await dai.mint(f.accountAddress, parseEther("1000"))).wait();
    const session = typicalSession(f, {
      // The ERC-20 spends by name: a wildcard does not cover them (THREATS 26).
      scope: [f.usdc, dai].flatMap((token) =>
        (["transfer", "approve", "increaseAllowance"] as const).map((name) => ({
          target: token.target as string,
          selector: token.interface.getFunction(name).selector,
        })),
      ),
      budgets: [
        { asset: NATIVE_ASSET, limit: parseEther("1"), period: DAY, perCallCap: 0n },
        { asset: f.usdc.target as string, limit: USDC("100"), period: DAY, perCallCap: 0n },
        { asset: dai.target as string, limit: parseEther("100"), period: DAY, perCallCap: 0n },
      ],
    });
    await (await grantByTransaction(f, session)).wait();
    return { ...f, dai };
  }

  /** A fake token address for the hook's bookkeeping (onInstall, setBudget and removeBudget never call a token). */
  const fakeToken = (i: number) => getAddress(zeroPadValue(toBeHex(0x1000 + i), 20));

  /**
   * The stranger's EOA stands in for an account: it installs entity 1 with a lifetime budget of each asset, and
   * allows `paymasters`.
   */
  async function installForStranger(f: SessionFixture, assets: string[], paymasters: string[] = []) {
    const install = ethers.AbiCoder.defaultAbiCoder().encode(
      ["uint32", "uint48", "address[]", "uint256[]", "uint48[]", "uint256[]", "address[]"],
      [1, f.now, assets, assets.map(() => 1_000n), assets.map(() => 0n), assets.map(() => 0n), paymasters],
    );
    await (await f.spendLimitHook.connect(f.stranger).onInstall(install)).wait();
    return f.spendLimitHook.connect(f.stranger);
  }

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

  describe("setBudget", function () {
    describe("when the new limit is below what was spent in the period", function () {
      it("keeps the spent amount at the new limit and emits BudgetSet with it: nothing remains, never less", async function () {
        const f = await networkHelpers.loadFixture(fixture);
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
        const f = await networkHelpers.loadFixture(fixture);
        const hook = await installForStranger(f, [fakeToken(0)]);
        await (await hook.setBudget(1, NATIVE_ASSET, 500n, 0, 0n, false)).wait();
        expect((await f.spendLimitHook.getBudget(f.stranger.address, 1, NATIVE_ASSET)).limit).to.equal(500n);
        expect(await f.spendLimitHook.budgetedTokensOf(f.stranger.address, 1)).to.deep.equal([fakeToken(0)]);
      });
    });

    describe("when the session already has 16 budgeted tokens", function () {
      it("reverts with SpendLimitTooManyEntries if the owner adds a 17th token", async function () {
        const f = await networkHelpers.loadFixture(fixture);
        const tokens = Array.from({ length: 16 }, (_, i) => fakeToken(i));
        const hook = await installForStranger(f, tokens);
        await expect(hook.setBudget(1, fakeToken(16), 1n, 0, 0n, false))
          .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitTooManyEntries")
          .withArgs(17n, 0n);
        expect(await f.spendLimitHook.budgetedTokensOf(f.stranger.address, 1)).to.deep.equal(tokens);
      });
    });
  });

  describe("preUserOpValidationHook on transferFrom", function () {
    describe("when the calldata is shorter than three arguments", function () {
      it("reverts (AA23) with SpendLimitTokenCallRefused if transferFrom's calldata is truncated", async function () {
        const f = await networkHelpers.loadFixture(fixture);
        await (
          await grantByTransaction(
            f,
            typicalSession(f, { scope: [{ target: f.usdc.target as string, selector: SELECTOR_ANY }] }),
          )
        ).wait();
        const full = f.usdc.interface.encodeFunctionData("transferFrom", [f.accountAddress, f.recipient, USDC("1")]);
        const data = full.slice(0, 2 + 2 * (4 + 64)); // selector, from, to: no amount
        const { op } = await sessionOp(f, executeCall(f, f.usdc.target as string, 0n, data));
        await expect(sendOp(ethers, f.entryPoint, op))
          .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
          .withArgs(
            0n,
            "AA23 reverted",
            f.spendLimitHook.interface.encodeErrorResult("SpendLimitTokenCallRefused", [
              f.usdc.target,
              data.slice(0, 10),
            ]),
          );
        expect(
          (await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, f.usdc.target as string)).spent,
        ).to.equal(0n);
      });
    });
  });

  describe("removeBudget", function () {
    describe("when the asset has no budget", function () {
      it("emits BudgetRemoved and leaves the budgeted tokens as they were if the asset has no budget", async function () {
        const f = await networkHelpers.loadFixture(fixture);
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
        const f = await networkHelpers.loadFixture(fixture);
        const hook = await installForStranger(f, [NATIVE_ASSET, fakeToken(0)]);
        await (await hook.removeBudget(1, NATIVE_ASSET)).wait();
        expect((await f.spendLimitHook.getBudget(f.stranger.address, 1, NATIVE_ASSET)).limit).to.equal(0n);
        expect(await f.spendLimitHook.budgetedTokensOf(f.stranger.address, 1)).to.deep.equal([fakeToken(0)]);
      });
    });

    describe("when the asset is the op count", function () {
      it("lifts the rate limit: ops beyond the removed op-count budget's limit are accepted", async function () {
        const f = await networkHelpers.loadFixture(fixture);
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
        const f = await networkHelpers.loadFixture(fixture);
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
        const f = await networkHelpers.loadFixture(fixture);
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
        const f = await networkHelpers.loadFixture(fixture);
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

  describe("preExecutionHook", function () {
    /**
     * The context of a snapshot: native balance, the calls' values, token count, (token, balance, transfers,
     * recorded) per token, then (token, spender, allowance) per allowance pair.
     */
    /** The first word of a context pair for an approval the op makes: the token with bit 160 set. */
    const approvalPair = (token: string) => toBeHex(BigInt(token) | (1n << 160n), 32);
    const snapshot = (
      nativeBalance: bigint,
      values: bigint,
      tokens: [string, bigint, bigint, bigint][],
      pairs: [string, string, bigint][] = [],
    ) =>
      concat([
        toBeHex(nativeBalance, 32),
        toBeHex(values, 32),
        toBeHex(tokens.length, 32),
        ...tokens.flatMap(([token, balance, transfers, recorded]) => [
          zeroPadValue(token, 32),
          toBeHex(balance, 32),
          toBeHex(transfers, 32),
          toBeHex(recorded, 32),
        ]),
        ...pairs.flatMap(([token, spender, allowance]) => [
          zeroPadValue(token, 32),
          zeroPadValue(spender, 32),
          toBeHex(allowance, 32),
        ]),
      ]);

    /** The stranger stands in for an account with a USDC budget (it holds no USDC). */
    async function strangerFixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      await installForStranger(f, [f.usdc.target as string]);
      return f;
    }

    describe("when the execution is neither execute nor executeBatch", function () {
      it("snapshots the balances but no call, even for calldata shaped like a token approval", async function () {
        const f = await networkHelpers.loadFixture(strangerFixture);
        const data = f.usdc.interface.encodeFunctionData("approve", [f.agent.address, USDC("5")]);
        const context = await f.spendLimitHook.connect(f.stranger).preExecutionHook(1, ZeroAddress, 0n, data);
        const balance = await ethers.provider.getBalance(f.stranger.address);
        expect(context).to.equal(snapshot(balance, 0n, [[f.usdc.target as string, 0n, 0n, 0n]]));
      });
    });

    describe("when executeUserOp wraps an op whose callData is shorter than a selector", function () {
      it("snapshots the balances but no call if the op's callData holds no selector", async function () {
        const f = await networkHelpers.loadFixture(strangerFixture);
        const op = {
          sender: f.stranger.address,
          nonce: 0n,
          initCode: "0x",
          callData: "0x095ea7",
          accountGasLimits: ZeroHash,
          preVerificationGas: 0n,
          gasFees: ZeroHash,
          paymasterAndData: "0x",
          signature: "0x",
        };
        const data = f.account.interface.encodeFunctionData("executeUserOp", [op, ZeroHash]);
        const context = await f.spendLimitHook.connect(f.stranger).preExecutionHook(1, ZeroAddress, 0n, data);
        const balance = await ethers.provider.getBalance(f.stranger.address);
        expect(context).to.equal(snapshot(balance, 0n, [[f.usdc.target as string, 0n, 0n, 0n]]));
      });
    });

    describe("when the op calls a contract that is not the budgeted token", function () {
      it("snapshots the account's allowance to it on the budgeted token, which it could pull", async function () {
        const f = await networkHelpers.loadFixture(strangerFixture);
        const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
        const approve = other.interface.encodeFunctionData("approve", [f.agent.address, 5n]);
        const data = executeCall(f, other.target as string, 3n, approve);
        const context = await f.spendLimitHook.connect(f.stranger).preExecutionHook(1, ZeroAddress, 0n, data);
        const balance = await ethers.provider.getBalance(f.stranger.address);
        expect(context).to.equal(
          snapshot(
            balance,
            3n,
            [[f.usdc.target as string, 0n, 0n, 0n]],
            [[f.usdc.target as string, other.target as string, 0n]],
          ),
        );
      });

      it("snapshots no allowance to a called address without code, which cannot pull", async function () {
        const f = await networkHelpers.loadFixture(strangerFixture);
        const data = executeCall(f, f.recipient, 3n);
        const context = await f.spendLimitHook.connect(f.stranger).preExecutionHook(1, ZeroAddress, 0n, data);
        const balance = await ethers.provider.getBalance(f.stranger.address);
        expect(context).to.equal(snapshot(balance, 3n, [[f.usdc.target as string, 0n, 0n, 0n]]));
      });
    });

    describe("when the op calls transferFrom on the budgeted token", function () {
      it("counts transferFrom of the account's own tokens as a transfer, and nothing for transferFrom of another address", async function () {
        const f = await networkHelpers.loadFixture(strangerFixture);
        const usdc = f.usdc.target as string;
        const data = f.account.interface.encodeFunctionData("executeBatch", [
          [
            {
              target: usdc,
              value: 0n,
              data: f.usdc.interface.encodeFunctionData("transferFrom", [f.stranger.address, f.recipient, 5n]),
            },
            {
              target: usdc,
              value: 0n,
              data: f.usdc.interface.encodeFunctionData("transferFrom", [f.agent.address, f.recipient, 7n]),
            },
          ],
        ]);
        const context = await f.spendLimitHook.connect(f.stranger).preExecutionHook(1, ZeroAddress, 0n, data);
        const balance = await ethers.provider.getBalance(f.stranger.address);
        expect(context).to.equal(snapshot(balance, 0n, [[usdc, 0n, 5n, 5n]]));
      });
    });

    describe("when the op calls the budgeted token with a function that spends nothing", function () {
      it("records no amount for a call to the budgeted token that is no ERC-20 spend of the account", async function () {
        const f = await networkHelpers.loadFixture(strangerFixture);
        const usdc = f.usdc.target as string;
        const allowance = f.usdc.interface.encodeFunctionData("allowance", [f.stranger.address, f.agent.address]);
        const data = executeCall(f, usdc, 0n, allowance);
        const context = await f.spendLimitHook.connect(f.stranger).preExecutionHook(1, ZeroAddress, 0n, data);
        const balance = await ethers.provider.getBalance(f.stranger.address);
        expect(context).to.equal(snapshot(balance, 0n, [[usdc, 0n, 0n, 0n]]));
      });
    });

    describe("when the op approves one called contract on the budgeted token and calls others", function () {
      it("snapshots the allowance of each called contract the op does not approve, once each", async function () {
        const f = await networkHelpers.loadFixture(strangerFixture);
        const usdc = f.usdc.target as string;
        // Contracts with code that are no modules (the hook refuses any call to a module before snapshotting).
        const approved = (await ethers.deployContract("ReentrantTarget")).target as string;
        const first = (await ethers.deployContract("ReentrantTarget")).target as string;
        const second = (await ethers.deployContract("ReentrantTarget")).target as string;
        const data = f.account.interface.encodeFunctionData("executeBatch", [
          [
            { target: usdc, value: 0n, data: f.usdc.interface.encodeFunctionData("approve", [approved, 9n]) },
            { target: approved, value: 0n, data: "0x" },
            { target: first, value: 0n, data: "0x" },
            { target: second, value: 0n, data: "0x" },
            { target: first, value: 0n, data: "0x" },
          ],
        ]);
        const context = await f.spendLimitHook.connect(f.stranger).preExecutionHook(1, ZeroAddress, 0n, data);
        const balance = await ethers.provider.getBalance(f.stranger.address);
        expect(context).to.equal(
          snapshot(
            balance,
            0n,
            [[usdc, 0n, 0n, 9n]],
            [
              [usdc, first, 0n],
              [usdc, second, 0n],
              // The op's own approval, to be credited with what its spender uses of it.
              [approvalPair(usdc), approved, 9n],
            ],
          ),
        );
      });

      it("lists one approval pair per spender, summing an approve and an increaseAllowance of it", async function () {
        const f = await networkHelpers.loadFixture(strangerFixture);
        const usdc = f.usdc.target as string;
        const approved = f.ownerModule.target as string;
        const data = f.account.interface.encodeFunctionData("executeBatch", [
          [
            { target: usdc, value: 0n, data: f.usdc.interface.encodeFunctionData("approve", [approved, 9n]) },
            {
              target: usdc,
              value: 0n,
              data: f.usdc.interface.encodeFunctionData("increaseAllowance", [approved, 5n]),
            },
          ],
        ]);
        const context = await f.spendLimitHook.connect(f.stranger).preExecutionHook(1, ZeroAddress, 0n, data);
        const balance = await ethers.provider.getBalance(f.stranger.address);
        expect(context).to.equal(snapshot(balance, 0n, [[usdc, 0n, 0n, 14n]], [[approvalPair(usdc), approved, 14n]]));
      });

      it("reads an approval's spender word with dirty high bits as its low 20 bytes, so that contract is approved", async function () {
        const f = await networkHelpers.loadFixture(strangerFixture);
        const usdc = f.usdc.target as string;
        const approved = (await ethers.deployContract("ReentrantTarget")).target as string;
        const clean = f.usdc.interface.encodeFunctionData("approve", [approved, 9n]);
        // The spender word's 12 high bytes set: bytes 4..16 of the calldata.
        const dirty = concat(["0x095ea7b3", "0x" + "ff".repeat(12), approved, "0x" + clean.slice(2 + 8 + 64)]);
        const data = f.account.interface.encodeFunctionData("executeBatch", [
          [
            { target: usdc, value: 0n, data: dirty },
            { target: approved, value: 0n, data: "0x" },
          ],
        ]);
        const context = await f.spendLimitHook.connect(f.stranger).preExecutionHook(1, ZeroAddress, 0n, data);
        const balance = await ethers.provider.getBalance(f.stranger.address);
        expect(context).to.equal(snapshot(balance, 0n, [[usdc, 0n, 0n, 9n]], [[approvalPair(usdc), approved, 9n]]));
      });
    });
  });

  describe("postExecutionHook", function () {
    /** Sends the agent's batch of `calls` to the session; expects it to succeed. */
    async function sendBatch(f: SessionFixture, calls: { target: string; value: bigint; data: string }[]) {
      const { op } = await sessionOp(f, f.account.interface.encodeFunctionData("executeBatch", [calls]));
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
    }
    const spentOf = async (f: SessionFixture, asset: string) =>
      (await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, asset)).spent;

    describe("when more native currency left than the calls' values", function () {
      it("charges the native loss beyond the calls' values, refusing it over the native budget", async function () {
        const f = await networkHelpers.loadFixture(fixture);
        const hook = await installForStranger(f, [NATIVE_ASSET]);
        const balance = await ethers.provider.getBalance(f.stranger.address);
        // Before the execution: the balance now plus 2 wei of call values plus 1,001 wei more (the limit is 1,000).
        const context = concat([toBeHex(balance + 2n + 1_001n, 32), toBeHex(2n, 32), toBeHex(0n, 32)]);
        await expect(hook.postExecutionHook.staticCall(1, context))
          .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitExceeded")
          .withArgs(f.stranger.address, 1, NATIVE_ASSET, 1_001n, 1_000n);
      });
    });

    describe("when a batch approves the same spender twice", function () {
      it("charges the allowance two approvals of one spender leave once, not each approval", async function () {
        const f = await networkHelpers.loadFixture(twoTokenFixture);
        const usdc = f.usdc.target as string;
        await sendBatch(f, [
          {
            target: usdc,
            value: 0n,
            data: f.usdc.interface.encodeFunctionData("approve", [f.stranger.address, USDC("30")]),
          },
          {
            target: usdc,
            value: 0n,
            data: f.usdc.interface.encodeFunctionData("increaseAllowance", [f.stranger.address, USDC("20")]),
          },
        ]);
        expect(await f.usdc.allowance(f.accountAddress, f.stranger.address)).to.equal(USDC("50"));
        expect(await spentOf(f, usdc)).to.equal(USDC("50"));
      });
    });

    describe("when a batch approves two spenders of one token", function () {
      it("charges the allowances approvals of two spenders leave, the sum of both", async function () {
        const f = await networkHelpers.loadFixture(twoTokenFixture);
        const usdc = f.usdc.target as string;
        await sendBatch(f, [
          {
            target: usdc,
            value: 0n,
            data: f.usdc.interface.encodeFunctionData("approve", [f.stranger.address, USDC("30")]),
          },
          { target: usdc, value: 0n, data: f.usdc.interface.encodeFunctionData("approve", [f.recipient, USDC("20")]) },
        ]);
        expect(await f.usdc.allowance(f.accountAddress, f.recipient)).to.equal(USDC("20"));
        expect(await spentOf(f, usdc)).to.equal(USDC("50"));
      });
    });

    describe("when the session budgets two tokens and the op approves the second", function () {
      it("charges an approval of one budgeted token to that token's budget only", async function () {
        const f = await networkHelpers.loadFixture(twoTokenFixture);
        const approve = f.dai.interface.encodeFunctionData("approve", [f.stranger.address, parseEther("7")]);
        const { op } = await sessionOp(f, executeCall(f, f.dai.target as string, 0n, approve));
        expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
        expect([await spentOf(f, f.dai.target as string), await spentOf(f, f.usdc.target as string)]).to.deep.equal([
          parseEther("7"),
          0n,
        ]);
      });
    });
  });
});

describe("SessionKeyValidationModule (coverage)", function () {
  describe("revokeAllWithSignature", function () {
    describe("when the account does not implement the ERC-6900 view", function () {
      it("reverts with SessionOwnerSignatureInvalid if the account cannot report the signing validation", async function () {
        const f = await networkHelpers.loadFixture(fixture);
        const host = await ethers.deployContract("MinimalHost");
        const signature = concat([encodeModuleEntity({ module: f.ownerModule.target as string, entityId: 0 }), "0x00"]);
        await expect(f.sessionModule.revokeAllWithSignature(host.target as string, 1n, signature))
          .to.be.revertedWithCustomError(f.sessionModule, "SessionOwnerSignatureInvalid")
          .withArgs(host.target);
        expect(await f.sessionModule.isNonceUsed(host.target as string, 1n)).to.equal(false);
      });
    });
  });
});
