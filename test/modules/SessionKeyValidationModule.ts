/**
 * SessionKeyValidationModule through the real EntryPoint v0.8 and the Leash account. Test names starting with
 * "T<n>" are the named regression tests of ../shared/THREATS.md item n (mapped in docs/THREAT-MODEL.md).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, parseEther, parseUnits, Wallet, ZeroAddress, ZeroHash } from "ethers";

import { encodeErc1271Signature, encodeModuleEntity } from "../../client/encoding.js";
import {
  encodeSessionTypedDataSignature,
  SELECTOR_ANY,
  SELECTOR_NO_CALLDATA,
  sessionNonceKey,
} from "../../client/session.js";
import { packUserOp } from "../../client/userOp.js";
import { createAccount, deployEntryPoint, OWNER_ENTITY_ID } from "../helpers/fixture.js";
import {
  appOrder,
  DAY,
  executeCall,
  grantByTransaction,
  ownerCall,
  SESSION_ID,
  sessionFixture,
  sessionOp,
  signAsSession,
  signGrant,
  signingSession,
  signRevocation,
  signRevokeAll,
  typicalSession,
  usdcTransfer,
  type SessionFixture,
} from "../helpers/sessions.js";
import { opRevertData, opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

const PAY = parseEther("0.01");

async function fixture() {
  return sessionFixture(ethers, networkHelpers);
}

/** A fixture with the typical session granted by the owner's transaction. */
async function grantedFixture() {
  const f = await sessionFixture(ethers, networkHelpers);
  await (await grantByTransaction(f, typicalSession(f))).wait();
  return f;
}

/** Expects the EntryPoint to refuse the op in the account's validation with the module's error. */
async function expectRefused(f: SessionFixture, op: Parameters<typeof sendOp>[2], error: string, args: unknown[]) {
  const iface = [f.sessionModule, f.spendLimitHook, f.account].find((c) => c.interface.getError(error) !== null);
  if (iface === undefined) throw new Error(`no contract declares ${error}`);
  await expect(sendOp(ethers, f.entryPoint, op))
    .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
    .withArgs(0n, "AA23 reverted", iface.interface.encodeErrorResult(error, args));
}

const executeUserOpSelector = (f: SessionFixture) => f.account.interface.getFunction("executeUserOp").selector;

