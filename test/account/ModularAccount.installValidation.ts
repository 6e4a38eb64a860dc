/**
 * installValidation / uninstallValidation on the modular account, through the real EntryPoint v0.8: validation and
 * execution hooks (installed, run with their data, refusing, uninstalled even when they revert), selector-scoped
 * validations, and the refusals and bookkeeping of hook configs and selectors (malformed, duplicated, too many, of
 * modules that do not implement the hook's interface).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, toBeHex, ZeroAddress } from "ethers";

import {
  encodeExecutionHook,
  encodeHookInstall,
  encodeModuleEntity,
  encodeValidationConfig,
  encodeValidationHook,
  encodeValidationSignature,
  type ModuleFunction,
} from "../../client/encoding.js";
import {
  installSecondValidation,
  modularAccountFixture,
  ONE_CENT_ETH,
  OTHER_SELECTOR,
  ownerAuthorization,
  ownerCall,
  SECOND_OWNER_ENTITY,
  secondEntity,
  selectorOf,
  type AccountFixture,
} from "../helpers/account.js";
import { OWNER_ENTITY_ID } from "../helpers/fixture.js";
import { buildSignedOp, opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

async function accountFixture() {
  return modularAccountFixture(ethers);
}

/** A HookConfig with arbitrary flag bits (the client's encoders only build valid ones). */
function rawHookConfig(fn: ModuleFunction, flags: number): string {
  return concat([encodeModuleEntity(fn), toBeHex(flags, 1)]);
}

