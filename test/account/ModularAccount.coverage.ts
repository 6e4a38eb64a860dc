/**
 * The modular account's refusal paths and less travelled configurations (module management, hook and selector
 * bookkeeping, malformed selections), found by the coverage gate (docs/COVERAGE.md). Each test asserts the error
 * and its arguments, or the state the account ends in.
 */
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { network } from "hardhat";
import { concat, parseEther, toBeHex, Wallet, ZeroHash } from "ethers";

import {
  encodeExecutionHook,
  encodeHookInstall,
  encodeModuleEntity,
  encodeValidationConfig,
  encodeValidationHook,
  encodeValidationSignature,
  type ModuleFunction,
} from "../../client/encoding.js";
import { createAccount, deployLeash, fund, OWNER_ENTITY_ID, OWNER_PATH, testWallet } from "../helpers/fixture.js";
import { buildSignedOp, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

const ONE_CENT_ETH = parseEther("0.01");
/** A selector that is neither native nor reserved. */
const OTHER_SELECTOR = "0x12345678";

async function accountFixture() {
  const deployment = await deployLeash(ethers);
  const owner = testWallet(ethers, OWNER_PATH);
  const stranger = testWallet(ethers, "m/44'/60'/7'/0/0");
  await fund(ethers, owner.address);
  await fund(ethers, stranger.address);
  const account = await createAccount(ethers, deployment, owner.address);
  const accountAddress = await account.getAddress();
  await fund(ethers, accountAddress);
  const recipient = Wallet.createRandom().address;
  const hooks = await ethers.deployContract("RecordingHookModule");
  const greeter = await ethers.deployContract("GreeterExecutionModule");
  const ids = await (await ethers.deployContract("InterfaceIds")).ids();
  const interfaceIds = {
    module: ids[0]!,
    validationHookModule: ids[2]!,
    executionHookModule: ids[4]!,
  };
  return { ...deployment, owner, stranger, account, accountAddress, recipient, hooks, greeter, interfaceIds };
}

type Fixture = Awaited<ReturnType<typeof accountFixture>>;

const ownerSelection = (f: Fixture) => ({
  validation: { module: f.ownerModule.target as string, entityId: OWNER_ENTITY_ID },
  isGlobal: true,
});

/** The owner calls the account through its runtime validation. */
function ownerCall(f: Fixture, data: string) {
  return f.account
    .connect(f.owner)
    .executeWithRuntimeValidation(data, encodeValidationSignature(ownerSelection(f), "0x"));
}

function selectorOf(f: Fixture, name: "execute" | "executeBatch" | "executeUserOp" | "entryPoint") {
  return f.account.interface.getFunction(name).selector;
}

/** A HookConfig with arbitrary flag bits (the client's encoders only build valid ones). */
function rawHookConfig(fn: ModuleFunction, flags: number): string {
  return concat([encodeModuleEntity(fn), toBeHex(flags, 1)]);
}

const SECOND_ENTITY = 2;

/** installValidation calldata for a second owner-module validation (owner: the stranger). */
function installSecondValidation(
  f: Fixture,
  options: { selectors?: string[]; hooks?: string[]; isGlobal?: boolean; isUserOpValidation?: boolean } = {},
) {
  const config = encodeValidationConfig(
    { module: f.ownerModule.target as string, entityId: SECOND_ENTITY },
    {
      isGlobal: options.isGlobal ?? false,
      isSignatureValidation: false,
      isUserOpValidation: options.isUserOpValidation ?? true,
    },
  );
  const installData = ethers.AbiCoder.defaultAbiCoder().encode(
    ["uint32", "address"],
    [SECOND_ENTITY, f.stranger.address],
  );
  return f.account.interface.encodeFunctionData("installValidation", [
    config,
    options.selectors ?? [],
    installData,
    options.hooks ?? [],
  ]);
}

const secondEntity = (f: Fixture) =>
  encodeModuleEntity({ module: f.ownerModule.target as string, entityId: SECOND_ENTITY });

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

/** The owner's op for `callData`, then its signature replaced by `signature`. */
async function ownerOpWithSignature(f: Fixture, signature: string) {
  const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
  const { op } = await buildSignedOp(f.entryPoint, {
    sender: f.accountAddress,
    callData,
    selection: ownerSelection(f),
    signer: f.owner,
  });
  return { ...op, signature };
}

describe("ModularAccount (coverage of refusals and bookkeeping)", function () {
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

      const greetSelector = (f: Fixture) => f.greeter.interface.getFunction("greet").selector;

      /** Installs the greeter's functions, then the hook module's hooks on `greet`. */
      async function installHooks(f: Fixture) {
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
      const hooksOf = (f: Fixture, count: number, encode: (fn: ModuleFunction) => string) =>
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
      async function installFull(f: Fixture) {
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
          .withArgs(f.ownerModule.target, SECOND_ENTITY, true);
        const view = await f.account.getValidationData(secondEntity(f));
        expect([view.validationHooks, view.selectors, view.validationFlags]).to.deep.equal([[], [], 0n]);
        expect(await f.account.isModuleInstalled(f.hooks.target as string)).to.equal(false);
      });
    });

    describe("when it has several execution hooks", function () {
      async function installExecutionHooks(f: Fixture) {
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

  describe("isValidSignature", function () {
    describe("when the signature is shorter than a ModuleEntity", function () {
      it("reverts with AccountValidationSelectionMalformed", async function () {
        const f = await networkHelpers.loadFixture(accountFixture);
        await expect(f.account.isValidSignature(ZeroHash, "0x0102")).to.be.revertedWithCustomError(
          f.account,
          "AccountValidationSelectionMalformed",
        );
      });
    });
  });

  describe("executeWithRuntimeValidation", function () {
    const pay = (f: Fixture) => f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);

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
          .withArgs(f.ownerModule.target, SECOND_ENTITY);
        expect(await f.ownerModule.owner(SECOND_ENTITY, f.accountAddress)).to.equal(f.stranger.address);
      });
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
    async function opValidatedBy(f: Fixture, module: string) {
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
            validation: { module: f.ownerModule.target as string, entityId: SECOND_ENTITY },
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
});
