/**
 * The agent tools run in process (packages/tools/src/tools.ts, issue 16): what the MCP server and the AI SDK adapter
 * share, tested without a child process: calls made at once run one at a time, and a bundler estimate over the
 * agent's caps is a refusal with nothing sent.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { parseUnits } from "ethers";

import { createBundlerClient, DEFAULT_GAS_CAPS } from "../../client/bundler.js";
import { createSessionHandle } from "../../client/sessionHandle.js";
import { readAgentPolicy } from "../../packages/tools/src/policy.js";
import { createLeashTools, type ToolResult } from "../../packages/tools/src/tools.js";
import { grantByTransaction, sessionFileOf, sessionFixture, typicalSession } from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();

/** The typical session (100 USDC a day) granted, and the agent's tools over handleOps. */
async function granted() {
  const f = await sessionFixture(ethers, networkHelpers);
  const description = typicalSession(f);
  await (await grantByTransaction(f, description)).wait();
  const session = sessionFileOf(f, description);
  const [, , , submitter] = await ethers.getSigners();
  const handle = createSessionHandle({
    session,
    provider: ethers.provider,
    agentKey: f.agent.privateKey,
    via: { submitter: submitter! },
  });
  const policy = await readAgentPolicy({ session, provider: ethers.provider });
  return { ...f, session, policy, tools: createLeashTools({ handle, policy, provider: ethers.provider }) };
}

describe("agent tools (in process)", function () {
  it("runs payments asked at once one after the other: the second is checked against what the first left", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const pay = () => f.tools.run("pay", { asset: "USDC", to: f.recipient, amount: "60" });
    const results: ToolResult[] = await Promise.all([pay(), pay()]);
    expect(results.map((result) => result.sent)).to.deep.equal([true, false]);
    expect(results[1]).to.deep.include({ refused: "over_budget", requested: "60.0", remaining: "40.0" });
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(parseUnits("60", 6));
  });

  it("answers a gas estimate over the agent's caps as a refusal, with nothing signed or sent", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const handle = createSessionHandle({
      session: f.session,
      provider: ethers.provider,
      agentKey: f.agent.privateKey,
      // Nothing listens there: the caps refuse the op before the bundler is asked anything.
      via: { bundler: createBundlerClient({ url: "http://127.0.0.1:9", entryPoint: f.session.entryPoint }) },
      caps: { ...DEFAULT_GAS_CAPS, verificationGasLimit: 1n },
    });
    const tools = createLeashTools({ handle, policy: f.policy, provider: ethers.provider });
    const nonce = await f.entryPoint.getNonce(f.accountAddress, f.policy.nonceKey);
    const result = await tools.run("pay", { asset: "USDC", to: f.recipient, amount: "1" });
    expect(result).to.deep.include({ refused: "gas_over_cap", retryable: false, sent: false });
    expect(result.reason).to.match(/verificationGasLimit .* more than the cap of 1: nothing was signed/);
    expect(await f.entryPoint.getNonce(f.accountAddress, f.policy.nonceKey)).to.equal(nonce);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
  });
});