describe("ModularAccount", function () {
  describe("installValidation / uninstallValidation with hooks", function () {
    const SECOND_ENTITY = 1;

    /** Installs a second owner-module validation (selector: execute only) with a validation and an exec hook. */
    async function installHookedValidation(f: AccountFixture) {
      const hookModule = f.hooks.target as string;
      const config = encodeValidationConfig(
        { module: f.ownerModule.target as string, entityId: SECOND_ENTITY },
        { isGlobal: false, isSignatureValidation: false, isUserOpValidation: true },
      );
      const hooks = [
        encodeHookInstall(encodeValidationHook({ module: hookModule, entityId: 11 }), "0xaa"),
        encodeHookInstall(encodeExecutionHook({ module: hookModule, entityId: 12 }, { pre: true, post: true }), "0xbb"),
      ];
      const installData = ethers.AbiCoder.defaultAbiCoder().encode(
        ["uint32", "address"],
        [SECOND_ENTITY, f.stranger.address],
      );
      const selector = f.account.interface.getFunction("execute").selector;
      const data = f.account.interface.encodeFunctionData("installValidation", [
        config,
        [selector],
        installData,
        hooks,
      ]);
      return f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f));
    }

    const secondSelection = (f: AccountFixture, hookData?: string[]) => ({
      validation: { module: f.ownerModule.target as string, entityId: SECOND_ENTITY },
      isGlobal: false,
      hookData,
    });

    it("installs the validation, its hooks, and calls each module's onInstall with its data", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const accountAddress = await f.account.getAddress();
      await expect(installHookedValidation(f))
        .to.emit(f.account, "ValidationInstalled")
        .withArgs(f.ownerModule.target, SECOND_ENTITY);
      expect(await f.hooks.installCount(accountAddress)).to.equal(2n);
      expect(await f.ownerModule.owner(SECOND_ENTITY, accountAddress)).to.equal(f.stranger.address);

      const view = await f.account.getValidationData(
        encodeModuleEntity({ module: f.ownerModule.target as string, entityId: SECOND_ENTITY }),
      );
      expect(view.validationFlags).to.equal(1n);
      expect(view.selectors).to.deep.equal([f.account.interface.getFunction("execute").selector]);
      expect(view.validationHooks).to.deep.equal([
        encodeValidationHook({ module: f.hooks.target as string, entityId: 11 }),
      ]);
      expect(view.executionHooks).to.deep.equal([
        encodeExecutionHook({ module: f.hooks.target as string, entityId: 12 }, { pre: true, post: true }),
      ]);
    });

    it("reverts with AccountValidationAlreadyInstalled when the same validation is installed twice", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      await expect(installHookedValidation(f)).to.be.revertedWithCustomError(
        f.account,
        "AccountValidationAlreadyInstalled",
      );
    });

    it("runs the validation hook with its own data segment and the execution hooks with the full executeUserOp calldata", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const accountAddress = await f.account.getAddress();
      const inner = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const callData = concat([f.account.interface.getFunction("executeUserOp").selector, inner]);
      const { op, hash } = await buildSignedOp(f.entryPoint, {
        sender: accountAddress,
        callData,
        selection: secondSelection(f, ["0xc0ffee"]),
        signer: f.stranger,
      });
      const receipt = await sendOp(ethers, f.entryPoint, op);
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);

      const events = receipt.logs.map((log) => f.hooks.interface.parseLog(log)).filter((parsed) => parsed !== null);
      const validationHook = events.find((e) => e.name === "PreUserOpValidationHookCalled");
      expect(validationHook?.args.toArray()).to.deep.equal([accountAddress, 11n, hash, "0xc0ffee"]);
      const pre = events.find((e) => e.name === "PreExecutionHookCalled");
      const packed = f.account.interface.encodeFunctionData("executeUserOp", [
        (await import("../../client/userOp.js")).packUserOp(op),
        hash,
      ]);
      expect(pre?.args.toArray()).to.deep.equal([accountAddress, 12n, f.entryPoint.target, 0n, packed]);
      const post = events.find((e) => e.name === "PostExecutionHookCalled");
      expect(post?.args.entityId).to.equal(12n);
    });

    it("reverts with AccountRequiresExecuteUserOp when an op of a validation with execution hooks skips executeUserOp", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: await f.account.getAddress(),
        callData,
        selection: secondSelection(f),
        signer: f.stranger,
      });
      await expect(sendOp(ethers, f.entryPoint, op)).to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert");
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("refuses (AA23) a selector-scoped validation used for a function outside its selectors", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const inner = f.account.interface.encodeFunctionData("executeBatch", [[]]);
      const callData = concat([f.account.interface.getFunction("executeUserOp").selector, inner]);
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: await f.account.getAddress(),
        callData,
        selection: secondSelection(f),
        signer: f.stranger,
      });
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.account.interface.encodeErrorResult("AccountValidationNotApplicable", [
            encodeModuleEntity({ module: f.ownerModule.target as string, entityId: SECOND_ENTITY }),
            f.account.interface.getFunction("executeBatch").selector,
          ]),
        );
    });

    it("refuses a selector-scoped validation that calls the account itself to install a validation", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const accountAddress = await f.account.getAddress();
      const install = f.account.interface.encodeFunctionData("uninstallValidation", [
        encodeModuleEntity({ module: f.ownerModule.target as string, entityId: OWNER_ENTITY_ID }),
        "0x",
        [],
      ]);
      const inner = f.account.interface.encodeFunctionData("execute", [accountAddress, 0n, install]);
      const callData = concat([f.account.interface.getFunction("executeUserOp").selector, inner]);
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: accountAddress,
        callData,
        selection: secondSelection(f),
        signer: f.stranger,
      });
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.account.interface.encodeErrorResult("AccountValidationNotApplicable", [
            encodeModuleEntity({ module: f.ownerModule.target as string, entityId: SECOND_ENTITY }),
            f.account.interface.getFunction("uninstallValidation").selector,
          ]),
        );
      expect(await f.ownerModule.owner(OWNER_ENTITY_ID, accountAddress)).to.equal(f.owner.address);
    });

    it("refuses hook data addressed to a hook that does not exist", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const inner = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const callData = concat([f.account.interface.getFunction("executeUserOp").selector, inner]);
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: await f.account.getAddress(),
        callData,
        selection: secondSelection(f, [undefined as unknown as string, "0x01"]),
        signer: f.stranger,
      });
      await expect(sendOp(ethers, f.entryPoint, op)).to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert");
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("runs the runtime validation hook and the execution hooks with the inner data on executeWithRuntimeValidation", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const accountAddress = await f.account.getAddress();
      const data = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const authorization = encodeValidationSignature(secondSelection(f, ["0xbeef"]), "0x");
      await expect(f.account.connect(f.stranger).executeWithRuntimeValidation(data, authorization))
        .to.emit(f.hooks, "PreRuntimeValidationHookCalled")
        .withArgs(accountAddress, 11n, f.stranger.address, 0n, data, "0xbeef")
        .and.to.emit(f.hooks, "PreExecutionHookCalled")
        .withArgs(accountAddress, 12n, f.stranger.address, 0n, data);
    });

    it("reverts the call when a validation hook refuses it", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      await (await f.hooks.setFailOn(await f.account.getAddress(), 2)).wait(); // PreRuntime
      const data = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const authorization = encodeValidationSignature(secondSelection(f), "0x");
      await expect(f.account.connect(f.stranger).executeWithRuntimeValidation(data, authorization))
        .to.be.revertedWithCustomError(f.hooks, "RecordingHookRefused")
        .withArgs(2);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("uninstalls the validation and its hooks even if a hook's onUninstall reverts, and reports it", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const accountAddress = await f.account.getAddress();
      await (await f.hooks.setFailOn(accountAddress, 6)).wait(); // OnUninstall
      const entity = encodeModuleEntity({ module: f.ownerModule.target as string, entityId: SECOND_ENTITY });
      const uninstallData = ethers.AbiCoder.defaultAbiCoder().encode(["uint32"], [SECOND_ENTITY]);
      const data = f.account.interface.encodeFunctionData("uninstallValidation", [
        entity,
        uninstallData,
        ["0x01", "0x02"],
      ]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.emit(f.account, "ValidationUninstalled")
        .withArgs(f.ownerModule.target, SECOND_ENTITY, false);

      const view = await f.account.getValidationData(entity);
      expect(view.validationFlags).to.equal(0n);
      expect(view.selectors).to.deep.equal([]);
      expect(view.validationHooks).to.deep.equal([]);
      expect(view.executionHooks).to.deep.equal([]);
      expect(await f.ownerModule.owner(SECOND_ENTITY, accountAddress)).to.equal(ZeroAddress);

      const pay = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      await expect(
        f.account
          .connect(f.stranger)
          .executeWithRuntimeValidation(pay, encodeValidationSignature(secondSelection(f), "0x")),
      )
        .to.be.revertedWithCustomError(f.account, "AccountValidationNotInstalled")
        .withArgs(entity);
    });

    it("reverts with AccountHookUninstallDataLength when hook uninstall data does not match the hooks", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const entity = encodeModuleEntity({ module: f.ownerModule.target as string, entityId: SECOND_ENTITY });
      const data = f.account.interface.encodeFunctionData("uninstallValidation", [entity, "0x", ["0x01"]]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.be.revertedWithCustomError(f.account, "AccountHookUninstallDataLength")
        .withArgs(2n, 1n);
    });

    it("reverts with AccountModuleInvalid when the validation module is not an ERC-6900 validation module", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const config = encodeValidationConfig(
        { module: f.recipient, entityId: 3 },
        { isGlobal: true, isSignatureValidation: true, isUserOpValidation: true },
      );
      const data = f.account.interface.encodeFunctionData("installValidation", [config, [], "0x", []]);
      await expect(
        f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)),
      ).to.be.revertedWithCustomError(f.account, "AccountModuleInvalid");
    });
  });

  describe("installValidation", function () {
    describe("when a selector cannot be validated", function () {
      it("reverts with AccountSelectorNotAllowed if a selector is a dispatcher (executeUserOp)", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const data = installSecondValidation(f, { selectors: [selectorOf(f, "executeUserOp")] });
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountSelectorNotAllowed")
          .withArgs(selectorOf(f, "executeUserOp"));
      });

      it("reverts with AccountSelectorDuplicated if execute is listed twice", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const data = installSecondValidation(f, { selectors: [selectorOf(f, "execute"), selectorOf(f, "execute")] });
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountSelectorDuplicated")
          .withArgs(selectorOf(f, "execute"));
      });

      it("reverts with AccountSelectorDuplicated if another selector is listed twice", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const data = installSecondValidation(f, { selectors: [OTHER_SELECTOR, OTHER_SELECTOR] });
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountSelectorDuplicated")
          .withArgs(OTHER_SELECTOR);
      });
    });

    describe("when a hook item is malformed", function () {
      it("reverts with AccountHookConfigInvalid(0) if an item is shorter than a HookConfig", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const data = installSecondValidation(f, { hooks: ["0x0102"] });
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountHookConfigInvalid")
          .withArgs(`0x${"00".repeat(25)}`);
      });

      it("reverts with AccountHookConfigInvalid if a validation hook also sets execution hook flags", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const hook = rawHookConfig({ module: f.hooks.target as string, entityId: 3 }, 0x05);
        await expect(ownerCall(f, installSecondValidation(f, { hooks: [hook] })))
          .to.be.revertedWithCustomError(f.account, "AccountHookConfigInvalid")
          .withArgs(hook);
      });

      it("reverts with AccountHookConfigInvalid if an execution hook has flags beyond pre and post", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const hook = rawHookConfig({ module: f.hooks.target as string, entityId: 3 }, 0x08);
        await expect(ownerCall(f, installSecondValidation(f, { hooks: [hook] })))
          .to.be.revertedWithCustomError(f.account, "AccountHookConfigInvalid")
          .withArgs(hook);
      });

      it("reverts with AccountHookConfigInvalid if an execution hook has neither pre nor post", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const hook = rawHookConfig({ module: f.hooks.target as string, entityId: 3 }, 0x00);
        await expect(ownerCall(f, installSecondValidation(f, { hooks: [hook] })))
          .to.be.revertedWithCustomError(f.account, "AccountHookConfigInvalid")
          .withArgs(hook);
      });
    });

    describe("when a hook module does not implement the hook's interface", function () {
      it("reverts with AccountModuleInvalid if a validation hook's module is not a validation hook module", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const hook = encodeValidationHook({ module: f.greeter.target as string, entityId: 3 });
        await expect(ownerCall(f, installSecondValidation(f, { hooks: [hook] })))
          .to.be.revertedWithCustomError(f.account, "AccountModuleInvalid")
          .withArgs(f.greeter.target, f.interfaceIds.validationHookModule);
      });

      it("reverts with AccountModuleInvalid if an execution hook's module is not an execution hook module", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const hook = encodeExecutionHook(
          { module: f.greeter.target as string, entityId: 3 },
          { pre: true, post: false },
        );
        await expect(ownerCall(f, installSecondValidation(f, { hooks: [hook] })))
          .to.be.revertedWithCustomError(f.account, "AccountModuleInvalid")
          .withArgs(f.greeter.target, f.interfaceIds.executionHookModule);
      });
    });

    describe("when a hook is listed twice", function () {
      it("reverts with AccountHookConfigInvalid if a validation hook is listed twice", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const hook = encodeValidationHook({ module: f.hooks.target as string, entityId: 3 });
        await expect(ownerCall(f, installSecondValidation(f, { hooks: [hook, hook] })))
          .to.be.revertedWithCustomError(f.account, "AccountHookConfigInvalid")
          .withArgs(hook);
      });

      it("reverts with AccountHookConfigInvalid if an execution hook is listed twice", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const hook = encodeExecutionHook({ module: f.hooks.target as string, entityId: 3 }, { pre: true, post: true });
        await expect(ownerCall(f, installSecondValidation(f, { hooks: [hook, hook] })))
          .to.be.revertedWithCustomError(f.account, "AccountHookConfigInvalid")
          .withArgs(hook);
      });
    });

    // Duplicates are looked for among the install's own items (calldata), not in storage, so both limits are
    // reachable within a transaction's gas.
    describe("when a validation would get more than 255 hooks of a kind", function () {
      const hooksOf = (f: AccountFixture, count: number, encode: (fn: ModuleFunction) => string) =>
        Array.from({ length: count }, (_, entityId) => encode({ module: f.hooks.target as string, entityId }));

      it("reverts with AccountTooManyHooks if a 256th execution hook is listed", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const hooks = hooksOf(f, 256, (fn) => encodeExecutionHook(fn, { pre: true, post: false }));
        await expect(ownerCall(f, installSecondValidation(f, { hooks }))).to.be.revertedWithCustomError(
          f.account,
          "AccountTooManyHooks",
        );
      });

      it("reverts with AccountTooManyHooks if a 256th validation hook is listed", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const hooks = hooksOf(f, 256, (fn) => encodeValidationHook(fn));
        await expect(ownerCall(f, installSecondValidation(f, { hooks }))).to.be.revertedWithCustomError(
          f.account,
          "AccountTooManyHooks",
        );
      });
    });

    describe("when it has several validation hooks and selectors of each kind", function () {
      async function installFull(f: AccountFixture) {
        const first = encodeValidationHook({ module: f.hooks.target as string, entityId: 3 });
        const second = encodeValidationHook({ module: f.hooks.target as string, entityId: 4 });
        const selectors = [selectorOf(f, "execute"), selectorOf(f, "executeBatch"), OTHER_SELECTOR];
        await (await ownerCall(f, installSecondValidation(f, { selectors, hooks: [first, second] }))).wait();
        return { hooks: [first, second], selectors };
      }

      it("lists the hooks in installation order and every selector", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const { hooks, selectors } = await installFull(f);
        const view = await f.account.getValidationData(secondEntity(f));
        expect(view.validationHooks).to.deep.equal(hooks);
        expect(view.selectors).to.deep.equal(selectors);
      });

      it("forgets every hook and selector on uninstallValidation", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        await installFull(f);
        const data = f.account.interface.encodeFunctionData("uninstallValidation", [secondEntity(f), "0x", []]);
        await expect(ownerCall(f, data))
          .to.emit(f.account, "ValidationUninstalled")
          .withArgs(f.ownerModule.target, SECOND_OWNER_ENTITY, true);
        const view = await f.account.getValidationData(secondEntity(f));
        expect([view.validationHooks, view.selectors, view.validationFlags]).to.deep.equal([[], [], 0n]);
        expect(await f.account.isModuleInstalled(f.hooks.target as string)).to.equal(false);
      });
    });

    describe("when it has several execution hooks", function () {
      async function installExecutionHooks(f: AccountFixture) {
        const hooks = [3, 4, 5].map((entityId) =>
          encodeExecutionHook({ module: f.hooks.target as string, entityId }, { pre: true, post: true }),
        );
        await (await ownerCall(f, installSecondValidation(f, { hooks }))).wait();
        return hooks;
      }

      it("lists the execution hooks in installation order", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const hooks = await installExecutionHooks(f);
        expect((await f.account.getValidationData(secondEntity(f))).executionHooks).to.deep.equal(hooks);
      });

      it("forgets every execution hook on uninstallValidation", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        await installExecutionHooks(f);
        const data = f.account.interface.encodeFunctionData("uninstallValidation", [secondEntity(f), "0x", []]);
        await (await ownerCall(f, data)).wait();
        expect((await f.account.getValidationData(secondEntity(f))).executionHooks).to.deep.equal([]);
        expect(await f.account.isModuleInstalled(f.hooks.target as string)).to.equal(false);
      });
    });
  });

  describe("uninstallValidation", function () {
    describe("when the validation is not installed", function () {
      it("reverts with AccountValidationNotInstalled", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const data = f.account.interface.encodeFunctionData("uninstallValidation", [secondEntity(f), "0x", []]);
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountValidationNotInstalled")
          .withArgs(secondEntity(f));
      });
    });
  });
});
