/**
 * examples/agent.ts, the example agent the README points integrators to: it pays within its budget, waits for the
 * period reset when over budget, skips what its scope forbids, and stops for good once revoked.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { parseUnits, Wallet } from "ethers";

import { runAgent, type Payment, type RunAgentParameters } from "../../examples/agent.js";
import {
  DAY,
  executeCall,
  grantByTransaction,
  ownerCall,
  sessionFixture,
  typicalSession,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const AGENT_GAS = {
  verificationGasLimit: 400_000n,
  callGasLimit: 200_000n,
  preVerificationGas: 60_000n,
  maxFeePerGas: 2_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
};
const usdc = (amount: string) => parseUnits(amount, 6);

async function grantedFixture() {
  const f = await sessionFixture(ethers, networkHelpers);
  await (await grantByTransaction(f, typicalSession(f))).wait();
  const [, , , submitter] = await ethers.getSigners();
  return { ...f, submitter: submitter! };
}
type Fixture = Awaited<ReturnType<typeof grantedFixture>>;

/** Runs the example agent on the fixture's session; records the times it waited for. */
async function run(f: Fixture, payments: Payment[]) {
  const waits: bigint[] = [];
  const lines: string[] = [];
  const parameters: RunAgentParameters = {
    grant: {
      entryPoint: f.entryPoint.target as string,
      account: f.accountAddress,
      sessionModule: f.sessionModule.target as string,
      spendLimitHook: f.spendLimitHook.target as string,
      sessionId: 1,
    },
    agentKey: new Wallet(f.agent.privateKey),
    runner: f.submitter,
    via: { submitter: f.submitter },
    gas: AGENT_GAS,
    payments,
    waitUntil: async (timestamp) => {
      waits.push(timestamp);
      await networkHelpers.time.increaseTo(timestamp);
    },
    log: (line) => lines.push(line),
  };
  const outcomes = await runAgent(parameters);
  return { outcomes, waits, lines };
}

describe("example agent (examples/agent.ts)", function () {
  it("pays within its budget", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const token = f.usdc.target as string;
    const { outcomes } = await run(f, [
      { token, to: f.recipient, amount: usdc("60") },
      { token, to: f.recipient, amount: usdc("30") },
    ]);
    expect(outcomes).to.deep.equal(["paid", "paid"]);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(usdc("90"));
  });

  it("waits for the budget period to reset when over budget, then pays", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const token = f.usdc.target as string;
    const { outcomes, waits } = await run(f, [
      { token, to: f.recipient, amount: usdc("60") },
      { token, to: f.recipient, amount: usdc("50") },
    ]);
    expect(outcomes).to.deep.equal(["paid", "paid after the period reset"]);
    // Periods are anchored at the grant's validAfter (f.now - 10): the first one ends a day later.
    expect(waits).to.deep.equal([f.now - 10n + DAY]);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(usdc("110"));
  });

  it("skips a payment larger than the whole budget without waiting", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const { outcomes, waits } = await run(f, [
      { token: f.usdc.target as string, to: f.recipient, amount: usdc("101") },
    ]);
    expect([outcomes, waits]).to.deep.equal([["skipped"], []]);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
  });

  it("skips a payment outside its scope and goes on with the next", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
    await (await other.mint(f.accountAddress, 1_000n)).wait();
    const { outcomes } = await run(f, [
      { token: other.target as string, to: f.recipient, amount: 1n },
      { token: f.usdc.target as string, to: f.recipient, amount: usdc("1") },
    ]);
    expect(outcomes).to.deep.equal(["skipped", "paid"]);
    expect([await other.balanceOf(f.recipient), await f.usdc.balanceOf(f.recipient)]).to.deep.equal([0n, usdc("1")]);
  });

  it("stops for good once the owner pulled the kill switch, and nothing moves", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const revokeAll = f.sessionModule.interface.encodeFunctionData("revokeAll");
    await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revokeAll))).wait();
    const token = f.usdc.target as string;
    const { outcomes, lines } = await run(f, [
      { token, to: f.recipient, amount: usdc("1") },
      { token, to: f.recipient, amount: usdc("1") },
    ]);
    expect(outcomes).to.deep.equal(["stopped", "stopped"]);
    expect(lines).to.have.length(1);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
  });
});
