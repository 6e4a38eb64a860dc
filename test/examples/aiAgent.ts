/**
 * examples/ai-agent.ts: an agent on the Vercel AI SDK, driven by a scripted model stand-in, through the tools
 * `@leashkit/agent-tools` generates from the session's policy: it reads its status, pays within budget, is refused
 * over budget with when the budget resets, and nothing is sent for the refusal.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { parseUnits } from "ethers";

import { createSessionHandle } from "../../client/sessionHandle.js";
import { runAiAgent, scriptedModel } from "../../examples/ai-agent.js";
import { leashAiTools } from "../../packages/tools/src/ai.js";
import { readAgentPolicy } from "../../packages/tools/src/policy.js";
import { createLeashTools } from "../../packages/tools/src/tools.js";
import { grantByTransaction, sessionFileOf, sessionFixture, typicalSession } from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const FEES = { maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };

async function toolsFixture() {
  const f = await sessionFixture(ethers, networkHelpers);
  const description = typicalSession(f);
  await (await grantByTransaction(f, description)).wait();
  const [, , , submitter] = await ethers.getSigners();
  const session = sessionFileOf(f, description);
  const handle = createSessionHandle({
    session,
    provider: ethers.provider,
    agentKey: f.agent.privateKey,
    via: { submitter: submitter! },
    gas: FEES,
  });
  const policy = await readAgentPolicy({ session, provider: ethers.provider });
  return { ...f, submitter: submitter!, tools: createLeashTools({ handle, policy, provider: ethers.provider }) };
}

describe("examples/ai-agent.ts (Vercel AI SDK, scripted model)", function () {
  it("gives the AI SDK the policy's tools, with their generated JSON Schemas", async function () {
    const f = await networkHelpers.loadFixture(toolsFixture);
    const tools = leashAiTools(f.tools);
    expect(Object.keys(tools)).to.deep.equal(["session_status", "pay", "call", "simulate", "history"]);
    expect(tools.pay!.description).to.contain("USDC (6 decimals");
  });

  it("checks its status, pays within budget, and is refused over budget with when it resets; the refusal sends nothing", async function () {
    const f = await networkHelpers.loadFixture(toolsFixture);
    const nonceBefore = await ethers.provider.getTransactionCount(f.submitter.address);
    const { steps, text } = await runAiAgent({
      tools: f.tools,
      model: scriptedModel([
        { tool: "session_status", input: {} },
        { tool: "pay", input: { asset: "USDC", to: f.recipient, amount: "30" } },
        { tool: "pay", input: { asset: "USDC", to: f.recipient, amount: "80" } },
      ]),
      prompt: "Pay the invoice of 30 USDC, then the one of 80 USDC.",
    });
    expect(steps.map((step) => step.tool)).to.deep.equal(["session_status", "pay", "pay"]);
    expect((steps[0]!.output as { state: string }).state).to.equal("live");
    expect(steps[1]!.output).to.deep.include({ sent: true, success: true });
    expect(steps[2]!.output).to.deep.include({
      refused: "over_budget",
      asset: "USDC",
      requested: "80.0",
      remaining: "70.0",
      retryable: true,
      sent: false,
    });
    expect(text).to.contain("over_budget");
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(parseUnits("30", 6));
    // One transaction: the payment. The refusal signed and sent nothing.
    expect(await ethers.provider.getTransactionCount(f.submitter.address)).to.equal(nonceBefore + 1);
  });
});
