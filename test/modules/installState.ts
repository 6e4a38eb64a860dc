/**
 * Install and uninstall state follows the validation being installed or removed, never an entity id the caller wrote
 * in the data (THREATS 31): in the session module and the spend-limit hook, through Leash's account (which answers
 * ERC-6900's `getValidationData`) and the real EntryPoint v0.8. The owner module's are in OwnerValidationModule.ts.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { parseUnits } from "ethers";

import { encodeSessionConfig, sessionInstallArgs } from "../../client/session.js";
import type { UserOperation } from "../../client/userOp.js";
import {
  entityData,
  executeCall,
  grantByTransaction,
  ownerCall,
  SESSION_ID,
  sessionFixture,
  sessionOp,
  typicalSession,
  uninstallValidation,
  usdcTransfer,
  type SessionFixture,
} from "../helpers/sessions.js";
import { opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

const USDC = (amount: string) => parseUnits(amount, 6);
const OTHER_SESSION = SESSION_ID + 1;

async function payUsdc(f: SessionFixture, sessionId: number, amount: bigint): Promise<UserOperation> {
  const call = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, amount));
  return (await sessionOp(f, call, { sessionId })).op;
}

describe("Install state follows the validation (THREATS 31)", function () {
  describe("SessionKeyValidationModule and SpendLimitHook", function () {
    /** Two sessions, SESSION_ID and OTHER_SESSION, each with 100 USDC a day. */
    async function twoSessionsFixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      await (await grantByTransaction(f, typicalSession(f))).wait();
      await (await grantByTransaction(f, typicalSession(f, { sessionId: OTHER_SESSION }))).wait();
      return f;
    }

    it("T31: refuses session install data naming another session id than the validation being installed, and installs nothing", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const session = typicalSession(f, { sessionId: 7 });
      const [config, selectors, , hooks] = sessionInstallArgs(session, f.addresses);
      const data = encodeSessionConfig({ ...session, sessionId: 5 });
      const install = f.account.interface.encodeFunctionData("installValidation", [config, selectors, data, hooks]);
      await expect(ownerCall(f, install))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionNotBeingInstalled")
        .withArgs(f.accountAddress, 5);
      expect((await f.sessionModule.getSession(f.accountAddress, 5)).agent).to.equal(ethers.ZeroAddress);
      expect((await f.sessionModule.getSession(f.accountAddress, 7)).agent).to.equal(ethers.ZeroAddress);
    });

    it("T31: uninstalling one session with module data naming another keeps that other session, which still pays", async function () {
      const f = await networkHelpers.loadFixture(twoSessionsFixture);
      const module = f.sessionModule.target as string;
      await (
        await ownerCall(
          f,
          uninstallValidation(f, module, SESSION_ID, entityData(OTHER_SESSION), [entityData(SESSION_ID), "0x"]),
        )
      ).wait();
      expect((await f.sessionModule.getSession(f.accountAddress, OTHER_SESSION)).agent).to.equal(f.agent.address);
      const before = await f.usdc.balanceOf(f.recipient);
      expect(
        opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, await payUsdc(f, OTHER_SESSION, USDC("5")))),
      ).to.equal(true);
      expect((await f.usdc.balanceOf(f.recipient)) - before).to.equal(USDC("5"));
    });

    it("T31: uninstall hook data naming another session freezes that session's spending instead of freeing it", async function () {
      const f = await networkHelpers.loadFixture(twoSessionsFixture);
      const module = f.sessionModule.target as string;
      await (
        await ownerCall(
          f,
          uninstallValidation(f, module, SESSION_ID, entityData(SESSION_ID), [entityData(OTHER_SESSION), "0x"]),
        )
      ).wait();
      const before = await f.usdc.balanceOf(f.accountAddress);
      await expect(sendOp(ethers, f.entryPoint, await payUsdc(f, OTHER_SESSION, USDC("5"))))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.spendLimitHook.interface.encodeErrorResult("SpendLimitNotInstalled", [f.accountAddress, OTHER_SESSION]),
        );
      expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(before);
    });

    it("T31: a session uninstalled without data stays dormant: none of its ops runs, and its id is not granted over", async function () {
      const f = await networkHelpers.loadFixture(twoSessionsFixture);
      await (await ownerCall(f, uninstallValidation(f, f.sessionModule.target as string, SESSION_ID, "0x"))).wait();
      const before = await f.usdc.balanceOf(f.accountAddress);
      await expect(sendOp(ethers, f.entryPoint, await payUsdc(f, SESSION_ID, USDC("5")))).to.be.revertedWithCustomError(
        f.entryPoint,
        "FailedOpWithRevert",
      );
      expect(await f.usdc.balanceOf(f.accountAddress)).to.equal(before);
      // Without data the module cannot tell which session went; it keeps the record rather than guess.
      await expect(grantByTransaction(f, typicalSession(f)))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionAlreadyExists")
        .withArgs(f.accountAddress, SESSION_ID);
    });

    it("T31: a session uninstalled with its data can be granted again under its id, with fresh budgets", async function () {
      const f = await networkHelpers.loadFixture(twoSessionsFixture);
      await sendOp(ethers, f.entryPoint, await payUsdc(f, SESSION_ID, USDC("90")));
      const module = f.sessionModule.target as string;
      await (
        await ownerCall(
          f,
          uninstallValidation(f, module, SESSION_ID, entityData(SESSION_ID), [entityData(SESSION_ID), "0x"]),
        )
      ).wait();
      await (await grantByTransaction(f, typicalSession(f))).wait();
      expect((await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, f.usdc.target as string)).spent).to.equal(
        0n,
      );
      expect(
        opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, await payUsdc(f, SESSION_ID, USDC("50")))),
      ).to.equal(true);
    });
  });
});
