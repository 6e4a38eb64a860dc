/**
 * `npm run demo` itself, as a user runs it: a child process that starts a Hardhat node and the Alto bundler, and
 * sends the agent's ops through the bundler. It must exit 0 and tell the story's key lines.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import { expect } from "chai";

import { COVERAGE_RUN } from "../helpers/coverage.js";

const require = createRequire(import.meta.url);
const HARDHAT_CLI = join(dirname(require.resolve("hardhat/package.json")), "dist/src/cli.js");

/** Runs `hardhat run scripts/demo.ts` and returns its exit code and output. */
async function runDemoScript(): Promise<{ code: number | null; lines: string[] }> {
  // LEASH_SERVICE_LOG: the node's and Alto's output go into the captured output, shown if an assertion fails.
  const child = spawn(process.execPath, [HARDHAT_CLI, "run", "scripts/demo.ts"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LEASH_SERVICE_LOG: "1" },
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, lines: output.split("\n") };
}

describe("npm run demo (through the Alto bundler)", function () {
  this.timeout(180_000);
  let result: { code: number | null; lines: string[] };

  before(async function () {
    // The script runs the shipped bytecode in its own node: nothing to measure under --coverage.
    if (COVERAGE_RUN) this.skip();
    result = await runDemoScript();
  });

  it("exits 0", function () {
    expect(result.code, result.lines.slice(-200).join("\n")).to.equal(0);
  });

  it("sends the agent's ops through the bundler", function () {
    expect(result.lines.some((l) => l.startsWith("   the agent's ops go through the bundler at http://127.0.0.1:"))).to
      .be.true;
    expect(result.lines).to.include("   pay the merchant 60.0 USDC: paid");
  });

  it("shows the bundler's refusals of the over-budget and the out-of-scope ops, with their reasons", function () {
    expect(
      result.lines.some((l) =>
        l.startsWith(
          "   pay the merchant 50.0 USDC: REFUSED (SpendLimitExceededError) over budget: the op needs 50000000",
        ),
      ),
    ).to.be.true;
    expect(
      result.lines.some((l) => l.startsWith("   approve a stranger to pull 1 USDC: REFUSED (SessionOutOfScopeError)")),
    ).to.be.true;
  });

  it("refuses the agent after the kill switch and ends with what the merchant received", function () {
    expect(result.lines.some((l) => l.startsWith("   pay the merchant 1.0 USDC: REFUSED (SessionRevokedError)"))).to.be
      .true;
    expect(result.lines).to.include("8. The merchant received 110.0 USDC in total. Done.");
  });
});
