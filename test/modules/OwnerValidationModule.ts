/**
 * OwnerValidationModule, the owner's validation on every account the factory deploys: what onInstall and onUninstall
 * store and clear (state that follows the validation being installed or removed, never an entity id the data names:
 * THREATS 31), transferOwnership, and the owner's signatures it checks for user ops, runtime calls and ERC-1271
 * (ERC-7739 nested typed data and PersonalSign). Through Leash's account and the real EntryPoint v0.8, and from an
 * EOA standing in for an account without ERC-6900's view.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, ZeroAddress, type HDNodeWallet } from "ethers";

import { encodeErc1271Signature, encodeModuleEntity, encodeValidationSignature } from "../../client/encoding.js";
import {
  modularAccountFixture,
  ONE_CENT_ETH,
  ownerAuthorization,
  ownerOp,
  ownerSelection,
  type AccountFixture,
} from "../helpers/account.js";
import { createAccount, OWNER_ENTITY_ID } from "../helpers/fixture.js";
import {
  entityData,
  executeCall,
  installOwnerValidation,
  ownerCall,
  sessionFixture,
  uninstallValidation,
  USDC,
  usdcTransfer,
  type SessionFixture,
} from "../helpers/sessions.js";
import { buildSignedOp, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

async function fixture() {
  return sessionFixture(ethers, networkHelpers);
}

/** The account on its own (no session), for the owner's signatures and transferOwnership. */
async function accountFixture() {
  return modularAccountFixture(ethers);
}