describe("SessionKeyValidationModule", function () {
  describe("grant by transaction", function () {
    it("installs the session and emits SessionGranted with the whole scope", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f);
      await expect(grantByTransaction(f, session))
        .to.emit(f.sessionModule, "SessionGranted")
        .withArgs(
          f.accountAddress,
          SESSION_ID,
          f.agent.address,
          1n,
          session.validAfter,
          session.validUntil,
          session.valueCapPerCall,
          false,
          session.scope.map((e) => e.target),
          session.scope.map((e) => e.selector),
          [],
        );
      const stored = await f.sessionModule.getSession(f.accountAddress, SESSION_ID);
      expect(stored.agent).to.equal(f.agent.address);
      expect(stored.validUntil).to.equal(session.validUntil);
      expect(stored.grantId).to.equal(1n);
      expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(true);
    });

    for (const [name, target] of [
      ["the account itself", (f: SessionFixture) => f.accountAddress],
      ["the session module", (f: SessionFixture) => f.sessionModule.target as string],
      ["the spend-limit hook", (f: SessionFixture) => f.spendLimitHook.target as string],
      ["the owner validation module", (f: SessionFixture) => f.ownerModule.target as string],
      ["the EntryPoint (it holds the account's deposit)", (f: SessionFixture) => f.entryPoint.target as string],
      ["the zero address", () => ZeroAddress],
    ] as const) {
      it(`T4: refuses a scope that names ${name}`, async function () {
        const f = await networkHelpers.loadFixture(fixture);
        const session = typicalSession(f, { scope: [{ target: target(f), selector: SELECTOR_ANY }] });
        await expect(grantByTransaction(f, session))
          .to.be.revertedWithCustomError(f.sessionModule, "SessionTargetForbidden")
          .withArgs(target(f));
        expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(false);
      });
    }

    // The ERC-6900 module interfaces, in the order InterfaceIds.ids() lists their type(I).interfaceId.
    for (const [index, name] of [
      "IModule",
      "IValidationModule",
      "IValidationHookModule",
      "IExecutionModule",
      "IExecutionHookModule",
    ].entries()) {
      it(`T4: refuses a scope that names a contract reporting ${name} through ERC-165, installed on the account or not`, async function () {
        const f = await networkHelpers.loadFixture(fixture);
        const id = (await (await ethers.deployContract("InterfaceIds")).ids())[index]!;
        const module = await ethers.deployContract("InterfaceReporter", [[id], 0]);
        expect(await module.supportsInterface(id)).to.equal(true);
        const session = typicalSession(f, { scope: [{ target: module.target as string, selector: SELECTOR_ANY }] });
        await expect(grantByTransaction(f, session))
          .to.be.revertedWithCustomError(f.sessionModule, "SessionTargetForbidden")
          .withArgs(module.target);
        expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(false);
      });
    }

    it("T4: refuses a scope that names another EntryPoint than the module's own (v0.7: it reports IStakeManager)", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const other = await deployEntryPoint(ethers, "0.7");
      expect(await other.getAddress()).to.not.equal(await f.sessionModule.ENTRY_POINT());
      const withdraw = other.interface.getFunction("withdrawTo").selector;
      const session = typicalSession(f, { scope: [{ target: other.target as string, selector: withdraw }] });
      await expect(grantByTransaction(f, session))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionTargetForbidden")
        .withArgs(other.target);
      expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(false);
    });

    it("T4: refuses a scope that names the canonical EntryPoint v0.6, which reports no interface through ERC-165", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const v06 = "0x5FF137D4b0FDCD49DcA30c7CF57E578a026d2789";
      const session = typicalSession(f, { scope: [{ target: v06, selector: SELECTOR_ANY }] });
      await expect(grantByTransaction(f, session))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionTargetForbidden")
        .withArgs(v06);
      expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(false);
    });

    it("T4: refuses a signed grant that names a module, whoever submits it, and leaves its nonce unused", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const [, validationModuleId] = await (await ethers.deployContract("InterfaceIds")).ids();
      const module = await ethers.deployContract("InterfaceReporter", [[validationModuleId], 0]);
      const session = typicalSession(f, { scope: [{ target: module.target as string, selector: SELECTOR_ANY }] });
      const signature = await signGrant(f, session);
      const grant = (await import("../../client/session.js")).sessionGrantMessage(session);
      await expect(f.sessionModule.connect(f.stranger).grantWithSignature(grant, signature))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionTargetForbidden")
        .withArgs(module.target);
      expect(await f.sessionModule.isNonceUsed(f.accountAddress, session.nonce)).to.equal(false);
    });

    it("refuses session id 0xffffffff, reserved for direct-call validation", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f, { sessionId: 0xffffffff });
      // On the Leash account the id is taken by the module's direct-call validation (the signed-grant installer).
      await expect(grantByTransaction(f, session)).to.be.revertedWithCustomError(
        f.account,
        "AccountValidationAlreadyInstalled",
      );
      // On any account, the module refuses it itself.
      const { encodeSessionConfig } = await import("../../client/session.js");
      await expect(f.sessionModule.connect(f.stranger).onInstall(encodeSessionConfig(session)))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionIdReserved")
        .withArgs(0xffffffff);
    });

    it("refuses a zero agent, an empty time range and an empty scope", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await expect(grantByTransaction(f, typicalSession(f, { agent: ZeroAddress }))).to.be.revertedWithCustomError(
        f.sessionModule,
        "SessionAgentZero",
      );
      await expect(grantByTransaction(f, typicalSession(f, { validUntil: f.now - 10n })))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionTimeRangeInvalid")
        .withArgs(f.now - 10n, f.now - 10n);
      await expect(grantByTransaction(f, typicalSession(f, { scope: [] })))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionScopeInvalid")
        .withArgs(0n, 0n);
    });

    it("is refused when anyone but the owner tries to install a session", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const data = f.account.interface.encodeFunctionData("execute", [f.recipient, 0n, "0x"]);
      await expect(
        f.account
          .connect(f.agent)
          .executeWithRuntimeValidation(data, (await import("../helpers/sessions.js")).ownerAuthorization(f)),
      ).to.be.revertedWithCustomError(f.ownerModule, "OwnerValidationUnauthorized");
    });
  });

  describe("user operations within scope", function () {
    it("lets the agent pay an allowed recipient (empty calldata)", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      const receipt = await sendOp(ethers, f.entryPoint, op);
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(PAY);
    });

    it("lets the agent call an allowed token function", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const amount = parseUnits("5", 6);
      const { op } = await sessionOp(
        f,
        executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, amount)),
      );
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(amount);
    });

    it("checks the same scope when the call is wrapped in executeUserOp", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const callData = concat([executeUserOpSelector(f), executeCall(f, f.recipient, PAY)]);
      const { op } = await sessionOp(f, callData);
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(PAY);
    });

    it("allows any call to a target granted with the wildcard selector", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
      await (
        await grantByTransaction(
          f,
          typicalSession(f, { scope: [{ target: other.target as string, selector: SELECTOR_ANY }] }),
        )
      ).wait();
      const data = other.interface.encodeFunctionData("balanceOf", [f.recipient]);
      const { op } = await sessionOp(f, executeCall(f, other.target as string, 0n, data));
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
    });

    it("T5: refuses other functions of a budgeted token even under a wildcard scope", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await (
        await grantByTransaction(
          f,
          typicalSession(f, { scope: [{ target: f.usdc.target as string, selector: SELECTOR_ANY }] }),
        )
      ).wait();
      const data = f.usdc.interface.encodeFunctionData("balanceOf", [f.recipient]);
      const { op } = await sessionOp(f, executeCall(f, f.usdc.target as string, 0n, data));
      await expectRefused(f, op, "SpendLimitTokenCallRefused", [f.usdc.target, data.slice(0, 10)]);
    });
  });

  describe("scope escapes (THREATS 1-6a)", function () {
    it("T1: refuses a call to a target outside the scope, and nothing moves", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const outsider = Wallet.createRandom().address;
      const { op } = await sessionOp(f, executeCall(f, outsider, PAY));
      await expectRefused(f, op, "SessionCallOutOfScope", [outsider, SELECTOR_NO_CALLDATA]);
      expect(await ethers.provider.getBalance(outsider)).to.equal(0n);
    });

    it("T1: refuses a selector outside the scope on an allowed target", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const approve = f.usdc.interface.encodeFunctionData("approve", [f.stranger.address, parseUnits("5", 6)]);
      const { op } = await sessionOp(f, executeCall(f, f.usdc.target as string, 0n, approve));
      await expectRefused(f, op, "SessionCallOutOfScope", [f.usdc.target, approve.slice(0, 10)]);
      expect(await f.usdc.allowance(f.accountAddress, f.stranger.address)).to.equal(0n);
    });

    it("T1: refuses a batch in which one item is outside the scope, and nothing of the batch runs", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const outsider = Wallet.createRandom().address;
      const callData = f.account.interface.encodeFunctionData("executeBatch", [
        [
          { target: f.recipient, value: PAY, data: "0x" },
          { target: outsider, value: PAY, data: "0x" },
        ],
      ]);
      const { op } = await sessionOp(f, callData);
      await expectRefused(f, op, "SessionCallOutOfScope", [outsider, SELECTOR_NO_CALLDATA]);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("T1: refuses calldata of 1 to 3 bytes to a target allowed only for empty calldata", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY, "0xabcdef"));
      await expectRefused(f, op, "SessionCallOutOfScope", [f.recipient, SELECTOR_NO_CALLDATA]);
    });

    it("T1: refuses a per-call value above the session's cap", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, parseEther("0.6")));
      await expectRefused(f, op, "SessionValueOverCap", [f.recipient, parseEther("0.6"), parseEther("0.5")]);
    });

    it("T2: refuses an execute aimed at the account itself to install a validation", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const install = f.account.interface.encodeFunctionData("uninstallValidation", [
        encodeModuleEntity({ module: f.ownerModule.target as string, entityId: OWNER_ENTITY_ID }),
        "0x",
        [],
      ]);
      const { op } = await sessionOp(f, executeCall(f, f.accountAddress, 0n, install));
      await expectRefused(f, op, "AccountValidationNotApplicable", [
        encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID }),
        f.account.interface.getFunction("uninstallValidation").selector,
      ]);
      expect(await f.ownerModule.owner(OWNER_ENTITY_ID, f.accountAddress)).to.equal(f.owner.address);
    });

    it("T2: refuses a nested execute on the account itself", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const nested = executeCall(f, f.recipient, PAY);
      const { op } = await sessionOp(f, executeCall(f, f.accountAddress, 0n, nested));
      await expectRefused(f, op, "AccountSelectorNotAllowed", [f.account.interface.getFunction("execute").selector]);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    for (const fn of ["upgradeToAndCall", "installValidation", "uninstallValidation", "installExecution"] as const) {
      it(`T2: refuses calling the account's ${fn} directly`, async function () {
        const f = await networkHelpers.loadFixture(grantedFixture);
        const selector = f.account.interface.getFunction(fn).selector;
        const callData = concat([selector, "0x" + "00".repeat(96)]);
        const { op } = await sessionOp(f, callData);
        await expectRefused(f, op, "AccountValidationNotApplicable", [
          encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID }),
          selector,
        ]);
      });
    }

    it("T2: refuses an owner change through the owner module, even with a wildcard scope elsewhere", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const transfer = f.ownerModule.interface.encodeFunctionData("transferOwnership", [
        OWNER_ENTITY_ID,
        f.agent.address,
      ]);
      const { op } = await sessionOp(f, executeCall(f, f.ownerModule.target as string, 0n, transfer));
      await expectRefused(f, op, "SessionCallOutOfScope", [f.ownerModule.target, transfer.slice(0, 10)]);
      expect(await f.ownerModule.owner(OWNER_ENTITY_ID, f.accountAddress)).to.equal(f.owner.address);
    });

    it("T3: refuses an upgrade through execute on the account itself, and the implementation stays", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const implementationSlot = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"; // ERC-1967
      const before = await ethers.provider.getStorage(f.accountAddress, implementationSlot);
      const upgrade = f.account.interface.encodeFunctionData("upgradeToAndCall", [f.sessionModule.target, "0x"]);
      const { op } = await sessionOp(f, executeCall(f, f.accountAddress, 0n, upgrade));
      await expectRefused(f, op, "AccountValidationNotApplicable", [
        encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID }),
        f.account.interface.getFunction("upgradeToAndCall").selector,
      ]);
      expect(await ethers.provider.getStorage(f.accountAddress, implementationSlot)).to.equal(before);
      expect(before).to.not.equal(ZeroHash);
    });

    it("T3: refuses executeUserOp wrapping any account function other than execute / executeBatch", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const upgrade = f.account.interface.encodeFunctionData("upgradeToAndCall", [f.recipient, "0x"]);
      const { op } = await sessionOp(f, concat([executeUserOpSelector(f), upgrade]));
      await expectRefused(f, op, "AccountValidationNotApplicable", [
        encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID }),
        f.account.interface.getFunction("upgradeToAndCall").selector,
      ]);
    });

    it("T4: refuses a call to the session module (revoke, onInstall) or the spend-limit hook", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      for (const [target, data] of [
        [f.sessionModule.target as string, f.sessionModule.interface.encodeFunctionData("revokeAll")],
        [
          f.spendLimitHook.target as string,
          f.spendLimitHook.interface.encodeFunctionData("setBudget", [
            SESSION_ID,
            ZeroAddress,
            parseEther("100"),
            DAY,
            0n,
            true,
          ]),
        ],
      ] as const) {
        const { op } = await sessionOp(f, executeCall(f, target, 0n, data));
        await expectRefused(f, op, "SessionCallOutOfScope", [target, data.slice(0, 10)]);
      }
      expect(await f.sessionModule.epochOf(f.accountAddress)).to.equal(0n);
    });

    it("T6: refuses ERC-1271 signing for a session not granted it", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const hash = ethers.id("permit2 order");
      const digest = await f.sessionModule.sessionMessageHash(f.accountAddress, SESSION_ID, hash);
      const sig = f.agent.signingKey.sign(digest).serialized;
      const validation = { module: f.sessionModule.target as string, entityId: SESSION_ID };
      await expect(f.account.isValidSignature(hash, encodeErc1271Signature(validation, sig)))
        .to.be.revertedWithCustomError(f.account, "AccountSignatureValidationNotAllowed")
        .withArgs(encodeModuleEntity(validation));
    });

    it("T6: a session granted signing signs account-bound messages only", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const app = f.stranger.address;
      await (await grantByTransaction(f, signingSession(f, app))).wait();
      const order = appOrder(app, f.addresses.chainId);
      const { hash, signature } = await signAsSession(f, order);
      expect(await f.account.isValidSignature(hash, signature)).to.equal("0x1626ba7e");
      // The agent's raw signature of the digest, or one bound to another account, is refused.
      const raw = encodeErc1271Signature(
        { module: f.sessionModule.target as string, entityId: SESSION_ID },
        encodeSessionTypedDataSignature(order, order.message, f.agent.signingKey.sign(hash).serialized),
      );
      expect(await f.account.isValidSignature(hash, raw)).to.equal("0xffffffff");
      const replayed = await signAsSession(f, order, { account: f.stranger.address });
      expect(await f.account.isValidSignature(hash, replayed.signature)).to.equal("0xffffffff");
    });

    it("T6a: refuses a called contract re-entering the account to run a second call", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const reentrant = await ethers.deployContract("ReentrantTarget");
      await (
        await grantByTransaction(
          f,
          typicalSession(f, { scope: [{ target: reentrant.target as string, selector: SELECTOR_ANY }] }),
        )
      ).wait();
      await (await reentrant.arm(f.accountAddress, executeCall(f, f.stranger.address, parseEther("1")))).wait();
      const before = await ethers.provider.getBalance(f.stranger.address);
      const { op } = await sessionOp(f, executeCall(f, reentrant.target as string, 0n, "0x12345678"));
      const receipt = await sendOp(ethers, f.entryPoint, op);
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(false);
      expect(opRevertData(f.entryPoint, receipt)).to.equal(
        f.account.interface.encodeErrorResult("AccountUnauthorizedCaller", [
          reentrant.target,
          f.account.interface.getFunction("execute").selector,
        ]),
      );
      expect(await ethers.provider.getBalance(f.stranger.address)).to.equal(before);
    });

    it("T6a: refuses a called contract re-entering through executeWithRuntimeValidation with the session", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const reentrant = await ethers.deployContract("ReentrantTarget");
      await (
        await grantByTransaction(
          f,
          typicalSession(f, { scope: [{ target: reentrant.target as string, selector: SELECTOR_ANY }] }),
        )
      ).wait();
      const authorization = (await import("../../client/encoding.js")).encodeValidationSignature(
        { validation: { module: f.sessionModule.target as string, entityId: SESSION_ID }, isGlobal: false },
        "0x",
      );
      const reentry = f.account.interface.encodeFunctionData("executeWithRuntimeValidation", [
        executeCall(f, f.recipient, PAY),
        authorization,
      ]);
      await (await reentrant.arm(f.accountAddress, reentry)).wait();
      const { op } = await sessionOp(f, executeCall(f, reentrant.target as string, 0n, "0x12345678"));
      const receipt = await sendOp(ethers, f.entryPoint, op);
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(false);
      expect(opRevertData(f.entryPoint, receipt)).to.equal(
        f.sessionModule.interface.encodeErrorResult("SessionUnauthorizedSender", [
          f.accountAddress,
          SESSION_ID,
          reentrant.target,
        ]),
      );
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });
  });

  describe("authority escapes (THREATS 12-16)", function () {
    it("T12: refuses the agent's op replayed on another account of the same owner", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const second = await createAccount(ethers, f, f.owner.address, 1n);
      await (await f.owner.sendTransaction({ to: second.target, value: parseEther("1") })).wait();
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      await expect(sendOp(ethers, f.entryPoint, { ...op, sender: second.target as string }))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.account.interface.encodeErrorResult("AccountValidationNotInstalled", [
            encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID }),
          ]),
        );
    });

    it("T12: refuses an op whose nonce key is not the session's (no reuse under another session or module)", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), { nonceKey: 0n });
      const expected = sessionNonceKey(f.sessionModule.target as string, SESSION_ID);
      await expectRefused(f, op, "SessionNonceKeyMismatch", [expected, 0n]);
    });

    it("T12: refuses the agent's signature moved to another session of the same agent", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await (await grantByTransaction(f, typicalSession(f, { sessionId: 2, nonce: 2n }))).wait();
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      // Re-route the signed op to session 2: its nonce key still names session 1.
      const rerouted = {
        ...op,
        signature: op.signature.replace(
          encodeModuleEntity({ module: f.sessionModule.target as string, entityId: 1 })
            .slice(2)
            .toLowerCase(),
          encodeModuleEntity({ module: f.sessionModule.target as string, entityId: 2 })
            .slice(2)
            .toLowerCase(),
        ),
      };
      await expectRefused(f, rerouted, "SessionNonceKeyMismatch", [
        sessionNonceKey(f.sessionModule.target as string, 2),
        sessionNonceKey(f.sessionModule.target as string, 1),
      ]);
    });

    it("T13: the EntryPoint refuses an op after validUntil (AA22)", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await networkHelpers.time.increaseTo(f.now + DAY + 1n);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), { timeHint: f.now + DAY + 2n });
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOp")
        .withArgs(0n, "AA22 expired or not due");
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("T13: the EntryPoint refuses an op before validAfter (AA22)", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await (await grantByTransaction(f, typicalSession(f, { validAfter: f.now + 3600n }))).wait();
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOp")
        .withArgs(0n, "AA22 expired or not due");
    });

    it("T13: refuses the agent's runtime call outside the time range", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await networkHelpers.time.increaseTo(f.now + DAY + 1n);
      const authorization = (await import("../../client/encoding.js")).encodeValidationSignature(
        { validation: { module: f.sessionModule.target as string, entityId: SESSION_ID }, isGlobal: false },
        "0x",
      );
      const stored = await f.sessionModule.getSession(f.accountAddress, SESSION_ID);
      await expect(
        f.account.connect(f.agent).executeWithRuntimeValidation(executeCall(f, f.recipient, PAY), authorization),
      )
        .to.be.revertedWithCustomError(f.sessionModule, "SessionOutOfTimeRange")
        .withArgs(stored.validAfter, stored.validUntil, f.now + DAY + 2n);
    });

    it("T13: refuses every op after revoke, from the very next op", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const revoke = f.sessionModule.interface.encodeFunctionData("revoke", [SESSION_ID]);
      await expect(ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revoke)))
        .to.emit(f.sessionModule, "SessionRevoked")
        .withArgs(f.accountAddress, SESSION_ID, 1n);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      await expectRefused(f, op, "SessionRevokedError", [f.accountAddress, SESSION_ID]);
      expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(false);
    });

    it("T13: refuses every session granted before the kill switch", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await (await grantByTransaction(f, typicalSession(f, { sessionId: 2 }))).wait();
      const revokeAll = f.sessionModule.interface.encodeFunctionData("revokeAll");
      await expect(ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revokeAll)))
        .to.emit(f.sessionModule, "AllSessionsRevoked")
        .withArgs(f.accountAddress, 1n);
      for (const sessionId of [1, 2]) {
        const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), { sessionId });
        await expectRefused(f, op, "SessionKilled", [f.accountAddress, sessionId]);
      }
    });

    it("T13: lets a session granted after the kill switch work", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const revokeAll = f.sessionModule.interface.encodeFunctionData("revokeAll");
      await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revokeAll))).wait();
      await (await grantByTransaction(f, typicalSession(f, { sessionId: 3 }))).wait();
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), { sessionId: 3 });
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
    });

    it("T15: refuses a malleated (high-s) agent signature (AA24)", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op, hash } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      const sig = f.agent.signingKey.sign(hash);
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const malleated = concat([
        sig.r,
        ethers.toBeHex(n - BigInt(sig.s), 32),
        ethers.toBeHex(sig.v === 27 ? 28 : 27, 1),
      ]);
      const prefix = op.signature.slice(0, op.signature.length - 130);
      await expect(sendOp(ethers, f.entryPoint, { ...op, signature: prefix + malleated.slice(2) }))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOp")
        .withArgs(0n, "AA24 signature error");
    });

    it("T15: refuses a session whose signer is unset, whatever the signature recovers to", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), { sessionId: 9 });
      // Session 9 is not installed on the account: the account refuses it before the module is asked.
      await expectRefused(f, op, "AccountValidationNotInstalled", [
        encodeModuleEntity({ module: f.sessionModule.target as string, entityId: 9 }),
      ]);
      // Asked directly, the module refuses an unset session with a zero-recovering signature too.
      const packed = packUserOp({ ...op, signature: "0x" + "00".repeat(65) });
      await expect(f.sessionModule.validateUserOp(9, packed, ethers.ZeroHash))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionNotFound")
        .withArgs(f.accountAddress, 9);
    });

    it("T16: the owner can always revoke and uninstall a session, whatever it did", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      await sendOp(ethers, f.entryPoint, op);
      const entity = encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID });
      const uninstall = f.account.interface.encodeFunctionData("uninstallValidation", [
        entity,
        ethers.AbiCoder.defaultAbiCoder().encode(["uint32"], [SESSION_ID]),
        [ethers.AbiCoder.defaultAbiCoder().encode(["uint32"], [SESSION_ID]), "0x"],
      ]);
      await expect(ownerCall(f, uninstall))
        .to.emit(f.account, "ValidationUninstalled")
        .withArgs(f.sessionModule.target, SESSION_ID, true);
      expect((await f.sessionModule.getSession(f.accountAddress, SESSION_ID)).agent).to.equal(ZeroAddress);
    });
  });

  describe("grant by the owner's signature", function () {
    it("hashes a SessionGrant exactly as the client's EIP-712 typed data (what the Ledger signs)", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { sessionGrantTypedData, sessionGrantMessage } = await import("../../client/session.js");
      const session = typicalSession(f, { epoch: 3, nonce: 77n });
      const typed = sessionGrantTypedData(session, f.addresses);
      expect(await f.sessionModule.hashSessionGrant(sessionGrantMessage(session))).to.equal(
        ethers.TypedDataEncoder.hash(typed.domain, typed.types, typed.message),
      );
    });

    it("grants the session when anyone submits the owner's signed SessionGrant", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f);
      const signature = await signGrant(f, session);
      const grant = (await import("../../client/session.js")).sessionGrantMessage(session);
      await expect(f.sessionModule.connect(f.stranger).grantWithSignature(grant, signature))
        .to.emit(f.sessionModule, "SessionGranted")
        .and.to.emit(f.account, "ValidationInstalled")
        .withArgs(f.sessionModule.target, SESSION_ID);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(PAY);
    });

    it("grants the session inside the agent's first user op (deferred install)", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f);
      const signature = await signGrant(f, session);
      const grant = (await import("../../client/session.js")).sessionGrantMessage(session);
      void grant;
      const { encodeDeferredGrant } = await import("../../client/session.js");
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), {
        deferredInstall: { installer: f.sessionModule.target as string, data: encodeDeferredGrant(session, signature) },
      });
      const receipt = await sendOp(ethers, f.entryPoint, op);
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(PAY);
      expect(await f.sessionModule.isNonceUsed(f.accountAddress, session.nonce)).to.equal(true);
    });

    it("T14: refuses a signed grant submitted twice", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f);
      const signature = await signGrant(f, session);
      const grant = (await import("../../client/session.js")).sessionGrantMessage(session);
      await (await f.sessionModule.grantWithSignature(grant, signature)).wait();
      await expect(f.sessionModule.grantWithSignature(grant, signature))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionNonceUsed")
        .withArgs(f.accountAddress, session.nonce);
    });

    it("T14: refuses a revoked grant re-submitted after uninstall (its nonce is spent)", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f);
      const signature = await signGrant(f, session);
      const grant = (await import("../../client/session.js")).sessionGrantMessage(session);
      await (await f.sessionModule.grantWithSignature(grant, signature)).wait();
      const entity = encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID });
      const data = ethers.AbiCoder.defaultAbiCoder().encode(["uint32"], [SESSION_ID]);
      await (
        await ownerCall(f, f.account.interface.encodeFunctionData("uninstallValidation", [entity, data, [data, "0x"]]))
      ).wait();
      await expect(f.sessionModule.grantWithSignature(grant, signature))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionNonceUsed")
        .withArgs(f.accountAddress, session.nonce);
      expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(false);
    });

    it("T12: refuses a signed grant replayed on another account of the same owner", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const second = await createAccount(ethers, f, f.owner.address, 1n);
      const session = typicalSession(f);
      const signature = await signGrant(f, session);
      const grant = (await import("../../client/session.js")).sessionGrantMessage(session);
      await expect(f.sessionModule.grantWithSignature({ ...grant, account: second.target as string }, signature))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionOwnerSignatureInvalid")
        .withArgs(second.target);
    });

    it("T12: refuses a grant signed for another chain or another module", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f);
      const grant = (await import("../../client/session.js")).sessionGrantMessage(session);
      for (const addresses of [
        { ...f.addresses, chainId: f.addresses.chainId + 1n },
        { ...f.addresses, sessionModule: Wallet.createRandom().address },
      ]) {
        const signature = await signGrant({ ...f, addresses }, session);
        await expect(f.sessionModule.grantWithSignature(grant, signature))
          .to.be.revertedWithCustomError(f.sessionModule, "SessionOwnerSignatureInvalid")
          .withArgs(f.accountAddress);
      }
      expect(await f.sessionModule.isNonceUsed(f.accountAddress, session.nonce)).to.equal(false);
    });

    it("T12: refuses a grant signed by someone other than the owner", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f);
      const signature = await signGrant(f, session, f.agent);
      const grant = (await import("../../client/session.js")).sessionGrantMessage(session);
      await expect(f.sessionModule.grantWithSignature(grant, signature))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionOwnerSignatureInvalid")
        .withArgs(f.accountAddress);
    });

    it("T6: refuses a grant 'signed' by a session allowed to sign messages (no self-escalation)", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await (await grantByTransaction(f, signingSession(f, f.stranger.address))).wait();
      const wider = typicalSession(f, {
        sessionId: 2,
        nonce: 7n,
        scope: [{ target: f.stranger.address, selector: SELECTOR_ANY }],
      });
      const { sessionGrantMessage, sessionGrantTypedData } = await import("../../client/session.js");
      const grant = sessionGrantMessage(wider);
      const typed = sessionGrantTypedData(wider, f.addresses);
      const { hash, signature } = await signAsSession(f, { ...typed, message: grant });
      expect(hash).to.equal(await f.sessionModule.hashSessionGrant(grant));
      // The session may not sign for the session module's domain (it can never be granted it)...
      expect(await f.account.isValidSignature(hash, signature)).to.equal("0xffffffff");
      // ...and the module never takes a session's signature for the owner's anyway.
      await expect(f.sessionModule.grantWithSignature(grant, signature))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionOwnerSignatureInvalid")
        .withArgs(f.accountAddress);
    });

    it("T6: refuses a scope that lets a session sign for the session module's own domain", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await expect(grantByTransaction(f, signingSession(f, f.sessionModule.target as string)))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionTargetForbidden")
        .withArgs(f.sessionModule.target);
    });

    it("T6: takes a signature naming the built-in validation (module 0) only as the account's ERC-1271 does: here not", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f);
      const owners = await signGrant(f, session);
      // The owner's own signature, relabelled as made by a built-in validation, which Leash's account does not have.
      const relabelled = concat([
        encodeModuleEntity({ module: ZeroAddress, entityId: 0 }),
        "0x" + owners.slice(2 + 48),
      ]);
      const grant = (await import("../../client/session.js")).sessionGrantMessage(session);
      // The module leaves the answer to the account, whose ERC-1271 refuses a validation it does not have.
      await expect(f.sessionModule.connect(f.stranger).grantWithSignature(grant, relabelled))
        .to.be.revertedWithCustomError(f.account, "AccountSignatureValidationNotAllowed")
        .withArgs(encodeModuleEntity({ module: ZeroAddress, entityId: 0 }));
      expect(await f.sessionModule.isNonceUsed(f.accountAddress, session.nonce)).to.equal(false);
      expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(false);
    });

    it("T6: refuses a grant signed through another, non-global validation that can sign messages", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      // The owner installs a second owner-module validation (entity 7) for the agent: signature-capable, not global.
      const { encodeValidationConfig } = await import("../../client/encoding.js");
      const config = encodeValidationConfig(
        { module: f.ownerModule.target as string, entityId: 7 },
        { isGlobal: false, isSignatureValidation: true, isUserOpValidation: false },
      );
      const installData = ethers.AbiCoder.defaultAbiCoder().encode(["uint32", "address"], [7, f.agent.address]);
      await (
        await ownerCall(f, f.account.interface.encodeFunctionData("installValidation", [config, [], installData, []]))
      ).wait();
      const session = typicalSession(f, { scope: [{ target: f.stranger.address, selector: SELECTOR_ANY }] });
      const { sessionGrantTypedData, nestOwnerTypedData, encodeOwnerNestedSignature, sessionGrantMessage } =
        await import("../../client/session.js");
      const app = sessionGrantTypedData(session, f.addresses);
      const nested = nestOwnerTypedData(app, app.message, session.account, f.addresses.chainId);
      const ecdsa = await f.agent.signTypedData(nested.domain, nested.types, nested.message);
      const signature = encodeOwnerNestedSignature(
        { module: f.ownerModule.target as string, entityId: 7 },
        ecdsa,
        app,
        app.message,
      );
      // The account accepts it as entity 7's ERC-1271 signature...
      const digest = await f.sessionModule.hashSessionGrant(sessionGrantMessage(session));
      expect(await f.account.isValidSignature(digest, signature)).to.equal("0x1626ba7e");
      // ...but only a global validation speaks for the owner.
      await expect(f.sessionModule.grantWithSignature(sessionGrantMessage(session), signature))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionOwnerSignatureInvalid")
        .withArgs(f.accountAddress);
    });

    it("refuses a deferred install by a direct-call holder that is not a deferred installer", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const caller = await ethers.deployContract("DirectCallerModule");
      const { encodeValidationConfig } = await import("../../client/encoding.js");
      const config = encodeValidationConfig(
        { module: caller.target as string, entityId: 0xffffffff },
        { isGlobal: false, isSignatureValidation: false, isUserOpValidation: false },
      );
      const selector = f.account.interface.getFunction("installValidation").selector;
      await (
        await ownerCall(f, f.account.interface.encodeFunctionData("installValidation", [config, [selector], "0x", []]))
      ).wait();
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), {
        deferredInstall: { installer: caller.target as string, data: "0x" },
      });
      await expectRefused(f, op, "AccountDeferredInstallerNotAllowed", [caller.target]);
    });

    it("refuses the deferred install from an installer the owner did not trust", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const stranger = await ethers.deployContract("DirectCallerModule");
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), {
        deferredInstall: { installer: stranger.target as string, data: "0x" },
      });
      await expectRefused(f, op, "AccountDeferredInstallerNotAllowed", [stranger.target]);
    });
  });

  describe("deferred install abuse (review findings)", function () {
    it("T13: an agent cannot revive its revoked session by re-installing it through the deferred install", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const revoke = f.sessionModule.interface.encodeFunctionData("revoke", [SESSION_ID]);
      await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revoke))).wait();
      const { encodeSessionConfig } = await import("../../client/session.js");
      // The session module's onInstall data, as an attacker would hand it to the account.
      const data = encodeSessionConfig(typicalSession(f, { validUntil: f.now + 365n * DAY }));
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), {
        deferredInstall: { installer: f.sessionModule.target as string, data },
      });
      await expect(sendOp(ethers, f.entryPoint, op)).to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert");
      expect((await f.sessionModule.getSession(f.accountAddress, SESSION_ID)).revoked).to.equal(true);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("T16: a bundler cannot make the account call the installer's other functions (e.g. revokeAll)", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), {
        deferredInstall: {
          installer: f.sessionModule.target as string,
          data: f.sessionModule.interface.encodeFunctionData("revokeAll"),
        },
      });
      await expect(sendOp(ethers, f.entryPoint, op)).to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert");
      expect(await f.sessionModule.epochOf(f.accountAddress)).to.equal(0n);
    });

    it("T11: never overwrites an existing session record, even when asked by the account", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { encodeSessionConfig } = await import("../../client/session.js");
      const config = encodeSessionConfig(typicalSession(f, { account: f.stranger.address }));
      await (await f.sessionModule.connect(f.stranger).onInstall(config)).wait();
      await expect(f.sessionModule.connect(f.stranger).onInstall(config))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionAlreadyExists")
        .withArgs(f.stranger.address, SESSION_ID);
    });

    it("T14: refuses a grant signed before the kill switch, submitted after it", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f);
      const signature = await signGrant(f, session);
      const revokeAll = f.sessionModule.interface.encodeFunctionData("revokeAll");
      await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revokeAll))).wait();
      const { sessionGrantMessage } = await import("../../client/session.js");
      await expect(f.sessionModule.grantWithSignature(sessionGrantMessage(session), signature))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionGrantEpochStale")
        .withArgs(1, 0);
      expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(false);
    });

    it("T14: lets the owner void a signed grant before anyone submits it (cancelNonce)", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f);
      const signature = await signGrant(f, session);
      const cancel = f.sessionModule.interface.encodeFunctionData("cancelNonce", [session.nonce]);
      await expect(ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, cancel)))
        .to.emit(f.sessionModule, "NonceUsed")
        .withArgs(f.accountAddress, session.nonce);
      const { sessionGrantMessage } = await import("../../client/session.js");
      await expect(f.sessionModule.grantWithSignature(sessionGrantMessage(session), signature))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionNonceUsed")
        .withArgs(f.accountAddress, session.nonce);
    });

    it("T4: refuses, before it runs, a call to a contract in scope that became a module and was installed since", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const greeter = await ethers.deployContract("LateModule");
      await (
        await grantByTransaction(
          f,
          typicalSession(f, { scope: [{ target: greeter.target as string, selector: SELECTOR_ANY }] }),
        )
      ).wait();
      await (await greeter.becomeModule()).wait();
      const manifest = await greeter.executionManifest();
      await (
        await ownerCall(
          f,
          f.account.interface.encodeFunctionData("installExecution", [greeter.target as string, manifest, "0x"]),
        )
      ).wait();
      const data = greeter.interface.encodeFunctionData("greet", ["pwned"]);
      const { op } = await sessionOp(f, executeCall(f, greeter.target as string, 0n, data));
      const receipt = await sendOp(ethers, f.entryPoint, op);
      // Validation cannot ask the target (ERC-7562); the spend-limit hook refuses before any call runs.
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(false);
      expect(opRevertData(f.entryPoint, receipt)).to.equal(
        f.spendLimitHook.interface.encodeErrorResult("SpendLimitForbiddenCall", [greeter.target]),
      );
      expect(await greeter.greeting(f.accountAddress)).to.equal("");
    });
  });

  describe("module guard before every op's calls (the spend-limit hook asks ERC-165; validation may not)", function () {
    it("T4: refuses a batch that pays a recipient and calls a contract that became a module; nothing moves", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const late = await ethers.deployContract("LateModule");
      const session = typicalSession(f, {
        scope: [
          { target: f.recipient, selector: SELECTOR_NO_CALLDATA },
          { target: late.target as string, selector: SELECTOR_ANY },
        ],
      });
      await (await grantByTransaction(f, session)).wait();
      await (await late.becomeModule()).wait();
      const batch = f.account.interface.encodeFunctionData("executeBatch", [
        [
          { target: f.recipient, value: PAY, data: "0x" },
          { target: late.target as string, value: 0n, data: late.interface.encodeFunctionData("greet", ["pwned"]) },
        ],
      ]);
      const { op } = await sessionOp(f, batch);
      const receipt = await sendOp(ethers, f.entryPoint, op);
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(false);
      expect(opRevertData(f.entryPoint, receipt)).to.equal(
        f.spendLimitHook.interface.encodeErrorResult("SpendLimitForbiddenCall", [late.target]),
      );
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
      expect(await late.greeting(f.accountAddress)).to.equal("");
    });

    it("T4: refuses, before it runs, a deposit withdrawal from another EntryPoint a deferred grant named; nothing moves", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const other = await deployEntryPoint(ethers, "0.7");
      await (await other.depositTo(f.accountAddress, { value: parseEther("1") })).wait();
      const withdraw = other.interface.getFunction("withdrawTo").selector;
      const session = typicalSession(f, {
        scope: [{ target: other.target as string, selector: withdraw, function: "withdrawTo(address,uint256)" }],
      });
      const signature = await signGrant(f, session);
      const { encodeDeferredGrant } = await import("../../client/session.js");
      const data = other.interface.encodeFunctionData("withdrawTo", [f.stranger.address, parseEther("1")]);
      const { op } = await sessionOp(f, executeCall(f, other.target as string, 0n, data), {
        deferredInstall: { installer: f.sessionModule.target as string, data: encodeDeferredGrant(session, signature) },
      });
      const strangerBefore = await ethers.provider.getBalance(f.stranger.address);
      const receipt = await sendOp(ethers, f.entryPoint, op);
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(false);
      expect(opRevertData(f.entryPoint, receipt)).to.equal(
        f.spendLimitHook.interface.encodeErrorResult("SpendLimitForbiddenCall", [other.target]),
      );
      expect(await other.balanceOf(f.accountAddress)).to.equal(parseEther("1"));
      expect(await ethers.provider.getBalance(f.stranger.address)).to.equal(strangerBefore);
    });

    it("T4: a deferred grant's skip ends with it: the owner's grant of a module later in the same bundle is refused", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f);
      const signature = await signGrant(f, session);
      const { encodeDeferredGrant, sessionInstallArgs } = await import("../../client/session.js");
      const { op: agentOp } = await sessionOp(f, executeCall(f, f.recipient, PAY), {
        deferredInstall: { installer: f.sessionModule.target as string, data: encodeDeferredGrant(session, signature) },
      });
      // The owner's op, validated after the agent's in the same handleOps, grants session 9 scoped to a module.
      const module = await ethers.deployContract("GreeterExecutionModule");
      const second = typicalSession(f, {
        sessionId: 9,
        nonce: session.nonce + 1n,
        scope: [{ target: module.target as string, selector: SELECTOR_ANY }],
      });
      const { buildSignedOp } = await import("../helpers/userOps.js");
      const { op: ownerOp } = await buildSignedOp(f.entryPoint, {
        sender: f.accountAddress,
        callData: f.account.interface.encodeFunctionData("installValidation", sessionInstallArgs(second, f.addresses)),
        selection: {
          validation: { module: f.ownerModule.target as string, entityId: OWNER_ENTITY_ID },
          isGlobal: true,
        },
        signer: f.owner,
        nonceKey: 0n,
      });
      const [, , , bundler] = await ethers.getSigners();
      const receipt = await (
        await f.entryPoint.connect(bundler!).handleOps([packUserOp(agentOp), packUserOp(ownerOp)], bundler!.address)
      ).wait();
      const events = receipt!.logs
        .map((log) => f.entryPoint.interface.parseLog(log))
        .filter((parsed) => parsed?.name === "UserOperationEvent");
      expect(events.map((event) => event!.args.success)).to.deep.equal([true, false]);
      expect(await f.sessionModule.isLive(f.accountAddress, SESSION_ID)).to.equal(true);
      expect(await f.sessionModule.isLive(f.accountAddress, 9)).to.equal(false);
    });

    it("T4: a grant inside the agent's first op asks none of its targets (ERC-7562); its call to a module never runs", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const [, validationModuleId] = await (await ethers.deployContract("InterfaceIds")).ids();
      const module = await ethers.deployContract("InterfaceReporter", [[validationModuleId], 0]);
      const session = typicalSession(f, {
        scope: [
          { target: f.recipient, selector: SELECTOR_NO_CALLDATA },
          { target: module.target as string, selector: SELECTOR_ANY },
        ],
      });
      const signature = await signGrant(f, session);
      const { encodeDeferredGrant } = await import("../../client/session.js");
      const poke = module.interface.encodeFunctionData("poke");
      const { op } = await sessionOp(f, executeCall(f, module.target as string, 0n, poke), {
        deferredInstall: { installer: f.sessionModule.target as string, data: encodeDeferredGrant(session, signature) },
      });
      // The ERC-7562 plugin traces this op's validation: it would fail the send on a call to the payee (no code).
      const receipt = await sendOp(ethers, f.entryPoint, op);
      expect(await f.sessionModule.isNonceUsed(f.accountAddress, session.nonce)).to.equal(true);
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(false);
      expect(opRevertData(f.entryPoint, receipt)).to.equal(
        f.spendLimitHook.interface.encodeErrorResult("SpendLimitForbiddenCall", [module.target]),
      );
      expect(await module.pokes()).to.equal(0n);
    });
  });

  describe("revocation by the owner's signature", function () {
    it("T14: revokes one session with a signed revocation a watchtower submits, before the agent's pending op", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      const revocation = { account: f.accountAddress, sessionId: SESSION_ID, grantId: 1n, nonce: 50n };
      const signature = await signRevocation(f, revocation);
      await expect(
        f.sessionModule.connect(f.stranger).revokeWithSignature(f.accountAddress, SESSION_ID, 1n, 50n, signature),
      )
        .to.emit(f.sessionModule, "SessionRevoked")
        .withArgs(f.accountAddress, SESSION_ID, 1n);
      await expectRefused(f, op, "SessionRevokedError", [f.accountAddress, SESSION_ID]);
    });

    it("refuses a signed revocation aimed at an older grant of the same session id", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const signature = await signRevocation(f, {
        account: f.accountAddress,
        sessionId: SESSION_ID,
        grantId: 7n,
        nonce: 51n,
      });
      await expect(f.sessionModule.revokeWithSignature(f.accountAddress, SESSION_ID, 7n, 51n, signature))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionGrantMismatch")
        .withArgs(1n, 7n);
    });

    it("pulls the kill switch with a signed AllSessionsRevocation, once", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const signature = await signRevokeAll(f, { account: f.accountAddress, nonce: 99n });
      await expect(f.sessionModule.connect(f.stranger).revokeAllWithSignature(f.accountAddress, 99n, signature))
        .to.emit(f.sessionModule, "AllSessionsRevoked")
        .withArgs(f.accountAddress, 1n);
      await expect(f.sessionModule.revokeAllWithSignature(f.accountAddress, 99n, signature))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionNonceUsed")
        .withArgs(f.accountAddress, 99n);
      expect(await f.sessionModule.epochOf(f.accountAddress)).to.equal(1n);
    });

    it("refuses a kill switch signed by the agent", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const signature = await signRevokeAll(f, { account: f.accountAddress, nonce: 98n }, f.agent);
      await expect(f.sessionModule.revokeAllWithSignature(f.accountAddress, 98n, signature))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionOwnerSignatureInvalid")
        .withArgs(f.accountAddress);
      expect(await f.sessionModule.epochOf(f.accountAddress)).to.equal(0n);
    });
  });

  describe("THREATS 11: re-grants and re-installs", function () {
    it("T11: a re-granted session id does not inherit the old grant's scope", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const entity = encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID });
      const data = ethers.AbiCoder.defaultAbiCoder().encode(["uint32"], [SESSION_ID]);
      await (
        await ownerCall(f, f.account.interface.encodeFunctionData("uninstallValidation", [entity, data, [data, "0x"]]))
      ).wait();
      const narrower = typicalSession(f, { scope: [{ target: f.stranger.address, selector: SELECTOR_NO_CALLDATA }] });
      await (await grantByTransaction(f, narrower)).wait();
      expect(await f.sessionModule.isInScope(f.accountAddress, SESSION_ID, f.recipient, SELECTOR_NO_CALLDATA)).to.equal(
        false,
      );
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      await expectRefused(f, op, "SessionCallOutOfScope", [f.recipient, SELECTOR_NO_CALLDATA]);
    });

    it("T11: a revoked session stays revoked when its validation is uninstalled without data and reinstalled", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const revoke = f.sessionModule.interface.encodeFunctionData("revoke", [SESSION_ID]);
      await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revoke))).wait();
      const entity = encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID });
      await (
        await ownerCall(f, f.account.interface.encodeFunctionData("uninstallValidation", [entity, "0x", []]))
      ).wait();
      const [config, selectors] = (await import("../../client/session.js")).sessionInstallArgs(
        typicalSession(f),
        f.addresses,
      );
      // Reinstall the bare validation (no install data): the module's record, revoked, is what answers.
      await (
        await ownerCall(f, f.account.interface.encodeFunctionData("installValidation", [config, selectors, "0x", []]))
      ).wait();
      const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY));
      await expectRefused(f, op, "SessionRevokedError", [f.accountAddress, SESSION_ID]);
    });
  });

  describe("runtime validation", function () {
    const runtimeAuth = async (f: SessionFixture) =>
      (await import("../../client/encoding.js")).encodeValidationSignature(
        { validation: { module: f.sessionModule.target as string, entityId: SESSION_ID }, isGlobal: false },
        "0x",
      );

    it("lets the agent's EOA execute within scope", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await (
        await f.account
          .connect(f.agent)
          .executeWithRuntimeValidation(executeCall(f, f.recipient, PAY), await runtimeAuth(f))
      ).wait();
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(PAY);
    });

    it("refuses another EOA using the session", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await expect(
        f.account
          .connect(f.stranger)
          .executeWithRuntimeValidation(executeCall(f, f.recipient, PAY), await runtimeAuth(f)),
      )
        .to.be.revertedWithCustomError(f.sessionModule, "SessionUnauthorizedSender")
        .withArgs(f.accountAddress, SESSION_ID, f.stranger.address);
    });

    it("T4: refuses on the runtime path a call to a contract in scope that became a module, before it runs", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const late = await ethers.deployContract("LateModule");
      const session = typicalSession(f, { scope: [{ target: late.target as string, selector: SELECTOR_ANY }] });
      await (await grantByTransaction(f, session)).wait();
      await (await late.becomeModule()).wait();
      const data = late.interface.encodeFunctionData("greet", ["pwned"]);
      await expect(
        f.account
          .connect(f.agent)
          .executeWithRuntimeValidation(executeCall(f, late.target as string, 0n, data), await runtimeAuth(f)),
      )
        .to.be.revertedWithCustomError(f.spendLimitHook, "SpendLimitForbiddenCall")
        .withArgs(late.target);
      expect(await late.greeting(f.accountAddress)).to.equal("");
    });

    it("refuses an out-of-scope call on the runtime path", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      await expect(
        f.account
          .connect(f.agent)
          .executeWithRuntimeValidation(executeCall(f, f.stranger.address, PAY), await runtimeAuth(f)),
      )
        .to.be.revertedWithCustomError(f.sessionModule, "SessionCallOutOfScope")
        .withArgs(f.stranger.address, SELECTOR_NO_CALLDATA);
    });
  });

  describe("portability", function () {
    it("works on a minimal ERC-6900-shaped host that knows nothing of the Leash account", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const host = await ethers.deployContract("MinimalHost");
      await (await f.owner.sendTransaction({ to: host.target, value: parseEther("1") })).wait();
      const { encodeSessionConfig } = await import("../../client/session.js");
      const session = typicalSession(f, { account: host.target as string });
      await (await host.install(f.sessionModule.target as string, SESSION_ID, encodeSessionConfig(session))).wait();
      await (await host.connect(f.agent).executeWithRuntimeValidation(executeCall(f, f.recipient, PAY), "0x")).wait();
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(PAY);
      await expect(host.connect(f.agent).executeWithRuntimeValidation(executeCall(f, f.stranger.address, PAY), "0x"))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionCallOutOfScope")
        .withArgs(f.stranger.address, SELECTOR_NO_CALLDATA);
    });
  });
});

