/**
 * installExecution / uninstallExecution on the modular account, through the real EntryPoint v0.8: routing an
 * installed execution function and advertising its interfaces, selector hooks of one module on another's function,
 * the refusals of manifests and modules, and getExecutionData of the account's native functions.
 */
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { network } from "hardhat";

import { encodeExecutionHook } from "../../client/encoding.js";
import {
  modularAccountFixture,
  OTHER_SELECTOR,
  ownerAuthorization,
  ownerCall,
  selectorOf,
  type AccountFixture,
} from "../helpers/account.js";

const { ethers, networkHelpers } = await network.create();

async function accountFixture() {
  return modularAccountFixture(ethers);
}

/**
 * A manifest installing no function, only selector hooks of the module on `selector` (default: a selector no module
 * installed; the account's own functions cannot carry hooks).
 */
function hooksOnlyManifest(
  hooks: { entityId: number; isPreHook: boolean; isPostHook: boolean }[],
  interfaceIds: string[] = [],
  selector: string = OTHER_SELECTOR,
) {
  return {
    executionFunctions: [],
    executionHooks: hooks.map((h) => ({ executionSelector: selector, ...h })),
    interfaceIds,
  };
}

describe("ModularAccount", function () {
  describe("installExecution / uninstallExecution", function () {
    async function installGreeter(f: AccountFixture) {
      const manifest = await f.greeter.executionManifest();
      const data = f.account.interface.encodeFunctionData("installExecution", [
        f.greeter.target as string,
        manifest,
        "0x",
      ]);
      return f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f));
    }

    it("routes an installed execution function to its module and advertises its interface", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await expect(installGreeter(f)).to.emit(f.account, "ExecutionInstalled");
      const accountAddress = await f.account.getAddress();
      const greetData = f.greeter.interface.encodeFunctionData("greet", ["leash"]);
      await (await f.account.connect(f.owner).executeWithRuntimeValidation(greetData, ownerAuthorization(f))).wait();
      expect(await f.greeter.greeting(accountAddress)).to.equal("leash");
      expect(await f.account.supportsInterface(await f.greeter.GREETER_INTERFACE_ID())).to.equal(true);
      const view = await f.account.getExecutionData(f.greeter.interface.getFunction("greet").selector);
      expect([view.module, view.skipRuntimeValidation, view.allowGlobalValidation]).to.deep.equal([
        f.greeter.target,
        false,
        true,
      ]);
    });

    it("lets anyone call a function installed with skipRuntimeValidation, and no one call a validated one directly", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installGreeter(f)).wait();
      const accountAddress = await f.account.getAddress();
      const asGreeter = f.greeter.attach(accountAddress) as typeof f.greeter;
      expect(await asGreeter.connect(f.stranger).ping()).to.equal(42n);
      await expect(asGreeter.connect(f.stranger).greet("x"))
        .to.be.revertedWithCustomError(f.account, "AccountUnauthorizedCaller")
        .withArgs(f.stranger.address, f.greeter.interface.getFunction("greet").selector);
    });

    it("reverts with AccountExecutionSelectorConflict when a manifest claims a native selector", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const manifest = {
        executionFunctions: [
          {
            executionSelector: f.account.interface.getFunction("execute").selector,
            skipRuntimeValidation: true,
            allowGlobalValidation: false,
          },
        ],
        executionHooks: [],
        interfaceIds: [],
      };
      const data = f.account.interface.encodeFunctionData("installExecution", [
        f.greeter.target as string,
        manifest,
        "0x",
      ]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.be.revertedWithCustomError(f.account, "AccountExecutionSelectorConflict")
        .withArgs(f.account.interface.getFunction("execute").selector);
    });

    it("reverts with AccountExecutionNotInstalled when uninstalling a module that has no execution install", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const empty = { executionFunctions: [], executionHooks: [], interfaceIds: [] };
      const data = f.account.interface.encodeFunctionData("uninstallExecution", [
        f.ownerModule.target as string,
        empty,
        "0x",
      ]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.be.revertedWithCustomError(f.account, "AccountExecutionNotInstalled")
        .withArgs(f.ownerModule.target);
      expect(await f.account.isModuleInstalled(f.ownerModule.target as string)).to.equal(true);
    });

    it("reverts with AccountExecutionManifestMismatch when uninstalling with another manifest than installed", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installGreeter(f)).wait();
      const partial = { executionFunctions: [], executionHooks: [], interfaceIds: [] };
      const data = f.account.interface.encodeFunctionData("uninstallExecution", [
        f.greeter.target as string,
        partial,
        "0x",
      ]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.be.revertedWithCustomError(f.account, "AccountExecutionManifestMismatch")
        .withArgs(f.greeter.target);
      expect(await f.account.isModuleInstalled(f.greeter.target as string)).to.equal(true);
    });

    it("removes the functions and the interface on uninstall", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installGreeter(f)).wait();
      const manifest = await f.greeter.executionManifest();
      const data = f.account.interface.encodeFunctionData("uninstallExecution", [
        f.greeter.target as string,
        manifest,
        "0x00",
      ]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f))).to.emit(
        f.account,
        "ExecutionUninstalled",
      );
      expect(await f.account.supportsInterface(await f.greeter.GREETER_INTERFACE_ID())).to.equal(false);
      const asGreeter = f.greeter.attach(await f.account.getAddress()) as typeof f.greeter;
      await expect(asGreeter.connect(f.stranger).ping())
        .to.be.revertedWithCustomError(f.account, "AccountUnrecognizedFunction")
        .withArgs(f.greeter.interface.getFunction("ping").selector);
    });
  });

  describe("installExecution", function () {
    describe("when the module is not an ERC-6900 module", function () {
      it("reverts with AccountModuleInvalid if the module does not report IModule", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const manifest = hooksOnlyManifest([]);
        const data = f.account.interface.encodeFunctionData("installExecution", [f.recipient, manifest, "0x"]);
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountModuleInvalid")
          .withArgs(f.recipient, f.interfaceIds.module);
      });
    });

    describe("when the module already has an execution install", function () {
      it("reverts with AccountExecutionAlreadyInstalled if it is installed again", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const manifest = await f.greeter.executionManifest();
        const data = f.account.interface.encodeFunctionData("installExecution", [f.greeter.target, manifest, "0x"]);
        await (await ownerCall(f, data)).wait();
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountExecutionAlreadyInstalled")
          .withArgs(f.greeter.target);
      });
    });

    describe("when a manifest hook is malformed", function () {
      it("reverts with AccountExecutionHookInvalid if a hook has neither a pre nor a post hook", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const manifest = hooksOnlyManifest([{ entityId: 7, isPreHook: false, isPostHook: false }]);
        const data = f.account.interface.encodeFunctionData("installExecution", [f.hooks.target, manifest, "0x"]);
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountExecutionHookInvalid")
          .withArgs(OTHER_SELECTOR, 7n);
      });

      it("reverts with AccountExecutionHookInvalid if the manifest lists the same hook twice", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const hook = { entityId: 7, isPreHook: true, isPostHook: false };
        const manifest = hooksOnlyManifest([hook, hook]);
        const data = f.account.interface.encodeFunctionData("installExecution", [f.hooks.target, manifest, "0x"]);
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountExecutionHookInvalid")
          .withArgs(OTHER_SELECTOR, 7n);
      });
    });

    describe("when a manifest claims a forbidden interface id", function () {
      it("reverts with AccountInterfaceIdInvalid if it claims IModule's interface id", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const manifest = hooksOnlyManifest([], [f.interfaceIds.module]);
        const data = f.account.interface.encodeFunctionData("installExecution", [f.hooks.target, manifest, "0x"]);
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountInterfaceIdInvalid")
          .withArgs(f.interfaceIds.module);
      });

      it("reverts with AccountInterfaceIdInvalid if it claims 0xffffffff", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const manifest = hooksOnlyManifest([], ["0xffffffff"]);
        const data = f.account.interface.encodeFunctionData("installExecution", [f.hooks.target, manifest, "0x"]);
        await expect(ownerCall(f, data))
          .to.be.revertedWithCustomError(f.account, "AccountInterfaceIdInvalid")
          .withArgs("0xffffffff");
      });
    });

    describe("when the manifest installs selector hooks on another module's function", function () {
      const manifestHooks = [
        { entityId: 7, isPreHook: true, isPostHook: true },
        { entityId: 8, isPreHook: true, isPostHook: false },
      ];

      const greetSelector = (f: AccountFixture) => f.greeter.interface.getFunction("greet").selector;

      /** Installs the greeter's functions, then the hook module's hooks on `greet`. */
      async function installHooks(f: AccountFixture) {
        const greeter = f.account.interface.encodeFunctionData("installExecution", [
          f.greeter.target,
          await f.greeter.executionManifest(),
          "0x",
        ]);
        await (await ownerCall(f, greeter)).wait();
        const manifest = hooksOnlyManifest(manifestHooks, [], greetSelector(f));
        const data = f.account.interface.encodeFunctionData("installExecution", [f.hooks.target, manifest, "0xaa"]);
        await expect(ownerCall(f, data)).to.emit(f.hooks, "Installed").withArgs(f.accountAddress, "0xaa");
        return manifest;
      }

      it("calls the module's onInstall with the install data and lists the hooks on the selector", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        await installHooks(f);
        expect(await f.hooks.installCount(f.accountAddress)).to.equal(1n);
        const view = await f.account.getExecutionData(greetSelector(f));
        expect(view.executionHooks).to.deep.equal([
          encodeExecutionHook({ module: f.hooks.target as string, entityId: 7 }, { pre: true, post: true }),
          encodeExecutionHook({ module: f.hooks.target as string, entityId: 8 }, { pre: true, post: false }),
        ]);
      });

      it("runs every pre hook around the hooked function and the post hook only of the hook that has one", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        await installHooks(f);
        const data = f.greeter.interface.encodeFunctionData("greet", ["hooked"]);
        const receipt = await (await ownerCall(f, data)).wait();
        const events = receipt!.logs
          .map((log) => f.hooks.interface.parseLog(log))
          .filter((parsed) => parsed !== null)
          .map((parsed) => `${parsed.name}:${parsed.args.entityId}`);
        expect(events).to.deep.equal([
          "PreExecutionHookCalled:7",
          "PreExecutionHookCalled:8",
          "PostExecutionHookCalled:7",
        ]);
        expect(await f.greeter.greeting(f.accountAddress)).to.equal("hooked");
      });

      it("removes the selector hooks on uninstallExecution", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const manifest = await installHooks(f);
        const data = f.account.interface.encodeFunctionData("uninstallExecution", [f.hooks.target, manifest, "0x"]);
        await expect(ownerCall(f, data))
          .to.emit(f.account, "ExecutionUninstalled")
          .withArgs(f.hooks.target, true, anyValue);
        expect((await f.account.getExecutionData(greetSelector(f))).executionHooks).to.deep.equal([]);
        expect(await f.account.isModuleInstalled(f.hooks.target as string)).to.equal(false);
      });
    });
  });

  describe("getExecutionData", function () {
    describe("when the selector is a native function", function () {
      it("reports the account itself as the module and whether a global validation may call it", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        const execute = await f.account.getExecutionData(selectorOf(f, "execute"));
        expect([execute.module, execute.skipRuntimeValidation, execute.allowGlobalValidation]).to.deep.equal([
          f.accountAddress,
          false,
          true,
        ]);
        const entryPoint = await f.account.getExecutionData(selectorOf(f, "entryPoint"));
        expect([entryPoint.module, entryPoint.allowGlobalValidation]).to.deep.equal([f.accountAddress, false]);
      });
    });
  });
});
