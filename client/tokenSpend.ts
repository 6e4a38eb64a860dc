/**
 * What one call takes of a token budget, read from its calldata the way the spend-limit hook's validation reads it
 * (SpendLimitHook `_tokenSpend`, `_erc20Amount` and `_permit2Approval`), so that a pre-check (`check(calls)` of the
 * session handle) refuses what the chain would refuse and charges what the chain would charge.
 */
import { dataLength, dataSlice, getAddress, id } from "ethers";

import { isPseudoAsset } from "./session.js";

/** A call as the hook sees it. */
export interface TokenCall {
  target: string;
  data: string;
}

/** How the hook classifies a call: a spend of the account's tokens, a call it refuses, or neither. */
export type TokenSpend =
  | { kind: "spend"; token: string; amount: bigint; function: string }
  | { kind: "refused"; token: string; selector: string; reason: string }
  | { kind: "none" };

const selectorOf = (signature: string) => id(signature).slice(0, 10);

/** The ERC-20 functions the hook charges, by selector. */
export const TOKEN_SPEND_FUNCTIONS = {
  [selectorOf("transfer(address,uint256)")]: "transfer",
  [selectorOf("approve(address,uint256)")]: "approve",
  [selectorOf("increaseAllowance(address,uint256)")]: "increaseAllowance",
  [selectorOf("transferFrom(address,address,uint256)")]: "transferFrom",
} as const satisfies Record<string, string>;

/** Permit2's `approve(token, spender, amount, expiration)`, charged to the token's budget like an ERC-20 approve. */
export const PERMIT2_APPROVE_SELECTOR = selectorOf("approve(address,address,uint160,uint48)");

const TWO_ARGS = 68;
const THREE_ARGS = 100;
const FOUR_ARGS = 132;
const word = (data: string, index: number) => BigInt(dataSlice(data, 4 + 32 * index, 36 + 32 * index));

/**
 * Classifies `call` of `account` as the hook's validation does. `budgeted` holds the checksummed addresses of the
 * tokens the session has a budget for (the hook refuses every other function with calldata on those).
 */
export function tokenSpendOf(account: string, call: TokenCall, budgeted: ReadonlySet<string>): TokenSpend {
  const length = dataLength(call.data);
  if (length === 0) return { kind: "none" };
  const target = getAddress(call.target);
  const selector = length >= 4 ? dataSlice(call.data, 0, 4).toLowerCase() : call.data.toLowerCase();
  const name = (TOKEN_SPEND_FUNCTIONS as Record<string, string>)[selector];
  // The pseudo-assets' addresses hold no tokens: no ERC-20 reading there, but a Permit2 approve is read anywhere.
  if (isPseudoAsset(target)) return permit2Approval(call, target, selector, length, budgeted);
  if (name !== undefined) {
    if (name !== "transferFrom" && length >= TWO_ARGS) {
      return { kind: "spend", token: target, amount: word(call.data, 1), function: name };
    }
    if (name === "transferFrom" && length >= THREE_ARGS && word(call.data, 0) === BigInt(account)) {
      return { kind: "spend", token: target, amount: word(call.data, 2), function: name };
    }
    return {
      kind: "refused",
      token: target,
      selector,
      reason:
        name === "transferFrom" && length >= THREE_ARGS
          ? `the spend-limit hook refuses transferFrom of an address other than the account on ${target}`
          : `the spend-limit hook refuses a truncated ${name} on ${target}`,
    };
  }
  if (budgeted.has(target)) {
    return {
      kind: "refused",
      token: target,
      selector,
      reason: `the spend-limit hook refuses every call but transfer, approve, increaseAllowance and transferFrom on the budgeted token ${target} (selector ${selector})`,
    };
  }
  return permit2Approval(call, target, selector, length, budgeted);
}

/** The hook's `_permit2Approval`: a Permit2 `approve` of a budgeted token, on any target. */
function permit2Approval(
  call: TokenCall,
  target: string,
  selector: string,
  length: number,
  budgeted: ReadonlySet<string>,
): TokenSpend {
  if (length >= FOUR_ARGS && selector === PERMIT2_APPROVE_SELECTOR) {
    const token = word(call.data, 0);
    if (token > (1n << 160n) - 1n) {
      return {
        kind: "refused",
        token: target,
        selector,
        reason: "the spend-limit hook refuses a Permit2 approve whose token word is not an address",
      };
    }
    const tokenAddress = getAddress(`0x${token.toString(16).padStart(40, "0")}`);
    if (!isPseudoAsset(tokenAddress) && budgeted.has(tokenAddress)) {
      return { kind: "spend", token: tokenAddress, amount: word(call.data, 2), function: "Permit2 approve" };
    }
  }
  return { kind: "none" };
}
