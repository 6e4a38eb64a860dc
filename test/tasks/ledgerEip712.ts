/**
 * packages/hardhat/src/ledger/ledgerEip712.ts before the device: a message the stream could not finish (a token slot the display rules
 * have no signature for, an amount with no token before it, token information missing) is refused before the first
 * APDU, so the device never shows part of a message.
 */
import { expect } from "chai";

import {
  MissingSlotFilterError,
  signEip712WithTokenAmounts,
  TokenInformationMissingError,
  type ApduTransport,
  type Eip712Request,
  type ServedFilters,
} from "../../packages/hardhat/src/ledger/ledgerEip712.js";

const USDC = "0x0165878A594ca255338adfa4d48449f69242Eb8F";
const ETH = "0x0000000000000000000000000000000000000000";

const request: Eip712Request = {
  domain: { name: "T", chainId: 1, verifyingContract: "0x1111111111111111111111111111111111111111" },
  types: {
    EIP712Domain: [
      { name: "name", type: "string" },
      { name: "chainId", type: "uint256" },
      { name: "verifyingContract", type: "address" },
    ],
    Amount: [
      { name: "token", type: "address" },
      { name: "amount", type: "uint256" },
    ],
    Grant: [{ name: "budgets", type: "Amount[]" }],
  },
  primaryType: "Grant",
  message: {
    budgets: [
      { token: USDC, amount: "1" },
      { token: ETH, amount: "2" },
    ],
  },
};

function filters(slots: number[]): ServedFilters {
  return {
    contractName: { label: "T", signature: "00" },
    fields: slots.flatMap((slot) => [
      { path: "budgets.[].token", label: "", format: "token" as const, coin_ref: slot, signature: "00" },
      { path: "budgets.[].amount", label: "Budget", format: "amount" as const, coin_ref: slot, signature: "00" },
    ]),
  };
}

function recorder(): ApduTransport & { sent: number } {
  return {
    sent: 0,
    async send() {
      this.sent++;
      return Buffer.from([0]);
    },
  };
}

const info = async () => ({ ticker: "X", decimals: 0, data: Buffer.alloc(0) });

describe("ledger/ledgerEip712 refuses before the first APDU", function () {
  it("refuses display rules with no signature for a token slot the message needs, and sends nothing", async function () {
    const transport = recorder();
    const refused = await signEip712WithTokenAmounts(transport, "44'/60'/0'/0/0", request, filters([0]), info).catch(
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(MissingSlotFilterError);
    expect(transport.sent).to.equal(0);
  });

  it("refuses an amount with no token field before it in its struct, and sends nothing", async function () {
    const transport = recorder();
    const swapped = {
      ...request,
      types: { ...request.types, Amount: [request.types.Amount![1]!, request.types.Amount![0]!] },
    };
    const refused = await signEip712WithTokenAmounts(transport, "44'/60'/0'/0/0", swapped, filters([0, 1]), info).catch(
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(MissingSlotFilterError);
    expect(transport.sent).to.equal(0);
  });

  it("refuses a token the crypto-assets service has no information for, naming it, and sends nothing", async function () {
    const transport = recorder();
    const refused = await signEip712WithTokenAmounts(
      transport,
      "44'/60'/0'/0/0",
      request,
      filters([0, 1]),
      async (token) => (token.toLowerCase() === ETH ? undefined : info()),
    ).catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(TokenInformationMissingError);
    expect((refused as TokenInformationMissingError).tokens).to.deep.equal([ETH]);
    expect(transport.sent).to.equal(0);
  });
});
