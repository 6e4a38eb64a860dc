/**
 * What a session may sign and call beyond a plain scope: ERC-1271 signatures only for the EIP-712 domains the owner
 * listed (THREATS 25: no Permit2 transfer, ERC-2612 permit or off-chain order outside them), and no standard
 * value-moving function under a wildcard (THREATS 26: ERC-1363, ERC-777, ERC-721 / ERC-1155 transfers and
 * approvals, Permit2 approve), through the account and the real EntryPoint v0.8.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, id, TypedDataEncoder } from "ethers";

import { encodeErc1271Signature } from "../../client/encoding.js";
import { encodeSessionTypedDataSignature, SELECTOR_ANY } from "../../client/session.js";
import {
  appOrder,
  executeCall,
  grantByTransaction,
  ownerCall,
  SESSION_ID,
  sessionFixture,
  sessionOp,
  signAsSession,
  signingSession,
  typicalSession,
  type AppTypedData,
  type SessionFixture,
} from "../helpers/sessions.js";
import { opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

const PERMIT2 = "0x000000000022D473030F116dDEE9F6B43aC78BA3";
const MAGIC = "0x1626ba7e";
const INVALID = "0xffffffff";

/** A Permit2 PermitTransferFrom of the account's tokens to a spender the agent picks. */
function permit2Transfer(chainId: bigint, token: string, spender: string): AppTypedData {
  return {
    domain: { name: "Permit2", chainId, verifyingContract: PERMIT2 },
    types: {
      PermitTransferFrom: [
        { name: "permitted", type: "TokenPermissions" },
        { name: "spender", type: "address" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
      TokenPermissions: [
        { name: "token", type: "address" },
        { name: "amount", type: "uint256" },
      ],
    },
    primaryType: "PermitTransferFrom",
    message: { permitted: { token, amount: 10n ** 30n }, spender, nonce: 0n, deadline: 2n ** 48n },
  };
}

/** An ERC-2612 permit of `token` (its domain's verifyingContract is the token). */
async function erc2612Permit(f: SessionFixture, spender: string): Promise<AppTypedData> {
  return {
    domain: {
      name: await f.usdc.name(),
      version: "1",
      chainId: f.addresses.chainId,
      verifyingContract: f.usdc.target as string,
    },
    types: {
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    primaryType: "Permit",
    message: { owner: f.accountAddress, spender, value: 10n ** 30n, nonce: 0n, deadline: 2n ** 48n },
  };
}

/** The head of the session module's signature: the domain-field bits, then the domain, struct hash and signature. */
const SIGNATURE_TYPES = ["uint8", "bytes32", "bytes32", "uint256", "address", "bytes32", "bytes32", "bytes"];

/**
 * The agent's session signature of `typed`, as signAsSession makes it, but with the domain-field bits set to
 * `fields` (the rest of the encoding, and the agent's signature of the true digest, unchanged).
 */
async function signWithFields(f: SessionFixture, typed: AppTypedData, fields: number) {
  const hash = TypedDataEncoder.hash(typed.domain, typed.types, typed.message);
  const digest = await f.sessionModule.sessionMessageHash(f.accountAddress, SESSION_ID, hash);
  const encoded = encodeSessionTypedDataSignature(typed, typed.message, f.agent.signingKey.sign(digest).serialized);
  const decoded = [...AbiCoder.defaultAbiCoder().decode(SIGNATURE_TYPES, encoded)];
  decoded[0] = fields;
  const validationData = AbiCoder.defaultAbiCoder().encode(SIGNATURE_TYPES, decoded);
  return {
    hash,
    signature: encodeErc1271Signature(
      { module: f.sessionModule.target as string, entityId: SESSION_ID },
      validationData,
    ),
  };
}

describe("SessionKeyValidationModule signing scope (THREATS 25)", function () {
  /** A session that may sign only for an order book (the stranger's address stands in for its contract). */
  async function orderBookFixture() {
    const f = await sessionFixture(ethers, networkHelpers);
    await (await grantByTransaction(f, signingSession(f, f.stranger.address))).wait();
    return f;
  }

  it("T25: signs typed data of a domain the owner listed", async function () {
    const f = await networkHelpers.loadFixture(orderBookFixture);
    const { hash, signature } = await signAsSession(f, appOrder(f.stranger.address, f.addresses.chainId));
    expect(await f.account.isValidSignature(hash, signature)).to.equal(MAGIC);
  });

  it("T25: refuses a Permit2 transfer permit, since Permit2 was not listed", async function () {
    const f = await networkHelpers.loadFixture(orderBookFixture);
    const permit = permit2Transfer(f.addresses.chainId, f.usdc.target as string, f.agent.address);
    const { hash, signature } = await signAsSession(f, permit);
    expect(await f.account.isValidSignature(hash, signature)).to.equal(INVALID);
  });

  it("T25: refuses an ERC-2612 permit of a token not listed for signing", async function () {
    const f = await networkHelpers.loadFixture(orderBookFixture);
    const { hash, signature } = await signAsSession(f, await erc2612Permit(f, f.agent.address));
    expect(await f.account.isValidSignature(hash, signature)).to.equal(INVALID);
  });

  it("T25: refuses an off-chain order of another venue than the one listed", async function () {
    const f = await networkHelpers.loadFixture(orderBookFixture);
    const { hash, signature } = await signAsSession(f, appOrder(f.recipient, f.addresses.chainId));
    expect(await f.account.isValidSignature(hash, signature)).to.equal(INVALID);
  });

  it("T25: refuses a signature that claims a listed domain for a digest of another one", async function () {
    const f = await networkHelpers.loadFixture(orderBookFixture);
    // The agent signs the Permit2 digest but describes it as the order book's typed data.
    const permit = permit2Transfer(f.addresses.chainId, f.usdc.target as string, f.agent.address);
    const permitHash = ethers.TypedDataEncoder.hash(permit.domain, permit.types, permit.message);
    const { signature } = await signAsSession(f, appOrder(f.stranger.address, f.addresses.chainId));
    expect(await f.account.isValidSignature(permitHash, signature)).to.equal(INVALID);
  });

  it("T25: signs a Permit2 permit only once the owner listed Permit2 explicitly", async function () {
    const f = await sessionFixture(ethers, networkHelpers);
    await (await grantByTransaction(f, signingSession(f, PERMIT2))).wait();
    const permit = permit2Transfer(f.addresses.chainId, f.usdc.target as string, f.agent.address);
    const { hash, signature } = await signAsSession(f, permit);
    expect(await f.account.isValidSignature(hash, signature)).to.equal(MAGIC);
  });

  it("T25: signs typed data whose domain names only its verifyingContract", async function () {
    const f = await networkHelpers.loadFixture(orderBookFixture);
    const order = appOrder(f.stranger.address, f.addresses.chainId);
    order.domain = { verifyingContract: f.stranger.address };
    const { hash, signature } = await signAsSession(f, order);
    expect(await f.account.isValidSignature(hash, signature)).to.equal(MAGIC);
  });

  it("T25: signs typed data whose domain has a salt, only for the digest that includes the salt", async function () {
    const f = await networkHelpers.loadFixture(orderBookFixture);
    const unsalted = appOrder(f.stranger.address, f.addresses.chainId);
    const salted = { ...unsalted, domain: { ...unsalted.domain, salt: id("order book salt") } };
    const { hash, signature } = await signAsSession(f, salted);
    expect(await f.account.isValidSignature(hash, signature)).to.equal(MAGIC);
    const unsaltedHash = TypedDataEncoder.hash(unsalted.domain, unsalted.types, unsalted.message);
    expect(await f.account.isValidSignature(unsaltedHash, signature)).to.equal(INVALID);
  });

  it("T25: refuses a signature whose fields omit the verifyingContract bit, though its domain would verify", async function () {
    const f = await networkHelpers.loadFixture(orderBookFixture);
    const order = appOrder(f.stranger.address, f.addresses.chainId);
    // name, version, chainId and verifyingContract: bits 0 to 3.
    const intact = await signWithFields(f, order, 0x0f);
    expect(await f.account.isValidSignature(intact.hash, intact.signature)).to.equal(MAGIC);
    const { hash, signature } = await signWithFields(f, order, 0x07);
    expect(await f.account.isValidSignature(hash, signature)).to.equal(INVALID);
  });

  it("T25: refuses a signature whose fields set a bit beyond the five EIP-712 domain fields", async function () {
    const f = await networkHelpers.loadFixture(orderBookFixture);
    const { hash, signature } = await signWithFields(f, appOrder(f.stranger.address, f.addresses.chainId), 0x2f);
    expect(await f.account.isValidSignature(hash, signature)).to.equal(INVALID);
  });

  it("T25: refuses to sign for a listed domain whose contract became a module since, and the owner installed it", async function () {
    const f = await sessionFixture(ethers, networkHelpers);
    const greeter = await ethers.deployContract("LateModule");
    await (await grantByTransaction(f, signingSession(f, greeter.target as string))).wait();
    const { hash, signature } = await signAsSession(f, appOrder(greeter.target as string, f.addresses.chainId));
    expect(await f.account.isValidSignature(hash, signature)).to.equal(MAGIC);
    await (await greeter.becomeModule()).wait();
    const manifest = await greeter.executionManifest();
    await (
      await ownerCall(
        f,
        f.account.interface.encodeFunctionData("installExecution", [greeter.target as string, manifest, "0x"]),
      )
    ).wait();
    expect(await f.account.isValidSignature(hash, signature)).to.equal(INVALID);
  });

  describe("a malformed session signature is answered as invalid, not with a revert", function () {
    /** The module's own segment of a valid signature, as ABI words (the agent's signature follows the 9th). */
    async function validWords(f: SessionFixture) {
      const typed = appOrder(f.stranger.address, f.addresses.chainId);
      const hash = TypedDataEncoder.hash(typed.domain, typed.types, typed.message);
      const digest = await f.sessionModule.sessionMessageHash(f.accountAddress, SESSION_ID, hash);
      const encoded = encodeSessionTypedDataSignature(typed, typed.message, f.agent.signingKey.sign(digest).serialized);
      const words = (encoded.slice(2).match(/.{64}/g) ?? []).map((word) => BigInt("0x" + word));
      return { hash, words };
    }
    const asBytes = (words: bigint[]) => "0x" + words.map((word) => word.toString(16).padStart(64, "0")).join("");
    const validate = (f: SessionFixture, hash: string, data: string) =>
      f.sessionModule.validateSignature(f.accountAddress, SESSION_ID, f.accountAddress, hash, data);

    it("answers a well-formed signature of a listed domain with the magic value", async function () {
      const f = await networkHelpers.loadFixture(orderBookFixture);
      const { hash, words } = await validWords(f);
      expect(await validate(f, hash, asBytes(words))).to.equal(MAGIC);
    });

    const mutations: { title: string; mutate: (words: bigint[]) => void }[] = [
      { title: "a domain-fields word over 255", mutate: (words) => (words[0] = words[0]! | (1n << 8n)) },
      { title: "a verifyingContract with dirty high bits", mutate: (words) => (words[4] = words[4]! | (1n << 200n)) },
      { title: "an agent-signature offset other than 256", mutate: (words) => (words[7] = 288n) },
      { title: "an agent-signature length beyond the data", mutate: (words) => (words[8] = 2n ** 64n) },
      { title: "data cut short of the agent signature's length word", mutate: (words) => words.splice(8) },
    ];
    for (const { title, mutate } of mutations) {
      it(`answers ${title} with 0xffffffff`, async function () {
        const f = await networkHelpers.loadFixture(orderBookFixture);
        const { hash, words } = await validWords(f);
        mutate(words);
        expect(await validate(f, hash, asBytes(words))).to.equal(INVALID);
      });
    }
  });

  it("T25: refuses to sign a plain hash (no EIP-712 domain to check)", async function () {
    const f = await networkHelpers.loadFixture(orderBookFixture);
    const hash = id("a personal_sign message");
    const digest = await f.sessionModule.sessionMessageHash(f.accountAddress, SESSION_ID, hash);
    const { encodeErc1271Signature } = await import("../../client/encoding.js");
    const signature = encodeErc1271Signature(
      { module: f.sessionModule.target as string, entityId: SESSION_ID },
      f.agent.signingKey.sign(digest).serialized,
    );
    expect(await f.account.isValidSignature(hash, signature)).to.equal(INVALID);
  });
});

describe("SessionKeyValidationModule wildcard scope (THREATS 26)", function () {
  /** A session with a wildcard on a contract that has no budget (an NFT / ERC-1363 / Permit2 stand-in). */
  async function wildcardFixture() {
    const f = await sessionFixture(ethers, networkHelpers);
    const target = await ethers.deployContract("ReentrantTarget");
    await (
      await grantByTransaction(
        f,
        typicalSession(f, { scope: [{ target: target.target as string, selector: SELECTOR_ANY }] }),
      )
    ).wait();
    return { ...f, target: target.target as string };
  }

  const refused = [
    "transferAndCall(address,uint256,bytes)",
    "transferAndCall(address,uint256)",
    "transferFromAndCall(address,address,uint256)",
    "approveAndCall(address,uint256,bytes)",
    "send(address,uint256,bytes)",
    "operatorSend(address,address,uint256,bytes,bytes)",
    "authorizeOperator(address)",
    "safeTransferFrom(address,address,uint256)",
    "safeTransferFrom(address,address,uint256,bytes)",
    "safeTransferFrom(address,address,uint256,uint256,bytes)",
    "safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)",
    "setApprovalForAll(address,bool)",
    "approve(address,address,uint160,uint48)",
    "transferFrom(address,address,uint160,address)",
    "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
    "increaseApproval(address,uint256)",
    "transfer(address,uint256,bytes)",
    "push(address,uint256)",
    "pull(address,uint256)",
    "move(address,address,uint256)",
    "permit(address,address,uint256,uint256,bool,uint8,bytes32,bytes32)",
    "transfer(address,uint256,uint256)",
    "transferFrom(address,address,uint256,uint256)",
    "approve(address,uint256,uint256)",
    "setOperator(address,bool)",
    "approveDelegation(address,uint256)",
    "allow(address,bool)",
    "setAuthorization(address,bool)",
    "multicall(bytes[])",
    "multicall(uint256,bytes[])",
    "multicall(bytes32,bytes[])",
    "batch(bytes[],bool)",
    "setRelayerApproval(address,address,bool)",
    "hope(address)",
    "setAccountOperator(address,address,bool)",
    "setOperator(bytes19,address,uint256)",
  ];
  for (const signature of refused) {
    it(`T26: refuses ${signature} under a wildcard on a contract without a budget`, async function () {
      const f = await networkHelpers.loadFixture(wildcardFixture);
      const selector = id(signature).slice(0, 10);
      const { op } = await sessionOp(f, executeCall(f, f.target, 0n, selector + "00".repeat(64)));
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.sessionModule.interface.encodeErrorResult("SessionCallOutOfScope", [f.target, selector]),
        );
    });
  }

  it("T26: still lets a wildcard reach the contract's other functions", async function () {
    const f = await networkHelpers.loadFixture(wildcardFixture);
    expect(await f.sessionModule.isValueMovingSelector(id("claim()").slice(0, 10))).to.equal(false);
    const { op } = await sessionOp(f, executeCall(f, f.target, 0n, id("claim()").slice(0, 10)));
    // The target's fallback runs (it calls the account's receive, which succeeds).
    expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
  });

  it("T26: allows a value-moving function the owner named explicitly", async function () {
    const f = await sessionFixture(ethers, networkHelpers);
    const target = await ethers.deployContract("ReentrantTarget");
    const selector = id("safeTransferFrom(address,address,uint256)").slice(0, 10);
    await (
      await grantByTransaction(f, typicalSession(f, { scope: [{ target: target.target as string, selector }] }))
    ).wait();
    expect(await f.sessionModule.isInScope(f.accountAddress, SESSION_ID, target.target as string, selector)).to.equal(
      true,
    );
    const { op } = await sessionOp(f, executeCall(f, target.target as string, 0n, selector + "00".repeat(96)));
    expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
  });
});
