/**
 * The modular account executes calls, through the real EntryPoint v0.8: the owner's user ops and runtime calls
 * (execute, executeBatch, self calls checked against the validation), a module's direct calls under a direct-call
 * validation, and the refusals of malformed selections, authorizations and calldata, of a validation that names an
 * aggregator or answers no validation data, and of callers other than the EntryPoint.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, parseEther, Wallet, ZeroAddress, ZeroHash } from "ethers";

import {
  DIRECT_CALL_ENTITY_ID,
  encodeHookInstall,
  encodeModuleEntity,
  encodeValidationConfig,
  encodeValidationHook,
} from "../../client/encoding.js";
import { packUserOp } from "../../client/userOp.js";
import {
  installSecondValidation,
  modularAccountFixture,
  ONE_CENT_ETH,
  ownerAuthorization,
  ownerCall,
  ownerOp,
  ownerSelection,
  SECOND_OWNER_ENTITY,
  secondEntity,
  selectorOf,
  type AccountFixture,
} from "../helpers/account.js";
import { buildSignedOp, opRevertData, opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

async function accountFixture() {
  return modularAccountFixture(ethers);
}

/** The owner's op for `callData`, then its signature replaced by `signature`. */
async function ownerOpWithSignature(f: AccountFixture, signature: string) {
  const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
  const { op } = await buildSignedOp(f.entryPoint, {
    sender: f.accountAddress,
    callData,
    selection: ownerSelection(f),
    signer: f.owner,
  });
  return { ...op, signature };
}

