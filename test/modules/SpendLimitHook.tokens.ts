/**
 * How SpendLimitHook reads the op's calls to tokens, through the real EntryPoint v0.8 and directly from an EOA
 * standing in for an account: the ERC-20 functions validation charges or refuses (THREATS 5), and the snapshot of
 * balances and allowances the execution hook takes before the calls and charges after them. Test names starting with
 * "T<n>" are the named regression tests of ../shared/THREATS.md item n.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, parseEther, toBeHex, ZeroAddress, ZeroHash, zeroPadValue } from "ethers";

import { NATIVE_ASSET, SELECTOR_ANY } from "../../client/session.js";
import {
  executeCall,
  expectRefusedOn,
  grantByTransaction,
  SESSION_ID,
  sessionFixture,
  sessionOp,
  typicalSession,
  USDC,
  usdcTransfer,
  type SessionFixture,
} from "../helpers/sessions.js";
import { installForStranger, twoTokenSessionFixture } from "../helpers/spendLimit.js";
import { opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

/** A fixture without any session, for tests that grant their own. */
async function sessionFixtureOnly() {
  return sessionFixture(ethers, networkHelpers);
}

async function twoTokenFixture() {
  return twoTokenSessionFixture(ethers, networkHelpers);
}

const expectRefused = expectRefusedOn(ethers);

describe("SpendLimitHook", function () {
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

  describe("preUserOpValidationHook on transferFrom", function () {
    describe("when the calldata is shorter than three arguments", function () {
      it("reverts (AA23) with SpendLimitTokenCallRefused if transferFrom's calldata is truncated", async function () {
        const f = await networkHelpers.loadFixture(sessionFixtureOnly);
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
        const f = await networkHelpers.loadFixture(sessionFixtureOnly);
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
