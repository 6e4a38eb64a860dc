/**
 * `npm run demo:agent` as a user runs it (scripts/demo-agent.ts): a child process with its own node, the agent's
 * ERC-7715 request, the owner's signature on the emulated Ledger, the MCP server driven by a scripted MCP client,
 * and the kill switch. It must exit 0 and tell the story's key lines.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import { expect } from "chai";

import { COVERAGE_RUN } from "../helpers/coverage.js";

const require = createRequire(import.meta.url);
const HARDHAT_CLI = join(dirname(require.resolve("hardhat/package.json")), "dist/src/cli.js");

describe("npm run demo:agent (ERC-7715 request, Ledger, MCP server)", function () {
  this.timeout(180_000);
  let code: number | null;
  let lines: string[];

  before(async function () {
    // The script runs the shipped bytecode in its own node: nothing to measure under --coverage.
    if (COVERAGE_RUN) this.skip();
    const child = spawn(process.execPath, [HARDHAT_CLI, "run", "scripts/demo-agent.ts"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    lines = output.split("\n");
  });

  it("exits 0", function () {
    expect(code, lines.slice(-100).join("\n")).to.equal(0);
  });

  it("shows the agent's request and the owner's review and signature on the Ledger", function () {
    expect(lines.some((line) => line.trim() === '"type": "erc20-token-periodic",')).to.equal(true);
    expect(lines.some((line) => line.startsWith("   your Ledger shows (grant):"))).to.equal(true);
    expect(lines.some((line) => line.startsWith("   granted; the agent gets the ERC-7715 response"))).to.equal(true);
  });

  it("lists the policy's tools, pays within budget and is refused over budget with when it resets", function () {
    expect(lines).to.include("   tools/list -> session_status, pay, call, simulate, history");
    expect(lines).to.include("   the session is live");
    expect(
      lines.some((line) => line.startsWith('   < {"asset":"USDC"') && line.includes('"sent":true,"success":true')),
    ).to.equal(true);
    expect(lines.some((line) => /^ {3}refused over_budget: 40\.0 USDC left, it resets at \d{4}-/.test(line))).to.equal(
      true,
    );
  });

  it("refuses the next tool call once the owner pulled the kill switch, and the merchant got only what was paid", function () {
    expect(lines).to.include("   refused killed: nothing was signed");
    expect(lines).to.include("6. The merchant received 60 USDC in total. Done.");
  });
});
