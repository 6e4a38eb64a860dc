/**
 * The agent tools run in process (packages/tools/src/tools.ts, issue 16): what the MCP server and the AI SDK adapter
 * share, tested without a child process: calls made at once run one at a time, and a bundler estimate over the
 * agent's caps is a refusal with nothing sent.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { parseEther, parseUnits, ZeroHash } from "ethers";

import { createBundlerClient, DEFAULT_GAS_CAPS } from "../../client/bundler.js";
import { EntryPoint__factory } from "../../client/contracts.js";
import { packUserOp } from "../../client/userOp.js";
import { fakeBundler, fromRpcUserOp, type FakeBundler } from "../helpers/fakeBundler.js";
import { SELECTOR_NO_CALLDATA } from "../../client/session.js";
import { createSessionHandle } from "../../client/sessionHandle.js";
import { bundledOps } from "../../packages/tools/src/history.js";
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

  /** The tools over a session handle that sends through `bundler`, waiting `timeoutMs` for each op. */
  const toolsThrough = (f: Awaited<ReturnType<typeof granted>>, bundler: FakeBundler, timeoutMs: number) =>
    createLeashTools({
      handle: createSessionHandle({
        session: f.session,
        provider: ethers.provider,
        agentKey: f.agent.privateKey,
        via: { bundler: createBundlerClient({ url: bundler.url, entryPoint: f.session.entryPoint }) },
        timeoutMs,
      }),
      policy: f.policy,
      provider: ethers.provider,
    });

  it("answers an op sent but not seen included in time as sent: unknown, with its hash to look it up", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const bundler = await fakeBundler(ethers, f, { neverInclude: true });
    try {
      const tools = toolsThrough(f, bundler, 1_000);
      const result = await tools.run("pay", { asset: "USDC", to: f.recipient, amount: "1" });
      const sent = fromRpcUserOp(bundler.sends[0]!);
      expect(result).to.deep.include({
        sent: "unknown",
        userOpHash: await f.entryPoint.getUserOpHash(packUserOp({ ...sent, signature: "0x" })),
      });
      expect(result.error).to.match(/look it up by this hash/);
      expect(result.error).to.match(/take that op's nonce, so a retry of it and the op itself cannot both be included/);
    } finally {
      await bundler.close();
    }
  });

  it("answers a later payment that lost its nonce to an op answered sent: unknown as nonce_taken, naming that op", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const bundler = await fakeBundler(ethers, f, { neverInclude: true });
    try {
      const tools = toolsThrough(f, bundler, 2_000);
      const lost = await tools.run("pay", { asset: "USDC", to: f.recipient, amount: "1" });
      expect(lost.sent).to.equal("unknown");
      // The next payment is pinned to the lost op's nonce; the lost op is then mined.
      const next = tools.run("pay", { asset: "USDC", to: f.recipient, amount: "2" });
      while (new Set(bundler.sends.map((rpc) => rpc.signature)).size < 2) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await bundler.includePending();
      expect(await next).to.deep.include({
        refused: "nonce_taken",
        retryable: false,
        sent: false,
        winnerUserOpHash: lost.userOpHash,
      });
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(parseUnits("1", 6));
    } finally {
      await bundler.close();
    }
  });

  describe("history", function () {
    /** The typical session, also allowed to send ETH to a contract that refuses it (its execution reverts). */
    async function withRefusingPayee() {
      const f = await sessionFixture(ethers, networkHelpers);
      const refuser = await ethers.deployContract("ReentrantTarget");
      const description = typicalSession(f);
      description.scope.push({ target: refuser.target as string, selector: SELECTOR_NO_CALLDATA });
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
      const tools = createLeashTools({ handle, policy, provider: ethers.provider });
      return { ...f, handle, tools, refuser: refuser.target as string };
    }

    it("lists a failed op with its gas and nothing leaving the account: its calls reverted", async function () {
      const f = await networkHelpers.loadFixture(withRefusingPayee);
      const sent = await f.handle.call({ target: f.refuser, value: parseEther("0.01"), data: "0x" });
      expect(sent.success).to.equal(false);
      const { ops } = (await f.tools.run("history", {})) as {
        ops: { success: boolean; outflows: unknown[]; gasCost: string }[];
      };
      expect(ops).to.have.length(1);
      expect(ops[0]).to.deep.include({ success: false, outflows: [] });
      expect(Number(ops[0]!.gasCost)).to.be.greaterThan(0);
    });

    it("lists a successful op's native value as leaving the account", async function () {
      const f = await networkHelpers.loadFixture(withRefusingPayee);
      await f.handle.pay({ asset: "ETH", to: f.recipient, amount: parseEther("0.01") });
      const { ops } = (await f.tools.run("history", {})) as { ops: { success: boolean; outflows: unknown[] }[] };
      expect(ops[0]).to.deep.include({ success: true, outflows: [{ asset: "ETH", to: f.recipient, amount: "0.01" }] });
    });

    it("reads the ops of a handleAggregatedOps bundle, and none of calldata it cannot parse", async function () {
      const entryPoint = EntryPoint__factory.createInterface();
      const op = {
        sender: "0x00000000000000000000000000000000000000A1",
        nonce: 7n,
        initCode: "0x",
        callData: "0x1234",
        accountGasLimits: ZeroHash,
        preVerificationGas: 0n,
        gasFees: ZeroHash,
        paymasterAndData: "0x",
        signature: "0x",
      };
      const data = entryPoint.encodeFunctionData("handleAggregatedOps", [
        [{ userOps: [op, { ...op, nonce: 8n }], aggregator: op.sender, signature: "0x" }],
        op.sender,
      ]);
      expect(bundledOps(data).map((item) => item.nonce)).to.deep.equal([7n, 8n]);
      expect(bundledOps("0xdeadbeef")).to.deep.equal([]);
      expect(bundledOps(data.slice(0, 200))).to.deep.equal([]);
    });
  });
});
