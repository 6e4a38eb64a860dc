/**
 * The owner always keeps control of the account (THREATS 30, issue #18), and an op never executes under another
 * installation of its validation than the one that validated it (review finding L-1 of issue #12).
 *
 * The rule (docs/ARCHITECTURE.md, "No module can freeze the account"): no execution hook may sit on the account's own
 * functions, and a validation that controls the account (global, or listing a module-management or upgrade function)
 * carries no hooks. A module that reverts everywhere then blocks only what it was attached to.
 */
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { network } from "hardhat";
import { parseEther, parseUnits } from "ethers";

import {
  encodeExecutionHook,
  encodeHookInstall,
  encodeModuleEntity,
  encodeValidationConfig,
  encodeValidationHook,
} from "../../client/encoding.js";
import { sessionInstallArgs, sessionUninstallArgs } from "../../client/session.js";
import { packUserOp } from "../../client/userOp.js";
import { OWNER_ENTITY_ID } from "../helpers/fixture.js";
import {
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
import { buildSignedOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

const IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";
/** The owner-module validation the hostile module's hooks are attached to (not one that controls the account). */
const HOOKED_ENTITY = 2;
const PAY = parseEther("0.01");

/**
 * An account with a live session, and a module that reverts in every hook and entry point installed everywhere
 * the account lets the owner install it: as an execution module (with hooks on its own function), and as the
 * validation and execution hook of a second owner validation.
 */
async function hostileFixture() {
  const f = await sessionFixture(ethers, networkHelpers);
  const hostile = await ethers.deployContract("HostileModule");
  const spare = await ethers.deployContract("HostileModule");
  const manifest = await hostile.executionManifest();
  await (
    await ownerCall(f, f.account.interface.encodeFunctionData("installExecution", [hostile.target, manifest, "0x"]))
  ).wait();
  const hostileAddress = hostile.target as string;
  const config = encodeValidationConfig(
    { module: f.ownerModule.target as string, entityId: HOOKED_ENTITY },
    { isGlobal: false, isSignatureValidation: true, isUserOpValidation: true },
  );
  const installData = ethers.AbiCoder.defaultAbiCoder().encode(
    ["uint32", "address"],
    [HOOKED_ENTITY, f.stranger.address],
  );
  const hooks = [
    encodeHookInstall(encodeValidationHook({ module: hostileAddress, entityId: 3 })),
    encodeHookInstall(encodeExecutionHook({ module: hostileAddress, entityId: 4 }, { pre: true, post: true })),
  ];
  const executeSelector = f.account.interface.getFunction("execute").selector;
  await (
    await ownerCall(
      f,
      f.account.interface.encodeFunctionData("installValidation", [config, [executeSelector], installData, hooks]),
    )
  ).wait();
  await (await grantByTransaction(f, typicalSession(f))).wait();
  return { ...f, hostile, spare, manifest };
}

type HostileFixture = Awaited<ReturnType<typeof hostileFixture>>;

/** Every function selector of the account's ABI (its own functions). */
function accountSelectors(f: SessionFixture): string[] {
  const selectors: string[] = [];
  f.account.interface.forEachFunction((fn) => selectors.push(fn.selector));
  return selectors;
}

/** The owner's user op for `callData` (owner validation, global). */
async function ownerOp(f: SessionFixture, callData: string) {
  const { op } = await buildSignedOp(f.entryPoint, {
    sender: f.accountAddress,
    callData,
    selection: { validation: { module: f.ownerModule.target as string, entityId: OWNER_ENTITY_ID }, isGlobal: true },
    signer: f.owner,
  });
  return op;
}

async function implementationOf(f: SessionFixture): Promise<string> {
  const slot = await ethers.provider.getStorage(f.accountAddress, IMPLEMENTATION_SLOT);
  return ethers.getAddress(ethers.dataSlice(slot, 12));
}

describe("The owner keeps control (THREATS 30)", function () {
  describe("when an installed module reverts in every hook and entry point", function () {
    it("T30: the hostile module still refuses what it was attached to (its own function, its hooked validation)", async function () {
      const f = await networkHelpers.loadFixture(hostileFixture);
      const attack = f.hostile.interface.encodeFunctionData("attack");
      await expect(ownerCall(f, attack))
        .to.be.revertedWithCustomError(f.hostile, "HostileModuleRefuses")
        .withArgs(f.hostile.interface.getFunction("preExecutionHook").selector);
      const hookedAuthorization = (await import("../../client/encoding.js")).encodeValidationSignature(
        { validation: { module: f.ownerModule.target as string, entityId: HOOKED_ENTITY }, isGlobal: false },
        "0x",
      );
      await expect(
        f.account
          .connect(f.stranger)
          .executeWithRuntimeValidation(executeCall(f, f.recipient, PAY), hookedAuthorization),
      )
        .to.be.revertedWithCustomError(f.hostile, "HostileModuleRefuses")
        .withArgs(f.hostile.interface.getFunction("preRuntimeValidationHook").selector);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("T30: the owner uninstalls the hostile module from every place it is installed, and the account forgets it", async function () {
      const f = await networkHelpers.loadFixture(hostileFixture);
      const hostile = f.hostile.target as string;
      // Uninstall data makes the account call the module's onUninstall, which reverts: the removal still happens.
      const uninstallExecution = f.account.interface.encodeFunctionData("uninstallExecution", [
        hostile,
        f.manifest,
        "0x01",
      ]);
      await expect(ownerCall(f, uninstallExecution))
        .to.emit(f.account, "ExecutionUninstalled")
        .withArgs(hostile, false, anyValue);
      const hooked = encodeModuleEntity({ module: f.ownerModule.target as string, entityId: HOOKED_ENTITY });
      const uninstallValidation = f.account.interface.encodeFunctionData("uninstallValidation", [
        hooked,
        "0x",
        ["0x01", "0x01"],
      ]);
      await expect(ownerCall(f, uninstallValidation))
        .to.emit(f.account, "ValidationUninstalled")
        .withArgs(f.ownerModule.target, HOOKED_ENTITY, false);
      expect(await f.account.isModuleInstalled(hostile)).to.equal(false);
      const attack = await f.account.getExecutionData(f.hostile.interface.getFunction("attack").selector);
      expect([attack.module, attack.executionHooks]).to.deep.equal([ethers.ZeroAddress, []]);
      const validation = await f.account.getValidationData(hooked);
      expect([validation.validationHooks, validation.executionHooks]).to.deep.equal([[], []]);
    });

    it("T30: the owner moves funds by user op and by transaction while the hostile module is installed", async function () {
      const f = await networkHelpers.loadFixture(hostileFixture);
      const { sendOp, opSucceeded } = await import("../helpers/userOps.js");
      const receipt = await sendOp(ethers, f.entryPoint, await ownerOp(f, executeCall(f, f.recipient, PAY)));
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
      const usdc = parseUnits("250", 6);
      const transfer = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, usdc));
      await (await ownerCall(f, transfer)).wait();
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(PAY);
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(usdc);
      expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(parseUnits("750", 6));
    });

    it("T30: the owner revokes a session through execute while the hostile module is installed", async function () {
      const f = await networkHelpers.loadFixture(hostileFixture);
      expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(true);
      const revoke = f.sessionModule.interface.encodeFunctionData("revoke", [SESSION_ID]);
      await expect(ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revoke)))
        .to.emit(f.sessionModule, "SessionRevoked")
        .withArgs(f.accountAddress, SESSION_ID, anyValue);
      expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(false);
      expect((await f.sessionModule.getSession(f.accountAddress, SESSION_ID)).revoked).to.equal(true);
    });

    it("T30: the owner upgrades the account while the hostile module is installed", async function () {
      const f = await networkHelpers.loadFixture(hostileFixture);
      const next = await ethers.deployContract("ModularAccount", [f.entryPoint.target as string]);
      const upgrade = f.account.interface.encodeFunctionData("upgradeToAndCall", [next.target as string, "0x"]);
      await expect(ownerCall(f, upgrade)).to.emit(f.account, "Upgraded").withArgs(next.target);
      expect(await implementationOf(f)).to.equal(next.target);
    });
  });

  describe("when a manifest names the account's own functions", function () {
    it("T30: refuses a manifest that hooks any of the account's own functions, and installs nothing", async function () {
      const f = await networkHelpers.loadFixture(hostileFixture);
      const selectors = accountSelectors(f);
      expect(selectors).to.include.members(
        (
          [
            "uninstallExecution",
            "uninstallValidation",
            "execute",
            "executeBatch",
            "upgradeToAndCall",
            "eip712Domain",
          ] as const
        ).map((name) => f.account.interface.getFunction(name).selector),
      );
      for (const selector of selectors) {
        const manifest = await f.spare.manifestHookingEverything([selector]);
        const install = f.account.interface.encodeFunctionData("installExecution", [f.spare.target, manifest, "0x"]);
        await expect(ownerCall(f, install), selector)
          .to.be.revertedWithCustomError(f.account, "AccountExecutionHookOnNativeFunction")
          .withArgs(selector);
      }
      const all = await f.spare.manifestHookingEverything(selectors);
      const install = f.account.interface.encodeFunctionData("installExecution", [f.spare.target, all, "0x"]);
      await expect(ownerCall(f, install))
        .to.be.revertedWithCustomError(f.account, "AccountExecutionHookOnNativeFunction")
        .withArgs(selectors[0]);
      expect(await f.account.isModuleInstalled(f.spare.target as string)).to.equal(false);
      for (const selector of selectors) {
        expect((await f.account.getExecutionData(selector)).executionHooks, selector).to.deep.equal([]);
      }
    });

    it("T30: refuses a manifest that claims any of the account's own functions, and installs nothing", async function () {
      const f = await networkHelpers.loadFixture(hostileFixture);
      for (const selector of accountSelectors(f)) {
        const manifest = {
          executionFunctions: [
            { executionSelector: selector, skipRuntimeValidation: true, allowGlobalValidation: true },
          ],
          executionHooks: [],
          interfaceIds: [],
        };
        const install = f.account.interface.encodeFunctionData("installExecution", [f.spare.target, manifest, "0x"]);
        await expect(ownerCall(f, install), selector)
          .to.be.revertedWithCustomError(f.account, "AccountExecutionSelectorConflict")
          .withArgs(selector);
        expect((await f.account.getExecutionData(selector)).module, selector).to.equal(f.accountAddress);
      }
      expect(await f.account.isModuleInstalled(f.spare.target as string)).to.equal(false);
    });
  });

  describe("when hooks are put on a validation that controls the account", function () {
    const cases = [
      { name: "a global validation", isGlobal: true, selectors: (): string[] => [] },
      ...(
        [
          "installExecution",
          "uninstallExecution",
          "installValidation",
          "uninstallValidation",
          "upgradeToAndCall",
        ] as const
      ).map((fn) => ({
        name: `a validation listing ${fn}`,
        isGlobal: false,
        selectors: (f: SessionFixture): string[] => [f.account.interface.getFunction(fn).selector],
      })),
    ];

    for (const [index, c] of cases.entries()) {
      it(`T30: refuses hooks on ${c.name}, and installs nothing`, async function () {
        const f = await networkHelpers.loadFixture(hostileFixture);
        const entityId = 10 + index;
        const validation = { module: f.ownerModule.target as string, entityId };
        const config = encodeValidationConfig(validation, {
          isGlobal: c.isGlobal,
          isSignatureValidation: true,
          isUserOpValidation: true,
        });
        const installData = ethers.AbiCoder.defaultAbiCoder().encode(
          ["uint32", "address"],
          [entityId, f.owner.address],
        );
        const hooks = [encodeHookInstall(encodeValidationHook({ module: f.spare.target as string, entityId: 1 }))];
        const install = f.account.interface.encodeFunctionData("installValidation", [
          config,
          c.selectors(f),
          installData,
          hooks,
        ]);
        await expect(ownerCall(f, install))
          .to.be.revertedWithCustomError(f.account, "AccountControlValidationHooked")
          .withArgs(encodeModuleEntity(validation));
        const view = await f.account.getValidationData(encodeModuleEntity(validation));
        expect([view.validationFlags, view.validationHooks, view.selectors]).to.deep.equal([0n, [], []]);
        expect(await f.account.isModuleInstalled(f.spare.target as string)).to.equal(false);
      });
    }
  });
});

