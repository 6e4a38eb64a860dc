/**
 * Granting sessions on SessionKeyValidationModule, through the real EntryPoint v0.8 and the Leash account: by the
 * owner's transaction, by the owner's signed SessionGrant (submitted by anyone, or inside the agent's first op: the
 * deferred install), and the refusals of what a grant may not name or do (THREATS 4, 6, 11, 12, 14). Test names
 * starting with "T<n>" are the named regression tests of ../shared/THREATS.md item n (mapped in
 * docs/THREAT-MODEL.md). What a granted session may then do is in SessionKeyValidationModule.validation.ts, its
 * revocation in SessionKeyValidationModule.revoke.ts.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, Wallet, ZeroAddress } from "ethers";

import { encodeModuleEntity } from "../../client/encoding.js";
import { SELECTOR_ANY, SELECTOR_NO_CALLDATA } from "../../client/session.js";
import { createAccount, deployEntryPoint } from "../helpers/fixture.js";
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
  signAsSession,
  signGrant,
  signingSession,
  typicalSession,
  type SessionFixture,
} from "../helpers/sessions.js";
import { opRevertData, opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

async function fixture() {
  return sessionFixture(ethers, networkHelpers);
}

/** A fixture with the typical session granted by the owner's transaction. */
async function grantedFixture() {
  return grantedSessionFixture(ethers, networkHelpers);
}

/** Expects the EntryPoint to refuse the op in the account's validation with the module's error. */
const expectRefused = expectRefusedOn(ethers);

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
});

describe("SessionKeyValidationModule edge rules", function () {
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

  it("reports its module id, interfaces and grant count", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    expect(await f.sessionModule.moduleId()).to.equal("leash.session-keys.0.1.0");
    expect(await f.sessionModule.grantCountOf(f.accountAddress)).to.equal(1n);
    const ids = await (await ethers.deployContract("InterfaceIds")).ids();
    expect(await f.sessionModule.supportsInterface(ids[1]!)).to.equal(true); // IValidationModule
    expect(await f.sessionModule.supportsInterface(ids[2]!)).to.equal(false); // not a validation hook
  });
});
