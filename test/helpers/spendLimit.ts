/**
 * Helpers of the spend-limit hook's tests (test/modules/SpendLimitHook*.ts): what a session spent, the agent's USDC
 * payments, a session over two budgeted tokens, and the stranger's EOA standing in for an account.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import { AbiCoder, parseEther } from "ethers";

import { NATIVE_ASSET } from "../../client/session.js";
import {
  DAY,
  executeCall,
  grantByTransaction,
  SESSION_ID,
  sessionFixture,
  sessionOp,
  typicalSession,
  USDC,
  usdcTransfer,
  type SessionFixture,
} from "./sessions.js";

/** What session `sessionId` (the typical one unless given) spent of `asset` in its current period. */
export async function spent(f: SessionFixture, asset: string, sessionId = SESSION_ID): Promise<bigint> {
  return (await f.spendLimitHook.getBudget(f.accountAddress, sessionId, asset)).spent;
}

/** The agent's op paying `amount` USDC to the recipient. */
export async function payUsdc(f: SessionFixture, amount: bigint, options: Parameters<typeof sessionOp>[2] = {}) {
  const { op } = await sessionOp(
    f,
    executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, amount)),
    options,
  );
  return op;
}

/** `executeBatch` calldata of one USDC transfer to the recipient per amount. */
export function usdcBatch(f: SessionFixture, amounts: bigint[]): string {
  return f.account.interface.encodeFunctionData("executeBatch", [
    amounts.map((amount) => ({
      target: f.usdc.target as string,
      value: 0n,
      data: usdcTransfer(f, f.recipient, amount),
    })),
  ]);
}

/** A session over USDC and a second token, with a budget for each. */
export async function twoTokenSessionFixture(ethers: HardhatEthers, networkHelpers: NetworkHelpers) {
  const f = await sessionFixture(ethers, networkHelpers);
  const dai = await ethers.deployContract("TestToken", ["Dai", "DAI", 18]);
  await (await dai.mint(f.accountAddress, parseEther("1000"))).wait();
  const session = typicalSession(f, {
    // The ERC-20 spends by name: a wildcard does not cover them (THREATS 26).
    scope: [f.usdc, dai].flatMap((token) =>
      (["transfer", "approve", "increaseAllowance"] as const).map((name) => ({
        target: token.target as string,
        selector: token.interface.getFunction(name).selector,
      })),
    ),
    budgets: [
      { asset: NATIVE_ASSET, limit: parseEther("1"), period: DAY, perCallCap: 0n },
      { asset: f.usdc.target as string, limit: USDC("100"), period: DAY, perCallCap: 0n },
      { asset: dai.target as string, limit: parseEther("100"), period: DAY, perCallCap: 0n },
    ],
  });
  await (await grantByTransaction(f, session)).wait();
  return { ...f, dai };
}

/**
 * The stranger's EOA stands in for an account: it installs entity 1 with a lifetime budget of each asset, and
 * allows `paymasters`.
 */
export async function installForStranger(f: SessionFixture, assets: string[], paymasters: string[] = []) {
  const install = AbiCoder.defaultAbiCoder().encode(
    ["uint32", "uint48", "address[]", "uint256[]", "uint48[]", "uint256[]", "address[]"],
    [1, f.now, assets, assets.map(() => 1_000n), assets.map(() => 0n), assets.map(() => 0n), paymasters],
  );
  await (await f.spendLimitHook.connect(f.stranger).onInstall(install)).wait();
  return f.spendLimitHook.connect(f.stranger);
}
