/**
 * docs/INTEGRATORS.md stays true: its quick start is examples/quickstart.ts verbatim and runs here, and its API
 * reference names every export of the client.
 */
import { readFileSync } from "node:fs";

import { expect } from "chai";
import { network } from "hardhat";
import { parseUnits, Wallet } from "ethers";

import * as client from "../../client/index.js";
import { pay } from "../../examples/quickstart.js";
import { grantByTransaction, sessionFixture, typicalSession } from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const guide = read("docs/INTEGRATORS.md");

async function grantedFixture() {
  const f = await sessionFixture(ethers, networkHelpers);
  await (await grantByTransaction(f, typicalSession(f))).wait();
  const [, , , submitter] = await ethers.getSigners();
  const grant = {
    entryPoint: f.entryPoint.target as string,
    account: f.accountAddress,
    sessionModule: f.sessionModule.target as string,
    sessionId: 1,
  };
  return { ...f, submitter: submitter!, grant, agentKey: new Wallet(f.agent.privateKey) };
}

describe("docs/INTEGRATORS.md", function () {
  it("shows examples/quickstart.ts verbatim as its quick start", function () {
    const block = /```ts\n([\s\S]*?)```/.exec(guide)?.[1];
    expect(block).to.equal(read("examples/quickstart.ts"));
  });

  it("shows examples/quickstart-viem.ts verbatim as its viem quick start (run by test/compat/viem.ts)", function () {
    const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
    expect(blocks[1]).to.equal(read("examples/quickstart-viem.ts"));
  });

  it("runs the quick start: the agent pays within its budget", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const outcome = await pay(
      f.grant,
      f.agentKey,
      f.submitter,
      f.usdc.target as string,
      f.recipient,
      parseUnits("5", 6),
    );
    expect(outcome).to.equal("paid");
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(parseUnits("5", 6));
  });

  it("runs the quick start: an over-budget payment comes back as a typed refusal, and nothing moves", async function () {
    const f = await networkHelpers.loadFixture(grantedFixture);
    const outcome = await pay(
      f.grant,
      f.agentKey,
      f.submitter,
      f.usdc.target as string,
      f.recipient,
      parseUnits("101", 6),
    );
    expect(outcome).to.match(/^refused \(SpendLimitExceededError\): over budget: the op needs 101000000 /);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
  });

  it("exports from its entry point exactly the union of the four role subpaths, and no command-line internal", async function () {
    const roles = await Promise.all(
      ["agent", "owner", "read", "encoding"].map((role) => import(`../../client/exports/${role}.js`)),
    );
    const union = new Set(roles.flatMap((role) => Object.keys(role as object)));
    expect(Object.keys(client).sort()).to.deep.equal([...union].sort());
    for (const internal of ["splitList", "requireOption", "toJsonSafe", "summarizeGrant", "NotConfirmedError"]) {
      expect(client).to.not.have.property(internal);
    }
  });

  it("names every export of the client in its API reference", function () {
    const missing = Object.keys(client).filter((name) => !guide.includes(`\`${name}`));
    expect(missing).to.deep.equal([]);
  });

  it("is what @leashkit/client exports (packages/client), built by npm run build and on npm pack", function () {
    const manifest = JSON.parse(read("packages/client/package.json")) as {
      name: string;
      exports: Record<string, { types: string; default: string }>;
      scripts: Record<string, string>;
      peerDependencies: Record<string, string>;
      files: string[];
    };
    expect(manifest.name).to.equal("@leashkit/client");
    expect(manifest.exports["."]).to.deep.equal({
      types: "./dist/client/index.d.ts",
      default: "./dist/client/index.js",
    });
    for (const role of ["agent", "owner", "read", "encoding"]) {
      expect(manifest.exports[`./${role}`]).to.deep.equal({
        types: `./dist/client/exports/${role}.d.ts`,
        default: `./dist/client/exports/${role}.js`,
      });
    }
    expect(manifest.exports["./node"]).to.deep.equal({
      types: "./dist/client/node.d.ts",
      default: "./dist/client/node.js",
    });
    expect(manifest.peerDependencies).to.have.property("ethers");
    expect(manifest.files).to.include("dist");
    expect(manifest.scripts.prepack).to.equal("node build.mjs");
    const viem = JSON.parse(read("packages/viem/package.json")) as typeof manifest & {
      dependencies: Record<string, string>;
    };
    expect(viem.name).to.equal("@leashkit/viem");
    expect(viem.exports["."]).to.deep.equal({ types: "./dist/index.d.ts", default: "./dist/index.js" });
    expect(Object.keys(viem.peerDependencies).sort()).to.deep.equal(["ethers", "viem"]);
    expect(viem.dependencies).to.deep.equal({ [manifest.name]: "0.1.0" });
    expect(viem.scripts.prepack).to.equal("node build.mjs");
    const root = JSON.parse(read("package.json")) as { scripts: Record<string, string>; workspaces: string[] };
    expect(root.workspaces).to.deep.equal(["packages/*"]);
    expect(root.scripts.build).to.contain("npm run build --workspaces");
  });
});
