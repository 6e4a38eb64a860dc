/**
 * `@leashkit/hardhat` (packages/hardhat) is a Hardhat 3 plugin, and the repository's own hardhat.config.ts gets the
 * owner tasks from it as any project does (issue 15). test:packages runs `npx hardhat session --help` in a fresh
 * Hardhat project that installed its tarball.
 */
import { expect } from "chai";

import config from "../../hardhat.config.js";
import leashPlugin from "../../packages/hardhat/src/index.js";

const taskIds = (leashPlugin.tasks ?? []).map((task) => task.id.join(" "));

describe("@leashkit/hardhat", function () {
  it("defines the account task and the seven session tasks, each with its parent", function () {
    expect(taskIds).to.deep.equal([
      "account",
      "account create",
      "session",
      "session grant",
      "session revoke",
      "session revoke-all",
      "session cancel",
      "session submit",
      "session list",
      "session status",
    ]);
  });

  it("declares hardhat-ethers and hardhat-ledger as the plugins it needs", async function () {
    const dependencies = await Promise.all(leashPlugin.dependencies?.() ?? []);
    expect(dependencies.map((dependency) => dependency.default.id)).to.deep.equal(["hardhat-ethers", "hardhat-ledger"]);
  });

  it("is how the repository's hardhat.config.ts gets the tasks: a plugin beside hardhat-ledger, no tasks of its own", function () {
    const ids = (config.plugins ?? []).map((plugin) => plugin.id);
    expect(ids).to.include.members(["hardhat-ledger", "@leashkit/hardhat"]);
    expect(config.tasks).to.equal(undefined);
  });
});
