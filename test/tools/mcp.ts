/**
 * The agent's MCP server (packages/tools, issue 16), driven by the MCP SDK's own client over stdio as a child
 * process, against a local Hardhat node: the tools and their schemas come from the granted policy, a payment within
 * budget is sent and reports what it spent, every refusal is structured and sends nothing, malformed input gets a
 * clear error, and the agent's key is in no result and no log line.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { expect } from "chai";
import { network } from "hardhat";
import { parseUnits } from "ethers";

import { writeSessionFile } from "../../client/node.js";
import { startHardhatNode, type LocalService } from "../../scripts/local/services.js";
import {
  executeCall,
  grantByTransaction,
  ownerCall,
  sessionFileOf,
  sessionFixture,
  typicalSession,
  type SessionFixture,
} from "../helpers/sessions.js";

const BIN = path.join(import.meta.dirname, "../../packages/tools/src/bin.ts");

interface Served {
  client: Client;
  stderr: string[];
}

describe("leash-mcp (MCP server over stdio)", function () {
  this.timeout(180_000);
  let node: LocalService;
  let f: SessionFixture;
  let folder: string;
  let served: Served;
  let nonceOf: () => Promise<bigint>;

  /** Starts the server as a child process and connects the SDK's client to it. */
  async function serve(): Promise<Served> {
    const stderr: string[] = [];
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        "--import",
        "tsx",
        BIN,
        "--grant",
        path.join(folder, "session.json"),
        "--agent-key",
        path.join(folder, "agent.key"),
        "--rpc-url",
        node.url,
        "--submitter-key",
        path.join(folder, "submitter.key"),
      ],
      cwd: path.join(import.meta.dirname, "../.."),
      stderr: "pipe",
    });
    transport.stderr?.on("data", (chunk: Buffer) => stderr.push(...chunk.toString().split("\n").filter(Boolean)));
    const client = new Client({ name: "leash-test", version: "0.0.0" });
    await client.connect(transport);
    return { client, stderr };
  }

  async function callTool(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const result = await served.client.callTool({ name, arguments: args });
    const [content] = result.content as { type: string; text: string }[];
    return JSON.parse(content!.text) as Record<string, unknown>;
  }

  before(async function () {
    node = await startHardhatNode();
    const connection = await network.create({ network: "localhost", override: { url: node.url } });
    f = await sessionFixture(connection.ethers, connection.networkHelpers);
    const description = typicalSession(f);
    // USDC may go to the recipient only: an argument rule the `call` tool describes and pre-checks.
    description.scope[1]!.rules = [{ argument: 0, op: "eq", value: BigInt(f.recipient) }];
    await (await grantByTransaction(f, description)).wait();
    folder = mkdtempSync(path.join(tmpdir(), "leash-mcp-"));
    await writeSessionFile(path.join(folder, "session.json"), sessionFileOf(f, description));
    writeFileSync(path.join(folder, "agent.key"), f.agent.privateKey + "\n", { mode: 0o600 });
    writeFileSync(path.join(folder, "submitter.key"), f.stranger.privateKey + "\n", { mode: 0o600 });
    nonceOf = async () => BigInt(await connection.ethers.provider.getTransactionCount(f.stranger.address));
    served = await serve();
  });

  after(async function () {
    await served?.client.close();
    rmSync(folder, { recursive: true, force: true });
    await node.stop();
  });

  it("lists the tools the policy allows, with the session's assets and functions in their schemas", async function () {
    const { tools } = await served.client.listTools();
    expect(tools.map((tool) => tool.name)).to.deep.equal(["session_status", "pay", "call", "simulate", "history"]);
    const pay = tools.find((tool) => tool.name === "pay")!;
    const properties = pay.inputSchema.properties as Record<string, { enum?: string[] }>;
    expect(properties.asset!.enum).to.deep.equal(["ETH", "USDC"]);
    expect(pay.description).to.contain(`only to ${f.recipient}`);
    const call = tools.find((tool) => tool.name === "call")!;
    const functions = (call.inputSchema.properties as Record<string, { enum?: string[] }>).function!.enum;
    expect(functions).to.deep.equal([`transfer(address,uint256)@${f.usdc.target as string}`]);
  });

  it("reports the session live, with each budget's symbol and what remains", async function () {
    const status = await callTool("session_status", {});
    expect(status.state).to.equal("live");
    const budgets = status.budgets as { symbol: string; remaining: string }[];
    expect(budgets.map((budget) => [budget.symbol, budget.remaining])).to.deep.equal([
      ["ETH", parseUnits("1", 18).toString()],
      ["USDC", parseUnits("100", 6).toString()],
    ]);
  });

  it("pays within budget, waits for the receipt and returns the transaction, what was spent and what remains", async function () {
    const result = await callTool("pay", { asset: "USDC", to: f.recipient, amount: "5" });
    expect(result).to.deep.include({ sent: true, success: true });
    expect(result.transactionHash).to.match(/^0x[0-9a-f]{64}$/);
    expect((result.spent as Record<string, string>).USDC).to.equal("5.0");
    expect((result.remaining as Record<string, string>).USDC).to.equal("95.0");
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(parseUnits("5", 6));
  });

  it("refuses a payment over the budget with its asset, amounts and reset time, and sends nothing", async function () {
    const nonce = await nonceOf();
    const result = await callTool("pay", { asset: "USDC", to: f.recipient, amount: "96" });
    expect(result).to.deep.include({
      refused: "over_budget",
      asset: "USDC",
      requested: "96.0",
      remaining: "95.0",
      retryable: true,
      sent: false,
    });
    expect(Date.parse(result.resetsAt as string)).to.be.greaterThan(Date.now() - 60_000);
    expect(await nonceOf()).to.equal(nonce);
  });

  it("simulates a payment without sending it, and refuses one the policy would refuse", async function () {
    const nonce = await nonceOf();
    const fits = await callTool("simulate", { pay: { asset: "USDC", to: f.recipient, amount: "1" } });
    expect(fits).to.deep.include({ wouldSend: true, sent: false });
    const over = await callTool("simulate", { pay: { asset: "ETH", to: f.recipient, amount: "2" } });
    expect(over).to.deep.include({ refused: "over_per_call_cap", sent: false });
    expect(await nonceOf()).to.equal(nonce);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(parseUnits("5", 6));
  });

  it("calls a scoped function by signature and arguments, and refuses one breaking its argument rule, sending nothing", async function () {
    const { tools } = await served.client.listTools();
    const id = `transfer(address,uint256)@${f.usdc.target as string}`;
    expect(tools.find((tool) => tool.name === "call")!.description).to.contain(
      `- ${id}: transfer(address, uint256) on USDC; argument 0 must be ${f.recipient}`,
    );
    const called = await callTool("call", { function: id, args: [f.recipient, "2000000"] });
    expect(called).to.deep.include({ function: id, sent: true, success: true });
    expect((called.spent as Record<string, string>).USDC).to.equal("2.0");
    const nonce = await nonceOf();
    const stranger = f.stranger.address;
    const refused = await callTool("call", { function: id, args: [stranger, "1"] });
    expect(refused).to.deep.include({ refused: "argument_rule", retryable: false, sent: false });
    expect(await nonceOf()).to.equal(nonce);
    expect(await f.usdc.balanceOf(stranger)).to.equal(0n);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(parseUnits("7", 6));
  });

  it("lists the session's ops newest first, each with its transaction, gas and what left the account", async function () {
    const paid = await callTool("pay", { asset: "ETH", to: f.recipient, amount: "0.01" });
    expect(paid, JSON.stringify(paid)).to.deep.include({ sent: true, success: true });
    const { ops } = (await callTool("history", { limit: 5 })) as { ops: Record<string, unknown>[] };
    expect(ops.map((op) => [op.transactionHash, op.success, op.gasPaidBy, op.outflows])).to.deep.equal([
      [paid.transactionHash, true, "account", [{ asset: "ETH", to: f.recipient, amount: "0.01" }]],
      [ops[1]!.transactionHash, true, "account", [{ asset: "USDC", to: f.recipient, amount: "2.0" }]],
      [ops[2]!.transactionHash, true, "account", [{ asset: "USDC", to: f.recipient, amount: "5.0" }]],
    ]);
    expect(Number(ops[0]!.gasCost)).to.be.greaterThan(0);
  });

  it("answers malformed input with a clear error, never a crash: unknown symbol, bad address, negative amount", async function () {
    expect(await callTool("pay", { asset: "DOGE", to: f.recipient, amount: "1" })).to.deep.equal({
      error: 'unknown asset "DOGE": this session may pay ETH, USDC',
      sent: false,
    });
    expect((await callTool("pay", { asset: "USDC", to: "0x1234", amount: "1" })).error).to.equal(
      '"to" is not an address: "0x1234"',
    );
    expect((await callTool("pay", { asset: "USDC", to: f.recipient, amount: "-1" })).error).to.match(
      /must be a non-negative decimal amount/,
    );
    expect((await callTool("call", { function: "mint(address,uint256)", args: [] })).error).to.match(
      /is not a function this session may call/,
    );
    // The server is still up.
    expect((await callTool("session_status", {})).state).to.equal("live");
  });

  it("refuses every call once the owner revoked the session, and sends nothing", async function () {
    const revoke = f.sessionModule.interface.encodeFunctionData("revoke", [typicalSession(f).sessionId]);
    await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revoke))).wait();
    const nonce = await nonceOf();
    const result = await callTool("pay", { asset: "USDC", to: f.recipient, amount: "1" });
    expect(result).to.deep.include({ refused: "revoked", retryable: false, sent: false });
    expect(await nonceOf()).to.equal(nonce);
  });

  it("refuses to start with a key file others may read, saying how to fix it and never quoting the key", async function () {
    const loose = path.join(folder, "loose.key");
    writeFileSync(loose, f.agent.privateKey + "\n", { mode: 0o644 });
    chmodSync(loose, 0o644);
    const args = [
      "--import",
      "tsx",
      BIN,
      "--grant",
      path.join(folder, "session.json"),
      "--agent-key",
      loose,
      "--rpc-url",
      node.url,
    ];
    const child = spawn(process.execPath, args, {
      cwd: path.join(import.meta.dirname, "../.."),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).to.equal(1);
    expect((JSON.parse(stderr.trim().split("\n").at(-1)!) as { error: string }).error).to.contain(`chmod 600 ${loose}`);
    expect(stderr.toLowerCase()).to.not.contain(f.agent.privateKey.slice(2).toLowerCase());
  });

  it("puts the agent's key in no result and no log line, and logs every request and result as JSON", async function () {
    const key = f.agent.privateKey.slice(2).toLowerCase();
    expect(served.stderr.length).to.be.greaterThan(10);
    for (const line of served.stderr) {
      expect(line.toLowerCase()).to.not.contain(key);
      expect(() => JSON.parse(line) as unknown).to.not.throw();
    }
    const events = served.stderr.map((line) => (JSON.parse(line) as { event: string }).event);
    expect(events).to.include.members(["ready", "request", "result"]);
  });
});
