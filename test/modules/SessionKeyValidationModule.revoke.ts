/**
 * Revoking sessions on SessionKeyValidationModule, through the real EntryPoint v0.8 and the Leash account: by the
 * owner's transaction (one session, or all of them with the kill switch) and by the owner's signature, which anyone may
 * submit; a revoked session's ops and signatures are refused from the very next op, and the owner can always remove a
 * session (THREATS 13, 14, 16). Test names starting with "T<n>" are the named regression tests of ../shared/THREATS.md
 * item n (mapped in docs/THREAT-MODEL.md).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, ZeroAddress } from "ethers";

import { encodeModuleEntity } from "../../client/encoding.js";
import {
  appOrder,
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
  signingSession,
  signRevocation,
  signRevokeAll,
  typicalSession,
} from "../helpers/sessions.js";
import { opSucceeded, sendOp } from "../helpers/userOps.js";

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
  describe("authority escapes (THREATS 12-16)", function () {
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

describe("SessionKeyValidationModule edge rules", function () {
  it("refuses to revoke a session that does not exist", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await expect(f.sessionModule.connect(f.stranger).revoke(42))
      .to.be.revertedWithCustomError(f.sessionModule, "SessionNotFound")
      .withArgs(f.stranger.address, 42);
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
});