describe("OwnerValidationModule", function () {
  describe("onInstall", function () {
    describe("when the owner is the zero address", function () {
      it("reverts with OwnerValidationZeroOwner if the install data names no owner", async function () {
        const f = await networkHelpers.loadFixture(fixture);
        await expect(ownerCall(f, installOwnerValidation(f, 3, 3, ZeroAddress))).to.be.revertedWithCustomError(
          f.ownerModule,
          "OwnerValidationZeroOwner",
        );
        expect(await f.ownerModule.owner(3, f.accountAddress)).to.equal(ZeroAddress);
      });
    });

    describe("when the entity already has an owner on the account", function () {
      it("reverts with OwnerValidationAlreadyInitialized if install data for another validation names that entity", async function () {
        const f = await networkHelpers.loadFixture(fixture);
        await expect(ownerCall(f, installOwnerValidation(f, 3, 0, f.stranger.address)))
          .to.be.revertedWithCustomError(f.ownerModule, "OwnerValidationAlreadyInitialized")
          .withArgs(f.accountAddress, 0);
        expect(await f.ownerModule.owner(0, f.accountAddress)).to.equal(f.owner.address);
      });

      it("T31: refuses owner install data naming the live root owner's entity, which keeps its owner", async function () {
        const f = await sessionFixture(ethers, networkHelpers);
        await expect(ownerCall(f, installOwnerValidation(f, 3, 0, f.stranger.address)))
          .to.be.revertedWithCustomError(f.ownerModule, "OwnerValidationAlreadyInitialized")
          .withArgs(f.accountAddress, 0);
        expect(await f.ownerModule.owner(0, f.accountAddress)).to.equal(f.owner.address);
      });
    });

    describe("when the install data names an entity other than the validation being installed (THREATS 31)", function () {
      it("T31: refuses owner install data naming an entity other than the validation being installed, and stores no owner", async function () {
        const f = await sessionFixture(ethers, networkHelpers);
        await expect(ownerCall(f, installOwnerValidation(f, 3, 4, f.stranger.address)))
          .to.be.revertedWithCustomError(f.ownerModule, "OwnerValidationNotBeingInstalled")
          .withArgs(f.accountAddress, 4);
        expect(await f.ownerModule.owner(4, f.accountAddress)).to.equal(ethers.ZeroAddress);
        expect(await f.ownerModule.owner(3, f.accountAddress)).to.equal(ethers.ZeroAddress);
      });
    });
  });

  describe("onUninstall", function () {
    describe("when the caller answers no getValidationData (an EOA standing in for an account without the view)", function () {
      /** The stranger's EOA installs entities 5 (owner: the agent) and 6 (owner: the recipient). */
      async function noViewFixture() {
        const f = await sessionFixture(ethers, networkHelpers);
        const module = f.ownerModule.connect(f.stranger);
        const install = (entityId: number, owner: string) =>
          ethers.AbiCoder.defaultAbiCoder().encode(["uint32", "address"], [entityId, owner]);
        await (await module.onInstall(install(5, f.agent.address))).wait();
        await (await module.onInstall(install(6, f.recipient))).wait();
        return { ...f, module };
      }

      it("clears the owner of the entity the uninstall data names, and only it", async function () {
        const f = await networkHelpers.loadFixture(noViewFixture);
        await expect(f.module.onUninstall(entityData(5)))
          .to.emit(f.ownerModule, "OwnerTransferred")
          .withArgs(f.stranger.address, 5, ZeroAddress, f.agent.address);
        expect(await f.ownerModule.owner(5, f.stranger.address)).to.equal(ZeroAddress);
        expect(await f.ownerModule.owner(6, f.stranger.address)).to.equal(f.recipient);
      });

      it("clears nothing if the uninstall data is shorter than a word", async function () {
        const f = await networkHelpers.loadFixture(noViewFixture);
        const short = ethers.dataSlice(entityData(5), 0, 31);
        await expect(f.module.onUninstall(short)).not.to.emit(f.ownerModule, "OwnerTransferred");
        expect(await f.ownerModule.owner(5, f.stranger.address)).to.equal(f.agent.address);
        expect(await f.ownerModule.owner(6, f.stranger.address)).to.equal(f.recipient);
      });

      it("clears nothing if the uninstall data names an entity that has no owner", async function () {
        const f = await networkHelpers.loadFixture(noViewFixture);
        await expect(f.module.onUninstall(entityData(7))).not.to.emit(f.ownerModule, "OwnerTransferred");
        expect(await f.ownerModule.owner(5, f.stranger.address)).to.equal(f.agent.address);
        expect(await f.ownerModule.owner(6, f.stranger.address)).to.equal(f.recipient);
      });

      it("clears the entity left in the first entry's place when it is named after the first was cleared", async function () {
        const f = await networkHelpers.loadFixture(noViewFixture);
        await (await f.module.onUninstall(entityData(5))).wait();
        // Entity 6 moved from the list's last entry into the first: naming it must still find it.
        await expect(f.module.onUninstall(entityData(6)))
          .to.emit(f.ownerModule, "OwnerTransferred")
          .withArgs(f.stranger.address, 6, ZeroAddress, f.recipient);
        expect(await f.ownerModule.owner(6, f.stranger.address)).to.equal(ZeroAddress);
      });
    });

    describe("when the account reports its validations (Leash's account)", function () {
      /** Owner validations 0 (the root owner), 1 (the stranger) and 2 (the recipient). */
      async function threeOwnersFixture() {
        const f = await sessionFixture(ethers, networkHelpers);
        await (await ownerCall(f, installOwnerValidation(f, 1, 1, f.stranger.address))).wait();
        await (await ownerCall(f, installOwnerValidation(f, 2, 2, f.recipient))).wait();
        return f;
      }

      /** uninstallValidation calldata for the owner module's validation `entityId`, with `data`. */
      const uninstallOwner = (f: SessionFixture, entityId: number, data: string) =>
        f.account.interface.encodeFunctionData("uninstallValidation", [
          encodeModuleEntity({ module: f.ownerModule.target as string, entityId }),
          data,
          [],
        ]);

      it("T31: uninstalling the middle of three owner validations clears only its owner", async function () {
        const f = await networkHelpers.loadFixture(threeOwnersFixture);
        await expect(ownerCall(f, uninstallOwner(f, 1, "0x")))
          .to.emit(f.ownerModule, "OwnerTransferred")
          .withArgs(f.accountAddress, 1, ZeroAddress, f.stranger.address);
        expect([
          await f.ownerModule.owner(0, f.accountAddress),
          await f.ownerModule.owner(1, f.accountAddress),
          await f.ownerModule.owner(2, f.accountAddress),
        ]).to.deep.equal([f.owner.address, ZeroAddress, f.recipient]);
      });

      it("T31: after the middle of three owner validations is uninstalled, uninstalling the last clears it too", async function () {
        const f = await networkHelpers.loadFixture(threeOwnersFixture);
        await (await ownerCall(f, uninstallOwner(f, 1, "0x"))).wait();
        // Entity 2 moved into entity 1's entry of the module's list; the next uninstall must still find it.
        await expect(ownerCall(f, uninstallOwner(f, 2, entityData(0))))
          .to.emit(f.ownerModule, "OwnerTransferred")
          .withArgs(f.accountAddress, 2, ZeroAddress, f.recipient);
        expect(await f.ownerModule.owner(2, f.accountAddress)).to.equal(ZeroAddress);
        expect(await f.ownerModule.owner(0, f.accountAddress)).to.equal(f.owner.address);
      });

      /** A second owner validation, entity 1, whose owner is the stranger. */
      async function twoOwnersFixture() {
        const f = await sessionFixture(ethers, networkHelpers);
        await (await ownerCall(f, installOwnerValidation(f, 1, 1, f.stranger.address))).wait();
        return f;
      }

      it("T31: uninstalling a second owner validation with data naming the root owner's entity erases nothing of the root owner", async function () {
        const f = await networkHelpers.loadFixture(twoOwnersFixture);
        await (await ownerCall(f, uninstallValidation(f, f.ownerModule.target as string, 1, entityData(0)))).wait();
        expect(await f.ownerModule.owner(0, f.accountAddress)).to.equal(f.owner.address);
        // The validation actually removed is the one cleared.
        expect(await f.ownerModule.owner(1, f.accountAddress)).to.equal(ethers.ZeroAddress);
      });

      it("T31: the root owner still moves funds after an uninstall whose data named its entity", async function () {
        const f = await networkHelpers.loadFixture(twoOwnersFixture);
        await (await ownerCall(f, uninstallValidation(f, f.ownerModule.target as string, 1, entityData(0)))).wait();
        const before = await f.usdc.balanceOf(f.recipient);
        const pay = usdcTransfer(f, f.recipient, USDC("7"));
        await (await ownerCall(f, executeCall(f, f.usdc.target as string, 0n, pay))).wait();
        expect((await f.usdc.balanceOf(f.recipient)) - before).to.equal(USDC("7"));
      });

      it("T31: an owner validation uninstalled with empty data is cleared, and its entity can be installed again", async function () {
        const f = await networkHelpers.loadFixture(twoOwnersFixture);
        await (await ownerCall(f, uninstallValidation(f, f.ownerModule.target as string, 1, "0x"))).wait();
        expect(await f.ownerModule.owner(1, f.accountAddress)).to.equal(ethers.ZeroAddress);
        await (await ownerCall(f, installOwnerValidation(f, 1, 1, f.recipient))).wait();
        expect(await f.ownerModule.owner(1, f.accountAddress)).to.equal(f.recipient);
      });
    });
  });

  describe("transferOwnership", function () {
    it("hands the account to a new owner; the old owner is refused afterwards", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const transfer = f.ownerModule.interface.encodeFunctionData("transferOwnership", [
        OWNER_ENTITY_ID,
        f.stranger.address,
      ]);
      const data = f.account.interface.encodeFunctionData("execute", [f.ownerModule.target as string, 0n, transfer]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.emit(f.ownerModule, "OwnerTransferred")
        .withArgs(await f.account.getAddress(), OWNER_ENTITY_ID, f.stranger.address, f.owner.address);
      expect(await f.ownerModule.owner(OWNER_ENTITY_ID, await f.account.getAddress())).to.equal(f.stranger.address);

      const pay = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      await expect(
        f.account.connect(f.owner).executeWithRuntimeValidation(pay, ownerAuthorization(f)),
      ).to.be.revertedWithCustomError(f.ownerModule, "OwnerValidationUnauthorized");
      await (await f.account.connect(f.stranger).executeWithRuntimeValidation(pay, ownerAuthorization(f))).wait();
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);
    });

    it("reverts with OwnerValidationNotInitialized when an account without an owner calls transferOwnership", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await expect(f.ownerModule.connect(f.stranger).transferOwnership(OWNER_ENTITY_ID, f.stranger.address))
        .to.be.revertedWithCustomError(f.ownerModule, "OwnerValidationNotInitialized")
        .withArgs(f.stranger.address, OWNER_ENTITY_ID);
    });
  });

  describe("validateUserOp", function () {
    it("is refused by the EntryPoint (AA24) when signed by a non-owner, and nothing moves", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const op = await ownerOp(f, callData, f.stranger);
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOp")
        .withArgs(0n, "AA24 signature error");
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("is refused when the owner's signature is replayed with a bumped nonce", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const op = await ownerOp(f, callData);
      await sendOp(ethers, f.entryPoint, op);
      await expect(sendOp(ethers, f.entryPoint, { ...op, nonce: op.nonce + 1n }))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOp")
        .withArgs(0n, "AA24 signature error");
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);
    });

    it("is refused when the owner's signature is malleated to high-s", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const { op, hash } = await buildSignedOp(f.entryPoint, {
        sender: await f.account.getAddress(),
        callData,
        selection: ownerSelection(f),
        signer: f.owner,
      });
      const sig = f.owner.signingKey.sign(hash);
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const highS = ethers.toBeHex(n - BigInt(sig.s), 32);
      const flippedV = sig.v === 27 ? 28 : 27;
      const malleated = concat([sig.r, highS, ethers.toBeHex(flippedV, 1)]);
      op.signature = encodeValidationSignature(ownerSelection(f), malleated);
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOp")
        .withArgs(0n, "AA24 signature error");
    });
  });

  describe("validateRuntime", function () {
    it("reverts with OwnerValidationUnauthorized when a non-owner uses the owner validation", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const data = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      await expect(f.account.connect(f.stranger).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.be.revertedWithCustomError(f.ownerModule, "OwnerValidationUnauthorized")
        .withArgs(await f.account.getAddress(), OWNER_ENTITY_ID, f.stranger.address);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("refuses runtime authorization data the owner validation did not ask for", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const data = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const authorization = encodeValidationSignature(ownerSelection(f), "0x1234");
      await expect(
        f.account.connect(f.owner).executeWithRuntimeValidation(data, authorization),
      ).to.be.revertedWithCustomError(f.ownerModule, "OwnerValidationUnexpectedAuthorization");
    });
  });

  describe("validateSignature", function () {
    const MAGIC = "0x1626ba7e";
    const INVALID = "0xffffffff";

    /** Signs a typed-data message for `account` the ERC-7739 way (nested TypedDataSign) with `signer`. */
    async function nestedTypedDataSignature(f: AccountFixture, signer: HDNodeWallet, accountAddress: string) {
      const { chainId } = await ethers.provider.getNetwork();
      const appDomain = { name: "Some App", version: "1", chainId, verifyingContract: f.recipient };
      const contents = { to: f.recipient, amount: 5n };
      const mailType = {
        Mail: [
          { name: "to", type: "address" },
          { name: "amount", type: "uint256" },
        ],
      };
      const hash = ethers.TypedDataEncoder.hash(appDomain, mailType, contents);
      const nested = {
        TypedDataSign: [
          { name: "contents", type: "Mail" },
          { name: "name", type: "string" },
          { name: "version", type: "string" },
          { name: "chainId", type: "uint256" },
          { name: "verifyingContract", type: "address" },
          { name: "salt", type: "bytes32" },
        ],
        ...mailType,
      };
      const message = {
        contents,
        name: await f.ownerModule.DOMAIN_NAME(),
        version: await f.ownerModule.DOMAIN_VERSION(),
        chainId,
        verifyingContract: accountAddress,
        salt: ethers.ZeroHash,
      };
      const ecdsa = await signer.signTypedData(appDomain, nested, message);
      const appSeparator = ethers.TypedDataEncoder.hashDomain(appDomain);
      const contentsHash = ethers.TypedDataEncoder.from(mailType).hash(contents);
      const contentsDescr = ethers.toUtf8Bytes("Mail(address to,uint256 amount)");
      const encoded = concat([
        ecdsa,
        appSeparator,
        contentsHash,
        contentsDescr,
        ethers.toBeHex(contentsDescr.length, 2),
      ]);
      return {
        hash,
        signature: encodeErc1271Signature({ module: f.ownerModule.target as string, entityId: 0 }, encoded),
      };
    }

    it("accepts the owner's nested (ERC-7739) typed-data signature", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const { hash, signature } = await nestedTypedDataSignature(f, f.owner, await f.account.getAddress());
      expect(await f.account.isValidSignature(hash, signature)).to.equal(MAGIC);
    });

    it("refuses the same nested signature on another account of the same owner", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const second = await createAccount(ethers, f, f.owner.address, 1n);
      const { hash, signature } = await nestedTypedDataSignature(f, f.owner, await f.account.getAddress());
      expect(await second.isValidSignature(hash, signature)).to.equal(INVALID);
    });

    it("refuses a nested signature made by someone else than the owner", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const { hash, signature } = await nestedTypedDataSignature(f, f.stranger, await f.account.getAddress());
      expect(await f.account.isValidSignature(hash, signature)).to.equal(INVALID);
    });

    it("accepts the owner's PersonalSign-wrapped signature of a hash and refuses a raw signature of it", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const { chainId } = await ethers.provider.getNetwork();
      // ERC-7739 PersonalSign: the app asks about hash = keccak256(prefixed), the owner signs PersonalSign(prefixed).
      const prefixed = ethers.concat([
        ethers.toUtf8Bytes("\x19Ethereum Signed Message:\n9"),
        ethers.toUtf8Bytes("a message"),
      ]);
      const hash = ethers.hashMessage("a message");
      expect(ethers.keccak256(prefixed)).to.equal(hash);
      const domain = { name: "Leash Owner", version: "1", chainId, verifyingContract: await f.account.getAddress() };
      const wrapped = await f.owner.signTypedData(
        domain,
        { PersonalSign: [{ name: "prefixed", type: "bytes" }] },
        {
          prefixed,
        },
      );
      const validation = { module: f.ownerModule.target as string, entityId: 0 };
      expect(await f.account.isValidSignature(hash, encodeErc1271Signature(validation, wrapped))).to.equal(MAGIC);
      const raw = f.owner.signingKey.sign(hash).serialized;
      expect(await f.account.isValidSignature(hash, encodeErc1271Signature(validation, raw))).to.equal(INVALID);
    });

    it("answers the ERC-7739 detection request through the owner validation too", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const detection = "0x" + "7739".repeat(16);
      const validation = { module: f.ownerModule.target as string, entityId: 0 };
      expect(await f.account.isValidSignature(detection, encodeErc1271Signature(validation, "0x"))).to.equal(
        "0x77390001",
      );
    });
  });

  describe("moduleId", function () {
    it("reports the module's id", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await f.ownerModule.moduleId()).to.equal("leash.owner-validation.0.1.0");
    });
  });
});
