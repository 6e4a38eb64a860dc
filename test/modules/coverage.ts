/**
 * Paths of the modules the rest of the suite did not take, found by the coverage gate (docs/COVERAGE.md): the session
 * module's refusal of owner signatures on accounts without the ERC-6900 view.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat } from "ethers";

import { encodeModuleEntity } from "../../client/encoding.js";
import { sessionFixture } from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();

async function fixture() {
  return sessionFixture(ethers, networkHelpers);
}

describe("SessionKeyValidationModule (coverage)", function () {
  describe("revokeAllWithSignature", function () {
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
