/**
 * What a granted session may do on SessionKeyValidationModule, through the real EntryPoint v0.8 and the Leash account:
 * the agent's user ops and runtime calls within scope, and the escapes validation refuses: out of scope, on the
 * account itself, to modules (THREATS 1-6a), replayed, out of time or with a malleated signature (THREATS 12, 13, 15),
 * and calls to a contract that became a module since the grant. Also the module on a minimal ERC-6900-shaped host.
 * Test names starting with "T<n>" are the named regression tests of ../shared/THREATS.md item n (mapped in
 * docs/THREAT-MODEL.md).
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
  expectRefusedOn,
  grantByTransaction,
  grantedSessionFixture,
  PAY,
  SESSION_ID,
  sessionFixture,
  sessionOp,
  signAsSession,
  signGrant,
  signingSession,
  typicalSession,
  usdcTransfer,
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

const executeUserOpSelector = (f: SessionFixture) => f.account.interface.getFunction("executeUserOp").selector;

describe("SessionKeyValidationModule", function () {
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

    it("accepts ops of one session signed at once in two nonce lanes: each lane is its own sequence", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const module = f.sessionModule.target as string;
      const first = await sessionOp(f, executeCall(f, f.recipient, PAY), {
        nonceKey: sessionNonceKey(module, SESSION_ID, 1),
      });
      const last = await sessionOp(f, executeCall(f, f.recipient, PAY), {
        nonceKey: sessionNonceKey(module, SESSION_ID, 65_535),
      });
      expect([first.op.nonce & ((1n << 64n) - 1n), last.op.nonce & ((1n << 64n) - 1n)]).to.deep.equal([0n, 0n]);
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, first.op))).to.equal(true);
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, last.op))).to.equal(true);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(2n * PAY);
    });

    it("refuses a second op signed at the same nonce of one lane: the EntryPoint includes one (AA25)", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const key = sessionNonceKey(f.sessionModule.target as string, SESSION_ID, 7);
      const one = await sessionOp(f, executeCall(f, f.recipient, PAY), { nonceKey: key });
      const other = await sessionOp(f, executeCall(f, f.recipient, 2n * PAY), { nonceKey: key });
      await sendOp(ethers, f.entryPoint, one.op);
      await expect(sendOp(ethers, f.entryPoint, other.op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOp")
        .withArgs(0n, "AA25 invalid account nonce");
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(PAY);
    });

    it("T12: refuses a nonce key that differs from the session's outside the 16 lane bits (another module's address)", async function () {
      const f = await networkHelpers.loadFixture(grantedFixture);
      const expected = sessionNonceKey(f.sessionModule.target as string, SESSION_ID);
      for (const bit of [31n, 48n, 191n]) {
        const key = expected ^ (1n << bit);
        const { op } = await sessionOp(f, executeCall(f, f.recipient, PAY), { nonceKey: key });
        await expectRefused(f, op, "SessionNonceKeyMismatch", [expected, key]);
      }
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
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
});