describe("ModularAccount", function () {
  describe("owner user operations", function () {
    it("sends native currency with an owner-signed execute", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const receipt = await sendOp(ethers, f.entryPoint, await ownerOp(f, callData));
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);
    });

    it("runs every call of an owner-signed executeBatch", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const other = Wallet.createRandom().address;
      const callData = f.account.interface.encodeFunctionData("executeBatch", [
        [
          { target: f.recipient, value: ONE_CENT_ETH, data: "0x" },
          { target: other, value: 2n * ONE_CENT_ETH, data: "0x" },
        ],
      ]);
      const receipt = await sendOp(ethers, f.entryPoint, await ownerOp(f, callData));
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);
      expect(await ethers.provider.getBalance(other)).to.equal(2n * ONE_CENT_ETH);
    });

    it("reverts the whole batch if one call reverts", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const callData = f.account.interface.encodeFunctionData("executeBatch", [
        [
          { target: f.recipient, value: ONE_CENT_ETH, data: "0x" },
          { target: f.recipient, value: parseEther("1000"), data: "0x" }, // more than the account holds
        ],
      ]);
      const receipt = await sendOp(ethers, f.entryPoint, await ownerOp(f, callData));
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(false);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("is refused (AA23) when the selection prefix names a validation that is not installed", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const notInstalled = { module: f.ownerModule.target as string, entityId: 5 };
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: await f.account.getAddress(),
        callData,
        selection: { validation: notInstalled, isGlobal: true },
        signer: f.owner,
      });
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.account.interface.encodeErrorResult("AccountValidationNotInstalled", [encodeModuleEntity(notInstalled)]),
        );
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });
  });

  describe("validateUserOp", function () {
    describe("when the signature's selection is malformed", function () {
      it("reverts (AA23) with AccountValidationSelectionMalformed if the signature is shorter than a selection", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const op = await ownerOpWithSignature(f, "0x0102");
        await expect(sendOp(ethers, f.entryPoint, op))
          .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
          .withArgs(0n, "AA23 reverted", f.account.interface.encodeErrorResult("AccountValidationSelectionMalformed"));
      });

      it("reverts (AA23) with AccountValidationSelectionMalformed if the selection flags are unknown", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const validation = encodeModuleEntity(ownerSelection(f).validation);
        const op = await ownerOpWithSignature(f, concat([validation, "0x04", "0xff"]));
        await expect(sendOp(ethers, f.entryPoint, op))
          .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
          .withArgs(0n, "AA23 reverted", f.account.interface.encodeErrorResult("AccountValidationSelectionMalformed"));
      });

      it("reverts (AA23) with AccountValidationSelectionMalformed if the deferred install has no length", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const validation = encodeModuleEntity(ownerSelection(f).validation);
        const op = await ownerOpWithSignature(f, concat([validation, "0x03", "0x0001"]));
        await expect(sendOp(ethers, f.entryPoint, op))
          .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
          .withArgs(0n, "AA23 reverted", f.account.interface.encodeErrorResult("AccountValidationSelectionMalformed"));
      });

      it("reverts (AA23) with AccountValidationSelectionMalformed if the deferred install is shorter than its length", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const validation = encodeModuleEntity(ownerSelection(f).validation);
        const op = await ownerOpWithSignature(f, concat([validation, "0x03", "0x00000040", "0x0102"]));
        await expect(sendOp(ethers, f.entryPoint, op))
          .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
          .withArgs(0n, "AA23 reverted", f.account.interface.encodeErrorResult("AccountValidationSelectionMalformed"));
      });
    });

    /** Installs `module` (entity 1) as a global user-op validation and builds an owner-signed payment it validates. */
    async function opValidatedBy(f: AccountFixture, module: string) {
      const validation = { module, entityId: 1 };
      const config = encodeValidationConfig(validation, {
        isGlobal: true,
        isSignatureValidation: false,
        isUserOpValidation: true,
      });
      const install = f.account.interface.encodeFunctionData("installValidation", [config, [], "0x", []]);
      await (await ownerCall(f, install)).wait();
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: f.accountAddress,
        callData,
        selection: { validation, isGlobal: true },
        signer: f.owner,
      });
      return op;
    }

    describe("when the validation names a signature aggregator", function () {
      it("reverts (AA23) with AccountUnexpectedAuthorizer", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const module = await ethers.deployContract("AggregatorValidationModule");
        await expect(sendOp(ethers, f.entryPoint, await opValidatedBy(f, module.target as string)))
          .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
          .withArgs(
            0n,
            "AA23 reverted",
            f.account.interface.encodeErrorResult("AccountUnexpectedAuthorizer", [
              module.target,
              1,
              await module.AGGREGATOR(),
            ]),
          );
        expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
      });
    });

    describe("when the validation answers no validation data", function () {
      it("reverts (AA23) with AccountValidationDataMissing, rather than read the op as valid", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const module = await ethers.deployContract("SilentValidationModule");
        await expect(sendOp(ethers, f.entryPoint, await opValidatedBy(f, module.target as string)))
          .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
          .withArgs(
            0n,
            "AA23 reverted",
            f.account.interface.encodeErrorResult("AccountValidationDataMissing", [module.target]),
          );
        expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
      });
    });

    describe("when the validation is not enabled for user ops", function () {
      it("reverts (AA23) with AccountUserOpValidationNotAllowed", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        await (await ownerCall(f, installSecondValidation(f, { isGlobal: true, isUserOpValidation: false }))).wait();
        const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
        const { op } = await buildSignedOp(f.entryPoint, {
          sender: f.accountAddress,
          callData,
          selection: {
            validation: { module: f.ownerModule.target as string, entityId: SECOND_OWNER_ENTITY },
            isGlobal: true,
          },
          signer: f.stranger,
        });
        await expect(sendOp(ethers, f.entryPoint, op))
          .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
          .withArgs(
            0n,
            "AA23 reverted",
            f.account.interface.encodeErrorResult("AccountUserOpValidationNotAllowed", [secondEntity(f)]),
          );
        expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
      });
    });
  });

  describe("owner runtime calls", function () {
    it("lets the owner's EOA execute through executeWithRuntimeValidation", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const data = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      await (await f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f))).wait();
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);
    });

    it("reverts with AccountUnauthorizedCaller when anyone calls execute directly", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await expect(f.account.connect(f.owner).execute(f.recipient, ONE_CENT_ETH, "0x"))
        .to.be.revertedWithCustomError(f.account, "AccountUnauthorizedCaller")
        .withArgs(f.owner.address, f.account.interface.getFunction("execute").selector);
    });

    it("reverts with AccountNotFromEntryPoint when anyone but the EntryPoint calls validateUserOp or executeUserOp", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const op = await ownerOp(f, callData);
      const { packUserOp } = await import("../../client/userOp.js");
      await expect(f.account.connect(f.owner).validateUserOp(packUserOp(op), ethers.ZeroHash, 0n))
        .to.be.revertedWithCustomError(f.account, "AccountNotFromEntryPoint")
        .withArgs(f.owner.address);
      await expect(f.account.connect(f.owner).executeUserOp(packUserOp(op), ethers.ZeroHash))
        .to.be.revertedWithCustomError(f.account, "AccountNotFromEntryPoint")
        .withArgs(f.owner.address);
    });
  });

  describe("executeWithRuntimeValidation", function () {
    const pay = (f: AccountFixture) =>
      f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);

    describe("when the authorization is malformed", function () {
      it("reverts with AccountValidationSelectionMalformed if it is shorter than a selection", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        await expect(
          f.account.connect(f.owner).executeWithRuntimeValidation(pay(f), "0x0102"),
        ).to.be.revertedWithCustomError(f.account, "AccountValidationSelectionMalformed");
      });

      it("reverts with AccountValidationSelectionMalformed if its flag byte is not 0 or 1", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const validation = encodeModuleEntity(ownerSelection(f).validation);
        await expect(
          f.account.connect(f.owner).executeWithRuntimeValidation(pay(f), concat([validation, "0x02", "0xff"])),
        ).to.be.revertedWithCustomError(f.account, "AccountValidationSelectionMalformed");
      });
    });

    describe("when the call data cannot be validated", function () {
      it("reverts with AccountCalldataTooShort if the data is shorter than a selector", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        await expect(ownerCall(f, "0x010203")).to.be.revertedWithCustomError(f.account, "AccountCalldataTooShort");
        expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
      });

      it("reverts with AccountSelectorNotAllowed if the data calls a dispatcher (executeUserOp)", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const data = f.account.interface.encodeFunctionData("executeUserOp", [
          {
            sender: f.accountAddress,
            nonce: 0n,
            initCode: "0x",
            callData: "0x",
            accountGasLimits: ZeroHash,
            preVerificationGas: 0n,
            gasFees: ZeroHash,
            paymasterAndData: "0x",
            signature: "0x",
          },
          ZeroHash,
        ]);
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountSelectorNotAllowed")
          .withArgs(selectorOf(f, "executeUserOp"));
      });
    });

    describe("when executeBatch calls the account itself", function () {
      it("reverts with AccountCalldataTooShort if a self call's data is shorter than a selector", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const data = f.account.interface.encodeFunctionData("executeBatch", [
          [
            { target: f.recipient, value: ONE_CENT_ETH, data: "0x" },
            { target: f.accountAddress, value: 0n, data: "0x0102" },
          ],
        ]);
        await expect(ownerCall(f, data)).to.be.revertedWithCustomError(f.account, "AccountCalldataTooShort");
        expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
      });

      it("reverts with AccountSelectorNotAllowed if a self call is an execute", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const data = f.account.interface.encodeFunctionData("executeBatch", [
          [{ target: f.accountAddress, value: 0n, data: pay(f) }],
        ]);
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountSelectorNotAllowed")
          .withArgs(selectorOf(f, "execute"));
      });

      it("checks a self call against the validation and runs it", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const data = f.account.interface.encodeFunctionData("executeBatch", [
          [{ target: f.accountAddress, value: 0n, data: installSecondValidation(f) }],
        ]);
        await expect(ownerCall(f, data))
          .to.emit(f.account, "ValidationInstalled")
          .withArgs(f.ownerModule.target, SECOND_OWNER_ENTITY);
        expect(await f.ownerModule.owner(SECOND_OWNER_ENTITY, f.accountAddress)).to.equal(f.stranger.address);
      });
    });
  });

  describe("direct-call validation", function () {
    /** Gives `caller` a direct-call validation for `execute` only, with the recording validation hook. */
    async function installDirectCall(f: AccountFixture, caller: string) {
      const config = encodeValidationConfig(
        { module: caller, entityId: DIRECT_CALL_ENTITY_ID },
        { isGlobal: false, isSignatureValidation: false, isUserOpValidation: false },
      );
      const selector = f.account.interface.getFunction("execute").selector;
      const hooks = [encodeHookInstall(encodeValidationHook({ module: f.hooks.target as string, entityId: 21 }))];
      const data = f.account.interface.encodeFunctionData("installValidation", [config, [selector], "0x", hooks]);
      await (await f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f))).wait();
    }

    it("lets a module holding a direct-call validation for execute call it, running its validation hook", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const caller = await ethers.deployContract("DirectCallerModule");
      await installDirectCall(f, caller.target as string);
      const accountAddress = await f.account.getAddress();
      const data = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      await expect(caller.forward(accountAddress, data))
        .to.emit(f.hooks, "PreRuntimeValidationHookCalled")
        .withArgs(accountAddress, 21n, caller.target, 0n, data, "0x");
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);
    });

    it("refuses that module a function outside its direct-call selectors", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const caller = await ethers.deployContract("DirectCallerModule");
      await installDirectCall(f, caller.target as string);
      const data = f.account.interface.encodeFunctionData("upgradeToAndCall", [f.recipient, "0x"]);
      await expect(caller.forward(await f.account.getAddress(), data))
        .to.be.revertedWithCustomError(f.account, "AccountValidationNotApplicable")
        .withArgs(
          encodeModuleEntity({ module: caller.target as string, entityId: DIRECT_CALL_ENTITY_ID }),
          f.account.interface.getFunction("upgradeToAndCall").selector,
        );
    });

    it("refuses that module an execute aimed at the account itself", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const caller = await ethers.deployContract("DirectCallerModule");
      await installDirectCall(f, caller.target as string);
      const accountAddress = await f.account.getAddress();
      const inner = f.account.interface.encodeFunctionData("installValidation", [
        encodeValidationConfig(
          { module: caller.target as string, entityId: 1 },
          { isGlobal: true, isSignatureValidation: true, isUserOpValidation: true },
        ),
        [],
        "0x",
        [],
      ]);
      const data = f.account.interface.encodeFunctionData("execute", [accountAddress, 0n, inner]);
      await expect(caller.forward(accountAddress, data))
        .to.be.revertedWithCustomError(f.account, "AccountValidationNotApplicable")
        .withArgs(
          encodeModuleEntity({ module: caller.target as string, entityId: DIRECT_CALL_ENTITY_ID }),
          f.account.interface.getFunction("installValidation").selector,
        );
    });

    it("refuses any other caller", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const caller = await ethers.deployContract("DirectCallerModule");
      await installDirectCall(f, caller.target as string);
      await expect(f.account.connect(f.stranger).execute(f.recipient, ONE_CENT_ETH, "0x"))
        .to.be.revertedWithCustomError(f.account, "AccountUnauthorizedCaller")
        .withArgs(f.stranger.address, f.account.interface.getFunction("execute").selector);
    });
  });

  describe("execution reverts", function () {
    it("bubbles the callee's revert data into UserOperationRevertReason", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      // Calling the owner module's transferOwnership with a zero owner reverts with OwnerValidationZeroOwner.
      const inner = f.ownerModule.interface.encodeFunctionData("transferOwnership", [0, ZeroAddress]);
      const callData = f.account.interface.encodeFunctionData("execute", [f.ownerModule.target as string, 0n, inner]);
      const receipt = await sendOp(ethers, f.entryPoint, await ownerOp(f, callData));
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(false);
      expect(opRevertData(f.entryPoint, receipt)).to.equal(
        f.ownerModule.interface.encodeErrorResult("OwnerValidationZeroOwner", []),
      );
    });
  });
});
