/**
 * Paths of the modules the rest of the suite did not take, found by the coverage gate (docs/COVERAGE.md): the owner
 * module's install refusals, the spend-limit hook's per-asset summing across tokens and its truncated transferFrom
 * refusal, the session module's refusal of owner signatures on accounts without the ERC-6900 view.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, parseEther, parseUnits, ZeroAddress, ZeroHash } from "ethers";

import { encodeModuleEntity, encodeValidationConfig } from "../../client/encoding.js";
import { NATIVE_ASSET, SELECTOR_ANY } from "../../client/session.js";
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
import { opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

const USDC = (amount: string) => parseUnits(amount, 6);

async function fixture() {
  return sessionFixture(ethers, networkHelpers);
}

/** installValidation calldata for an owner-module validation `entityId` whose install data names `dataEntityId`. */
function installOwnerValidation(f: SessionFixture, entityId: number, dataEntityId: number, newOwner: string) {
  const config = encodeValidationConfig(
    { module: f.ownerModule.target as string, entityId },
    { isGlobal: true, isSignatureValidation: true, isUserOpValidation: true },
  );
  const installData = ethers.AbiCoder.defaultAbiCoder().encode(["uint32", "address"], [dataEntityId, newOwner]);
  return f.account.interface.encodeFunctionData("installValidation", [config, [], installData, []]);
}

describe("OwnerValidationModule (coverage)", function () {
  describe("onInstall", function () {
    describe("when the owner is the zero address", function () {
      it("reverts with OwnerValidationZeroOwner if the install data names no owner", async function () {
        const f = await networkHelpers.loadFixture(fixture);
        await expect(ownerCall(f, installOwnerValidation(f, 3, 3, ZeroAddress))).to.be.revertedWithCustomError(
          f.ownerModule,
          "OwnerValidationZeroOwner",
        );
        expect(await f.ownerModule.owner(3, f.accountAddress)).to.equal(ZeroAddress);
      });
    });

    describe("when the entity already has an owner on the account", function () {
      it("reverts with OwnerValidationAlreadyInitialized if install data for another validation names that entity", async function () {
        const f = await networkHelpers.loadFixture(fixture);
        await expect(ownerCall(f, installOwnerValidation(f, 3, 0, f.stranger.address)))
          .to.be.revertedWithCustomError(f.ownerModule, "OwnerValidationAlreadyInitialized")
          .withArgs(f.accountAddress, 0);
        expect(await f.ownerModule.owner(0, f.accountAddress)).to.equal(f.owner.address);
      });
    });
  });

  describe("moduleId", function () {
    it("reports the module's id", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await f.ownerModule.moduleId()).to.equal("leash.owner-validation.0.1.0");
    });
  });
});

describe("SpendLimitHook (coverage)", function () {
  describe("preUserOpValidationHook on a batch", function () {
    /** A session over USDC and a second token, with a budget for each. */
    async function twoTokenFixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      const dai = await ethers.deployContract("TestToken", ["Dai", "DAI", 18]);
      await (await dai.mint(f.accountAddress, parseEther("1000"))).wait();
      const session = typicalSession(f, {
        scope: [
          { target: f.usdc.target as string, selector: f.usdc.interface.getFunction("transfer").selector },
          { target: dai.target as string, selector: dai.interface.getFunction("transfer").selector },
        ],
        budgets: [
          { asset: NATIVE_ASSET, limit: parseEther("1"), period: DAY, perCallCap: 0n },
          { asset: f.usdc.target as string, limit: USDC("100"), period: DAY, perCallCap: 0n },
          { asset: dai.target as string, limit: parseEther("100"), period: DAY, perCallCap: 0n },
        ],
      });
      await (await grantByTransaction(f, session)).wait();
      return { ...f, dai };
    }

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
      // Validation records the gas (GAS_COST) and checks the value; the execution hook charges the value.
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
        expect((await f.spendLimitHook.getBudget(f.stranger.address, 1, NATIVE_ASSET)).spent).to.equal(GAS_COST);
      });

      it("reports the lifetime budget's remainder with no period end", async function () {
        const f = await networkHelpers.loadFixture(lifetimeFixture);
        await (await f.spendLimitHook.connect(f.stranger).preUserOpValidationHook(1, f.op, ZeroHash)).wait();
        expect(await f.spendLimitHook.remainingBudget(f.stranger.address, 1, NATIVE_ASSET)).to.deep.equal([
          NATIVE_LIMIT - GAS_COST,
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
