/**
 * The emulated Ledger behind @nomicfoundation/hardhat-ledger: the plugin and @ledgerhq/hw-app-eth run for real,
 * the device answers from a known key, and what the device received decodes to what was asked.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { parseEther, TypedDataEncoder, verifyMessage, verifyTypedData } from "ethers";

import { sessionGrantTypedData, nestOwnerTypedData } from "../../client/session.js";
import { EmulatedLedger } from "../helpers/emulatedLedger.js";
import { OWNER_PATH, TEST_MNEMONIC, testWallet } from "../helpers/fixture.js";
import { sessionFixture, typicalSession } from "../helpers/sessions.js";

const ledger = new EmulatedLedger(TEST_MNEMONIC);
const owner = ledger.wallet(OWNER_PATH);

const { ethers, networkHelpers } = await network.create({ override: { ledgerAccounts: [owner.address] } });

describe("emulated Ledger through hardhat-ledger", function () {
  before(function () {
    ledger.install();
  });

  after(function () {
    ledger.uninstall();
  });

  it("signs and sends a transaction the device decodes to the same recipient, value and chain", async function () {
    const [funder] = await ethers.getSigners();
    await (await funder!.sendTransaction({ to: owner.address, value: parseEther("1") })).wait();
    const recipient = testWallet(ethers, "m/44'/60'/11'/0/0").address;
    const before = ledger.requests.length;
    const hash = (await ethers.provider.send("eth_sendTransaction", [
      {
        from: owner.address,
        to: recipient,
        value: "0x" + parseEther("0.25").toString(16),
        gas: "0x5208",
        maxFeePerGas: "0x77359400",
        maxPriorityFeePerGas: "0x3b9aca00",
      },
    ])) as string;
    const receipt = await ethers.provider.getTransactionReceipt(hash);
    expect(receipt?.status).to.equal(1);
    expect(await ethers.provider.getBalance(recipient)).to.equal(parseEther("0.25"));
    const request = ledger.requests[before];
    expect(request?.kind).to.equal("transaction");
    if (request?.kind !== "transaction") throw new Error("no transaction reached the device");
    const { chainId } = await ethers.provider.getNetwork();
    expect([
      request.path,
      request.transaction.to,
      request.transaction.value,
      request.transaction.chainId,
    ]).to.deep.equal([OWNER_PATH, recipient, parseEther("0.25"), chainId]);
  });

  it("signs a nested SessionGrant whose hashes on the device are the typed data's", async function () {
    const f = await sessionFixture(ethers, networkHelpers);
    const session = typicalSession(f);
    const app = sessionGrantTypedData(session, f.addresses);
    const nested = nestOwnerTypedData(app, app.message, session.account, f.addresses.chainId);
    const typedData = {
      domain: nested.domain,
      types: {
        EIP712Domain: [
          { name: "name", type: "string" },
          { name: "version", type: "string" },
          { name: "chainId", type: "uint256" },
          { name: "verifyingContract", type: "address" },
        ],
        ...nested.types,
      },
      primaryType: nested.primaryType,
      message: nested.message,
    };
    const before = ledger.requests.length;
    const signature = (await ethers.provider.send("eth_signTypedData_v4", [
      owner.address,
      JSON.stringify(typedData, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)),
    ])) as string;
    expect(verifyTypedData(nested.domain, nested.types, nested.message, signature)).to.equal(owner.address);
    // Full EIP-712 mode, as the real app takes it: the device rebuilds the typed data from the stream.
    const request = ledger.requests[before];
    if (request?.kind !== "eip712") throw new Error("no full-mode EIP-712 request reached the device");
    expect(TypedDataEncoder.hash(request.domain, request.types, request.message)).to.equal(
      TypedDataEncoder.hash(nested.domain, nested.types, nested.message),
    );
    expect(request.primaryType).to.equal("TypedDataSign");
  });

  it("signs a personal message the device decodes to the same text", async function () {
    const before = ledger.requests.length;
    const text = "Leash: revoke every session of my account";
    const hex = "0x" + Buffer.from(text, "utf8").toString("hex");
    const signature = (await ethers.provider.send("personal_sign", [hex, owner.address])) as string;
    expect(verifyMessage(text, signature)).to.equal(owner.address);
    expect(ledger.requests[before]).to.deep.equal({ kind: "personal-message", path: OWNER_PATH, message: text });
  });
});