describe("executeUserOp after its validation changed (review finding L-1)", function () {
  /** Sends `ops` in one handleOps bundle; returns the receipt. */
  async function sendBundle(f: SessionFixture, ops: Awaited<ReturnType<typeof ownerOp>>[]) {
    const [, , , bundler] = await ethers.getSigners();
    const tx = await f.entryPoint.connect(bundler!).handleOps(ops.map(packUserOp), await bundler!.getAddress());
    return (await tx.wait())!;
  }

  /** The (success, revert reason) of each op of a bundle, by user op hash. */
  function outcomes(f: SessionFixture, receipt: Awaited<ReturnType<typeof sendBundle>>) {
    const success = new Map<string, boolean>();
    const reasons = new Map<string, string>();
    for (const log of receipt.logs) {
      const parsed = f.entryPoint.interface.parseLog(log);
      if (parsed?.name === "UserOperationEvent") success.set(parsed.args.userOpHash as string, parsed.args.success);
      if (parsed?.name === "UserOperationRevertReason") {
        reasons.set(parsed.args.userOpHash as string, parsed.args.revertReason as string);
      }
    }
    return { success, reasons };
  }

  async function grantedFixture() {
    const f = await sessionFixture(ethers, networkHelpers);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    return f;
  }

  const changed = (f: SessionFixture) =>
    f.account.interface.encodeErrorResult("AccountValidationChangedSinceValidation", [
      encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID }),
    ]);

  it("refuses a session op bundled after the owner's op that uninstalls the session, and nothing moves", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const uninstall = f.account.interface.encodeFunctionData(
      "uninstallValidation",
      sessionUninstallArgs(SESSION_ID, f.addresses),
    );
    const owner = await ownerOp(f, uninstall);
    const amount = parseUnits("40", 6);
    const session = await sessionOp(
      f,
      executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, amount)),
      {
        timeHint: BigInt(await networkHelpers.time.latest()),
      },
    );
    const receipt = await sendBundle(f, [owner, session.op]);
    const { success, reasons } = outcomes(f, receipt);
    const ownerHash = await f.entryPoint.getUserOpHash(packUserOp(owner));
    expect(success.get(ownerHash)).to.equal(true);
    expect(success.get(session.hash)).to.equal(false);
    expect(reasons.get(session.hash)).to.equal(changed(f));
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
    expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(parseUnits("1000", 6));
    expect(
      (
        await f.account.getValidationData(
          encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID }),
        )
      ).validationFlags,
    ).to.equal(0n);
  });

  it("refuses a session op bundled after the owner's op that uninstalls the session and installs it again, and nothing moves", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const uninstall = f.account.interface.encodeFunctionData(
      "uninstallValidation",
      sessionUninstallArgs(SESSION_ID, f.addresses),
    );
    const reinstall = f.account.interface.encodeFunctionData(
      "installValidation",
      sessionInstallArgs(typicalSession(f), f.addresses),
    );
    const batch = f.account.interface.encodeFunctionData("executeBatch", [
      [
        { target: f.accountAddress, value: 0n, data: uninstall },
        { target: f.accountAddress, value: 0n, data: reinstall },
      ],
    ]);
    const owner = await ownerOp(f, batch);
    const session = await sessionOp(f, executeCall(f, f.recipient, PAY), {
      timeHint: BigInt(await networkHelpers.time.latest()),
    });
    const receipt = await sendBundle(f, [owner, session.op]);
    const { success, reasons } = outcomes(f, receipt);
    expect(success.get(await f.entryPoint.getUserOpHash(packUserOp(owner)))).to.equal(true);
    expect(success.get(session.hash)).to.equal(false);
    expect(reasons.get(session.hash)).to.equal(changed(f));
    expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(true);
  });

  it("executes an op simulated without its validation (a bundler's callGasLimit estimate) only while its validation is installed", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const session = await sessionOp(f, executeCall(f, f.recipient, PAY), {
      timeHint: BigInt(await networkHelpers.time.latest()),
    });
    const entryPoint = await ethers.getImpersonatedSigner(f.entryPoint.target as string);
    await networkHelpers.setBalance(f.entryPoint.target as string, parseEther("1"));
    const simulate = () => f.account.connect(entryPoint).executeUserOp.staticCall(packUserOp(session.op), session.hash);
    await simulate();
    const uninstall = f.account.interface.encodeFunctionData(
      "uninstallValidation",
      sessionUninstallArgs(SESSION_ID, f.addresses),
    );
    await (await ownerCall(f, uninstall)).wait();
    await expect(simulate())
      .to.be.revertedWithCustomError(f.account, "AccountValidationChangedSinceValidation")
      .withArgs(encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID }));
  });

  it("executes a session op bundled after an owner op that leaves the session alone", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const owner = await ownerOp(f, executeCall(f, f.recipient, PAY));
    const session = await sessionOp(f, executeCall(f, f.recipient, PAY), {
      timeHint: BigInt(await networkHelpers.time.latest()),
    });
    const receipt = await sendBundle(f, [owner, session.op]);
    expect(outcomes(f, receipt).success.get(session.hash)).to.equal(true);
    expect(await ethers.provider.getBalance(f.recipient)).to.equal(2n * PAY);
  });
});