describe("SessionKeyValidationModule edge rules", function () {
  it("refuses runtime authorization data it did not ask for", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { encodeValidationSignature } = await import("../../client/encoding.js");
    const authorization = encodeValidationSignature(
      { validation: { module: f.sessionModule.target as string, entityId: SESSION_ID }, isGlobal: false },
      "0x1234",
    );
    await expect(
      f.account.connect(f.agent).executeWithRuntimeValidation(executeCall(f, f.recipient, PAY), authorization),
    ).to.be.revertedWithCustomError(f.sessionModule, "SessionUnexpectedAuthorization");
  });

  it("refuses a deferred grant carrying another account's grant", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const { encodeDeferredGrant } = await import("../../client/session.js");
    const session = typicalSession(f, { account: f.stranger.address });
    const data = encodeDeferredGrant(session, "0x");
    await expect(f.sessionModule.connect(f.owner).installDeferred(data))
      .to.be.revertedWithCustomError(f.sessionModule, "SessionGrantAccountMismatch")
      .withArgs(f.owner.address, f.stranger.address);
  });

  it("refuses to cancel a nonce twice", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await f.sessionModule.connect(f.stranger).cancelNonce(5n)).wait();
    await expect(f.sessionModule.connect(f.stranger).cancelNonce(5n))
      .to.be.revertedWithCustomError(f.sessionModule, "SessionNonceUsed")
      .withArgs(f.stranger.address, 5n);
  });

  it("refuses to revoke a session that does not exist", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await expect(f.sessionModule.connect(f.stranger).revoke(42))
      .to.be.revertedWithCustomError(f.sessionModule, "SessionNotFound")
      .withArgs(f.stranger.address, 42);
  });

  it("refuses an owner signature too short to name a validation", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const { sessionGrantMessage } = await import("../../client/session.js");
    await expect(f.sessionModule.grantWithSignature(sessionGrantMessage(typicalSession(f)), "0x1234"))
      .to.be.revertedWithCustomError(f.sessionModule, "SessionOwnerSignatureInvalid")
      .withArgs(f.accountAddress);
  });

  it("refuses signed grants on a deployment without a spend-limit hook", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const bare = await ethers.deployContract("SessionKeyValidationModule", [
      ethers.ZeroAddress,
      f.entryPoint.target as string,
    ]);
    const { sessionGrantMessage } = await import("../../client/session.js");
    await expect(bare.grantWithSignature(sessionGrantMessage(typicalSession(f)), "0x")).to.be.revertedWithCustomError(
      bare,
      "SessionSpendLimitHookMissing",
    );
  });

  it("stops a signing session from signing once it is revoked", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, signingSession(f, f.stranger.address))).wait();
    const { hash, signature } = await signAsSession(f, appOrder(f.stranger.address, f.addresses.chainId));
    expect(await f.account.isValidSignature(hash, signature)).to.equal("0x1626ba7e");
    const revoke = f.sessionModule.interface.encodeFunctionData("revoke", [SESSION_ID]);
    await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revoke))).wait();
    expect(await f.account.isValidSignature(hash, signature)).to.equal("0xffffffff");
  });

  it("reports its module id, interfaces and grant count", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    expect(await f.sessionModule.moduleId()).to.equal("leash.session-keys.0.1.0");
    expect(await f.sessionModule.grantCountOf(f.accountAddress)).to.equal(1n);
    const ids = await (await ethers.deployContract("InterfaceIds")).ids();
    expect(await f.sessionModule.supportsInterface(ids[1]!)).to.equal(true); // IValidationModule
    expect(await f.sessionModule.supportsInterface(ids[2]!)).to.equal(false); // not a validation hook
  });
});
