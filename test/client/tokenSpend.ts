/**
 * client/tokenSpend.ts read alone (the session handle's tests compare it with the chain): the branches no handle
 * test reaches, each as the spend-limit hook's `_tokenSpend` / `_permit2Approval` reads it.
 */
import { expect } from "chai";
import { getAddress, Interface, Wallet } from "ethers";

import { tokenSpendOf } from "../../client/tokenSpend.js";

const ACCOUNT = getAddress("0x00000000000000000000000000000000000000A1");
const USDC = getAddress("0x00000000000000000000000000000000000000C0");
const permit2 = new Interface(["function approve(address token, address spender, uint160 amount, uint48 expiration)"]);
const erc20 = new Interface(["function transfer(address to, uint256 amount)"]);
const budgeted = new Set([USDC]);

describe("tokenSpendOf: a call read as the spend-limit hook reads it", function () {
  it("charges a Permit2 approve of a budgeted token whatever its target, a pseudo-asset's address included", function () {
    const data = permit2.encodeFunctionData("approve", [USDC, Wallet.createRandom().address, 10n ** 12n, 1n]);
    const target = "0x0000000000000000000000000000000000000002";
    expect(tokenSpendOf(ACCOUNT, { target, data }, budgeted)).to.deep.equal({
      kind: "spend",
      token: USDC,
      amount: 10n ** 12n,
      function: "Permit2 approve",
    });
  });

  it("reads no ERC-20 spend at a pseudo-asset's address: those hold no tokens", function () {
    const data = erc20.encodeFunctionData("transfer", [ACCOUNT, 5n]);
    const target = "0x0000000000000000000000000000000000000001";
    expect(tokenSpendOf(ACCOUNT, { target, data }, budgeted)).to.deep.equal({ kind: "none" });
  });

  it("refuses 1 to 3 bytes of calldata on a budgeted token, and lets them through elsewhere", function () {
    expect(tokenSpendOf(ACCOUNT, { target: USDC, data: "0xa9059c" }, budgeted).kind).to.equal("refused");
    expect(tokenSpendOf(ACCOUNT, { target: ACCOUNT, data: "0xa9059c" }, budgeted).kind).to.equal("none");
  });

  it("reads nothing from empty calldata, even on a budgeted token: what leaves is measured after", function () {
    expect(tokenSpendOf(ACCOUNT, { target: USDC, data: "0x" }, budgeted)).to.deep.equal({ kind: "none" });
  });
});
