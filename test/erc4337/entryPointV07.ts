/**
 * EntryPoint v0.7 (issue #14 item 2): Alchemy MAv2 accounts in the field run behind it. The tests deploy the
 * release's own creation bytecode (npm's @account-abstraction/contracts 0.7.0, aliased as
 * @account-abstraction/contracts-v07); test/compat runs every account behind it. Here: that it is the release, that
 * the client signs the hash v0.7 computes, and that a session op goes through it with its value and gas charged.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, getCreate2Address, keccak256, parseEther } from "ethers";
import { createRequire } from "node:module";

import { NATIVE_ASSET } from "../../client/session.js";
import { packUserOp } from "../../client/userOp.js";
import { executeCall, grantByTransaction, sessionFixture, sessionOp, typicalSession } from "../helpers/sessions.js";
import { opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();
const require = createRequire(import.meta.url);
const CANONICAL_V07 = "0x0000000071727De22E5E9d8BAf0edAc6f37da032";
/** The deterministic deployment proxy and the salt the v0.7 release was deployed with. */
const DETERMINISTIC_DEPLOYER = "0x4e59b44847b379578588920cA78FbF26c0B4956C";
const V07_SALT = "0x90d8084deab30c2a37c45e8d47f49f2f7965183cb6990a98943ef94940681de3";

const fixture = () => sessionFixture(ethers, networkHelpers, "0.7");

describe("EntryPoint v0.7", function () {
  it("is the release's bytecode: its creation code gives the canonical address under the deterministic deployer", function () {
    const artifact = require("@account-abstraction/contracts-v07/artifacts/EntryPoint.json") as { bytecode: string };
    expect(getCreate2Address(DETERMINISTIC_DEPLOYER, V07_SALT, keccak256(artifact.bytecode))).to.equal(CANONICAL_V07);
  });

  it("hashes a user op as v0.7 does (the packed op's hash, the EntryPoint, the chain), which the agent signs", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    const { op, hash } = await sessionOp(f, executeCall(f, f.recipient, parseEther("0.01")));
    const p = packUserOp(op);
    const packed = AbiCoder.defaultAbiCoder().encode(
      ["address", "uint256", "bytes32", "bytes32", "bytes32", "uint256", "bytes32", "bytes32"],
      [
        p.sender,
        p.nonce,
        keccak256(p.initCode),
        keccak256(p.callData),
        p.accountGasLimits,
        p.preVerificationGas,
        p.gasFees,
        keccak256(p.paymasterAndData),
      ],
    );
    const expected = keccak256(
      AbiCoder.defaultAbiCoder().encode(
        ["bytes32", "address", "uint256"],
        [keccak256(packed), f.entryPoint.target, f.addresses.chainId],
      ),
    );
    expect(hash).to.equal(expected);
  });

  it("runs a session op behind it, charging the value and the op's gas to the native budget", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    const [before] = await f.spendLimitHook.remainingBudget(f.accountAddress, 1, NATIVE_ASSET);
    const { op } = await sessionOp(f, executeCall(f, f.recipient, parseEther("0.01")));
    const receipt = await sendOp(ethers, f.entryPoint, op);
    expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
    expect(await ethers.provider.getBalance(f.recipient)).to.equal(parseEther("0.01"));
    const [after] = await f.spendLimitHook.remainingBudget(f.accountAddress, 1, NATIVE_ASSET);
    const maxGasCost = (op.verificationGasLimit + op.callGasLimit + op.preVerificationGas) * op.maxFeePerGas;
    expect(before - after).to.equal(parseEther("0.01") + maxGasCost);
  });
});
