/**
 * The modular account itself, through the real EntryPoint v0.8: its creation by the factory (counterfactual address,
 * first op's initCode, stake, initialization) and its upgrade. Executing calls, ERC-1271 and module management are in
 * ModularAccount.execution.ts, .signatures.ts, .installValidation.ts and .installExecution.ts; the owner module's own
 * tests in test/modules/OwnerValidationModule.ts.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, parseEther, ZeroAddress } from "ethers";

import { encodeValidationConfig } from "../../client/encoding.js";
import {
  modularAccountFixture,
  ONE_CENT_ETH,
  ownerAuthorization,
  ownerOp,
  ownerSelection,
} from "../helpers/account.js";
import { createAccount, fund, OWNER_ENTITY_ID, testWallet } from "../helpers/fixture.js";
import { buildSignedOp, opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

async function accountFixture() {
  return modularAccountFixture(ethers);
}

describe("ModularAccount", function () {
  describe("creation", function () {
    it("deploys at the factory's counterfactual address through initCode in the first user op", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const newOwner = testWallet(ethers, "m/44'/60'/4'/0/0");
      const predicted = await f.factory.getAccountAddress(newOwner.address, 7n);
      expect(await ethers.provider.getCode(predicted)).to.equal("0x");
      await fund(ethers, predicted);

      const initCode = concat([
        f.factory.target as string,
        f.factory.interface.encodeFunctionData("createAccount", [newOwner.address, 7n]),
      ]);
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: predicted,
        callData,
        initCode,
        selection: ownerSelection(f),
        signer: newOwner,
      });
      const receipt = await sendOp(ethers, f.entryPoint, op);

      expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
      expect(await ethers.provider.getCode(predicted)).to.not.equal("0x");
      expect(await f.ownerModule.owner(OWNER_ENTITY_ID, predicted)).to.equal(newOwner.address);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);
    });

    it("returns the existing account when created twice, without redeploying", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const before = await f.factory.getAccountAddress(f.owner.address, 0n);
      await expect(f.factory.createAccount(f.owner.address, 0n)).to.not.emit(f.factory, "AccountCreated");
      expect(await f.factory.getAccountAddress(f.owner.address, 0n)).to.equal(before);
    });

    it("binds the owner into the address: another owner with the same salt gets another account", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      expect(await f.factory.getAccountAddress(f.stranger.address, 0n)).to.not.equal(await f.account.getAddress());
    });

    it("lets the factory's owner, and no one else, stake it in the EntryPoint (ERC-7562 for first ops)", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await f.factory.addStake(86_400, { value: parseEther("1") })).wait();
      const info = await f.entryPoint.getDepositInfo(f.factory.target as string);
      expect([info.staked, info.stake, info.unstakeDelaySec]).to.deep.equal([true, parseEther("1"), 86_400n]);
      await expect(f.factory.connect(f.stranger).addStake(86_400, { value: 1n }))
        .to.be.revertedWithCustomError(f.factory, "OwnableUnauthorizedAccount")
        .withArgs(f.stranger.address);
    });

    it("reverts with AccountFactoryZeroOwner for a zero owner", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await expect(f.factory.createAccount(ZeroAddress, 0n)).to.be.revertedWithCustomError(
        f.factory,
        "AccountFactoryZeroOwner",
      );
    });

    it("cannot be initialized a second time", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const config = encodeValidationConfig(
        { module: f.ownerModule.target as string, entityId: 9 },
        { isGlobal: true, isSignatureValidation: true, isUserOpValidation: true },
      );
      const installData = ethers.AbiCoder.defaultAbiCoder().encode(["uint32", "address"], [9, f.stranger.address]);
      await expect(
        f.account.initialize([{ validationConfig: config, selectors: [], installData, hooks: [] }]),
      ).to.be.revertedWithCustomError(f.account, "InvalidInitialization");
    });

    it("reports its account id and the standard's interfaces", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      expect(await f.account.accountId()).to.equal("leash.modular-account.0.1.0");
      const reader = await ethers.deployContract("InterfaceIds");
      const ids = await reader.ids();
      expect(await f.account.supportsInterface(ids[5]!)).to.equal(true); // IModularAccount
      expect(await f.account.supportsInterface(ids[6]!)).to.equal(true); // IModularAccountView
      expect(await f.account.supportsInterface("0x1626ba7e")).to.equal(true); // IERC1271
      expect(await f.account.supportsInterface("0x01ffc9a7")).to.equal(true); // IERC165
      expect(await f.account.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("upgrade", function () {
    const IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";

    it("lets the owner upgrade the implementation", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const next = await ethers.deployContract("ModularAccount", [f.entryPoint.target as string]);
      const data = f.account.interface.encodeFunctionData("upgradeToAndCall", [next.target as string, "0x"]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.emit(f.account, "Upgraded")
        .withArgs(next.target);
      const slot = await ethers.provider.getStorage(await f.account.getAddress(), IMPLEMENTATION_SLOT);
      expect(ethers.getAddress(ethers.dataSlice(slot, 12))).to.equal(next.target);
    });

    it("refuses an upgrade by a non-owner, on the runtime path and by a direct call", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const next = await ethers.deployContract("ModularAccount", [f.entryPoint.target as string]);
      const data = f.account.interface.encodeFunctionData("upgradeToAndCall", [next.target as string, "0x"]);
      await expect(
        f.account.connect(f.stranger).executeWithRuntimeValidation(data, ownerAuthorization(f)),
      ).to.be.revertedWithCustomError(f.ownerModule, "OwnerValidationUnauthorized");
      await expect(f.account.connect(f.stranger).upgradeToAndCall(next.target as string, "0x"))
        .to.be.revertedWithCustomError(f.account, "AccountUnauthorizedCaller")
        .withArgs(f.stranger.address, f.account.interface.getFunction("upgradeToAndCall").selector);
      const slot = await ethers.provider.getStorage(await f.account.getAddress(), IMPLEMENTATION_SLOT);
      expect(ethers.getAddress(ethers.dataSlice(slot, 12))).to.equal(f.implementation.target);
    });

    it("refuses an upgrade in an op signed by a non-owner", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const next = await ethers.deployContract("ModularAccount", [f.entryPoint.target as string]);
      const callData = f.account.interface.encodeFunctionData("upgradeToAndCall", [next.target as string, "0x"]);
      await expect(sendOp(ethers, f.entryPoint, await ownerOp(f, callData, f.stranger)))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOp")
        .withArgs(0n, "AA24 signature error");
      const slot = await ethers.provider.getStorage(await f.account.getAddress(), IMPLEMENTATION_SLOT);
      expect(ethers.getAddress(ethers.dataSlice(slot, 12))).to.equal(f.implementation.target);
    });
  });
});
