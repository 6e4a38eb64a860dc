/**
 * The modular account's ERC-1271 and ERC-5267, through the real EntryPoint v0.8: the validation a signature names
 * must be installed for signatures, the ERC-7739 detection request, malformed signatures, and the account-bound domain
 * the owner's nested signatures use. The owner module's own signature checks are in
 * test/modules/OwnerValidationModule.ts.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, ZeroHash } from "ethers";

import { encodeErc1271Signature, encodeModuleEntity } from "../../client/encoding.js";
import { modularAccountFixture } from "../helpers/account.js";

const { ethers, networkHelpers } = await network.create();

async function accountFixture() {
  return modularAccountFixture(ethers);
}

describe("ModularAccount", function () {
  describe("ERC-1271", function () {
    const MAGIC = "0x1626ba7e";

    it("reverts with AccountSignatureValidationNotAllowed for a validation not installed for signatures", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const validation = { module: f.ownerModule.target as string, entityId: 77 };
      await expect(f.account.isValidSignature(ethers.ZeroHash, encodeErc1271Signature(validation, "0x")))
        .to.be.revertedWithCustomError(f.account, "AccountSignatureValidationNotAllowed")
        .withArgs(encodeModuleEntity(validation));
    });

    it("answers the ERC-7739 detection request with an empty signature, which selects no validation", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      // ERC-7739 "Support detection": isValidSignature(0x7739…7739, "") returns bytes4(0x7739000X), X the version.
      expect(await f.account.isValidSignature("0x" + "7739".repeat(16), "0x")).to.equal("0x77390001");
    });

    it("reverts with AccountValidationSelectionMalformed for any other hash with an empty signature", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await expect(f.account.isValidSignature(ethers.id("not the detection hash"), "0x")).to.be.revertedWithCustomError(
        f.account,
        "AccountValidationSelectionMalformed",
      );
    });

    it("reports as its ERC-5267 domain the owner module's account-bound domain", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const accountAddress = await f.account.getAddress();
      const { chainId } = await ethers.provider.getNetwork();
      const domain = await f.account.eip712Domain();
      // ERC-5267: fields 0x0f = name, version, chainId and verifyingContract; no salt, no extensions.
      expect([...domain.slice(0, 6), [...domain[6]]]).to.deep.equal([
        "0x0f",
        await f.ownerModule.DOMAIN_NAME(),
        await f.ownerModule.DOMAIN_VERSION(),
        chainId,
        accountAddress,
        ethers.ZeroHash,
        [],
      ]);
      const separator = ethers.TypedDataEncoder.hashDomain({
        name: domain.name,
        version: domain.version,
        chainId: domain.chainId,
        verifyingContract: domain.verifyingContract,
      });
      expect(separator).to.equal(await f.ownerModule.domainSeparator(accountAddress));
    });

    it("accepts the owner's nested (ERC-7739) signature built only from what eip712Domain() returns", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const { chainId } = await ethers.provider.getNetwork();
      // What a standard app does: read the account's domain (ERC-5267), then nest its typed data (ERC-7739).
      const domain = await f.account.eip712Domain();
      const appDomain = { name: "Some App", version: "2", chainId, verifyingContract: f.recipient };
      const types = { Order: [{ name: "amount", type: "uint256" }] };
      const contents = { amount: 7n };
      const nested = {
        TypedDataSign: [
          { name: "contents", type: "Order" },
          { name: "name", type: "string" },
          { name: "version", type: "string" },
          { name: "chainId", type: "uint256" },
          { name: "verifyingContract", type: "address" },
          { name: "salt", type: "bytes32" },
        ],
        ...types,
      };
      const message = {
        contents,
        name: domain.name,
        version: domain.version,
        chainId: domain.chainId,
        verifyingContract: domain.verifyingContract,
        salt: domain.salt,
      };
      const ecdsa = await f.owner.signTypedData(appDomain, nested, message);
      const descr = ethers.toUtf8Bytes("Order(uint256 amount)");
      const encoded = concat([
        ecdsa,
        ethers.TypedDataEncoder.hashDomain(appDomain),
        ethers.TypedDataEncoder.from(types).hash(contents),
        descr,
        ethers.toBeHex(descr.length, 2),
      ]);
      const hash = ethers.TypedDataEncoder.hash(appDomain, types, contents);
      const validation = { module: f.ownerModule.target as string, entityId: 0 };
      expect(await f.account.isValidSignature(hash, encodeErc1271Signature(validation, encoded))).to.equal(MAGIC);
      // The ERC-7739 PersonalSign wrapper in the same domain (fields 0x0f: no salt in EIP712Domain).
      const personal = {
        name: domain.name,
        version: domain.version,
        chainId,
        verifyingContract: domain.verifyingContract,
      };
      const prefixed = ethers.concat([
        ethers.toUtf8Bytes("\x19Ethereum Signed Message:\n5"),
        ethers.toUtf8Bytes("hello"),
      ]);
      const wrapped = await f.owner.signTypedData(
        personal,
        { PersonalSign: [{ name: "prefixed", type: "bytes" }] },
        { prefixed },
      );
      expect(
        await f.account.isValidSignature(ethers.hashMessage("hello"), encodeErc1271Signature(validation, wrapped)),
      ).to.equal(MAGIC);
    });

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
});
