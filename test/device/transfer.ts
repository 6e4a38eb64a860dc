/**
 * A plain ETH transfer signed by Ledger's real Ethereum app (Speculos) through hardhat-ledger, on the Nano S Plus and
 * the Flex: what the device shows is read back and compared with the transaction, the signature recovers to the
 * account the app derives from Hardhat's mnemonic, and the chain moves only when the owner approves.
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { formatEther, HDNodeWallet, parseEther, parseUnits, Transaction, type TransactionResponse } from "ethers";

import { describeOnDevices, reviewFields, reviewOnDevice, transcript } from "./harness.js";
import { HARDHAT_MNEMONIC } from "./speculos.js";
import { useSpeculosForHardhatLedger, type SpeculosLedgerSeam } from "./speculosTransport.js";

/** The owner: `m/44'/60'/0'/0/0` of Hardhat's mnemonic, the first path hardhat-ledger tries. */
const OWNER_PATH = "m/44'/60'/0'/0/0";
const OWNER = HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, OWNER_PATH).address;
/** A recipient with no balance on the in-process network. */
const RECIPIENT = HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, "m/44'/60'/11'/0/0").address;

/** The transfer, with every field hardhat-ledger needs set, so that the screens are known in advance. */
const TRANSFER = {
  to: RECIPIENT,
  value: parseEther("0.25"),
  gasLimit: 21_000n,
  maxFeePerGas: parseUnits("2", "gwei"),
  maxPriorityFeePerGas: parseUnits("1", "gwei"),
  type: 2,
} as const;

/** Instruction "sign transaction" of the Ethereum app (CLA 0xE0). */
const INS_SIGN_TX = 0x04;

/** The status word of the last "sign transaction" APDU the device answered. */
function lastSignStatus(seam: SpeculosLedgerSeam | undefined): number | undefined {
  return seam?.exchanges.filter((e) => e.cla === 0xe0 && e.ins === INS_SIGN_TX).at(-1)?.status;
}

/** The field labels of a transaction review in app-ethereum 1.22.0. */
const LABELS = ["From", "Amount", "To", "Max fees", "Network"];

/**
 * What the app shows for {@link TRANSFER}. Chain 31337 is unknown to the app, so amounts carry the ticker "???"
 * (network information signed with the test key would name it).
 */
function expectedFields(chainId: bigint): [string, string][] {
  return [
    ["From", OWNER],
    ["Amount", `${formatEther(TRANSFER.value)} ???`],
    ["To", RECIPIENT],
    ["Max fees", `${formatEther(TRANSFER.gasLimit * TRANSFER.maxFeePerGas)} ???`],
    ["Network", chainId.toString()],
  ];
}

describeOnDevices("a plain ETH transfer through hardhat-ledger", (device, model) => {
  const finalScreen = model === "nanosp" ? "Sign transaction" : "Hold to sign";
  let connection: NetworkConnection;
  let seam: SpeculosLedgerSeam | undefined;

  before(async function () {
    seam = useSpeculosForHardhatLedger(device());
    connection = await network.create({ override: { ledgerAccounts: [OWNER] } });
  });

  after(async function () {
    await connection?.close();
    await seam?.restore();
  });

  it("shows sender, amount, recipient, fees and network, and signs from m/44'/60'/0'/0/0 once approved", async function () {
    const { ethers } = connection;
    const { chainId } = await ethers.provider.getNetwork();
    const owner = await ethers.getSigner(OWNER);
    const ownerBefore = await ethers.provider.getBalance(OWNER);

    const { review, result } = await reviewOnDevice(device(), owner.sendTransaction(TRANSFER), {
      until: finalScreen,
      approve: true,
    });

    if (process.env.LEASH_DEVICE_TRANSCRIPTS === "1") console.log(transcript(review.screens));
    const shown = reviewFields(review.screens, LABELS);
    expect(shown.fields, transcript(review.screens)).to.deep.equal(expectedFields(chainId));
    expect(shown.other, transcript(review.screens)).to.deep.equal(
      model === "nanosp" ? ["Review transaction", "Sign transaction"] : ["Review transaction", "Sign transaction?"],
    );
    expect(review.after).to.deep.equal(["Transaction signed"]);
    if ("error" in result) throw result.error;
    expect(lastSignStatus(seam)).to.equal(0x9000);

    const receipt = await (result.value as TransactionResponse).wait();
    expect(receipt?.status).to.equal(1);
    const mined = await ethers.provider.getTransaction(receipt!.hash);
    // Recover the signer from the signature the device produced, independently of the node.
    const signed = Transaction.from({
      type: mined!.type,
      chainId: mined!.chainId,
      nonce: mined!.nonce,
      to: mined!.to,
      value: mined!.value,
      data: mined!.data,
      gasLimit: mined!.gasLimit,
      maxFeePerGas: mined!.maxFeePerGas,
      maxPriorityFeePerGas: mined!.maxPriorityFeePerGas,
      signature: mined!.signature,
    });
    expect([signed.from, signed.to, signed.value, signed.chainId, signed.data]).to.deep.equal([
      OWNER,
      RECIPIENT,
      TRANSFER.value,
      chainId,
      "0x",
    ]);
    expect(await ethers.provider.getBalance(RECIPIENT)).to.equal(TRANSFER.value);
    const fee = receipt!.gasUsed * receipt!.gasPrice;
    expect(await ethers.provider.getBalance(OWNER)).to.equal(ownerBefore - TRANSFER.value - fee);
  });

  it("reports a rejection on the device to the caller and changes nothing on chain", async function () {
    const { ethers } = connection;
    const owner = await ethers.getSigner(OWNER);
    const state = async () => ({
      block: await ethers.provider.getBlockNumber(),
      nonce: await ethers.provider.getTransactionCount(OWNER),
      owner: await ethers.provider.getBalance(OWNER),
      recipient: await ethers.provider.getBalance(RECIPIENT),
    });
    const before = await state();

    const { review, result } = await reviewOnDevice(device(), owner.sendTransaction(TRANSFER), {
      until: finalScreen,
      approve: false,
    });

    expect(review.after).to.deep.equal(["Transaction rejected"]);
    expect("error" in result, "the signer returned a transaction the owner rejected").to.equal(true);
    const error = (result as { error: Error }).error;
    expect(error.message).to.match(/denied by the user/);
    expect(lastSignStatus(seam)).to.equal(0x6985);
    expect(await state()).to.deep.equal(before);
  });
});
