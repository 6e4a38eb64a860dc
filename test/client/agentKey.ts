/**
 * client/agentKey.ts: the agent's key file is written once, readable by its owner only, and reads back as the same
 * key and session.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";

import { createAgentKey, type AgentSessionConfig } from "../../client/agentKey.js";
import { loadAgentKeyFile, writeAgentKeyFile } from "../../client/node.js";

const config: AgentSessionConfig = {
  chainId: "31337",
  account: "0x068367C52f836e12b9c649E6DFE8a12D8D120969",
  sessionId: 3,
  sessionModule: "0x1F1E192623924682cFFcD4dC9F0a76D06deFf909",
  spendLimitHook: "0xE5516C90ecBEA639543F20cDC65472FB8791B52b",
  entryPoint: "0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108",
};
const freshPath = () => join(mkdtempSync(join(tmpdir(), "leash-key-")), "agent.json");

describe("agent key files", function () {
  it("reads back the key and the session it was written for", async function () {
    const path = freshPath();
    const key = createAgentKey();
    await writeAgentKeyFile(path, key, config);
    const loaded = await loadAgentKeyFile(path);
    expect([loaded.key.address, loaded.key.privateKey, loaded.config]).to.deep.equal([
      key.address,
      key.privateKey,
      config,
    ]);
  });

  it("writes the file readable and writable by its owner only (0600)", async function () {
    const path = freshPath();
    await writeAgentKeyFile(path, createAgentKey(), config);
    expect(statSync(path).mode & 0o777).to.equal(0o600);
  });

  it("refuses a file whose key is not its address's", async function () {
    const path = freshPath();
    await writeAgentKeyFile(path, createAgentKey(), config);
    const damaged = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    writeFileSync(path, JSON.stringify({ ...damaged, address: createAgentKey().address }));
    const failure = await loadAgentKeyFile(path).then(
      () => "",
      (error: unknown) => (error as Error).message,
    );
    expect(failure).to.contain("the file is damaged");
  });

  it("refuses a file that is not an agent key file", async function () {
    const path = freshPath();
    writeFileSync(path, JSON.stringify({ hello: "world" }));
    const failure = await loadAgentKeyFile(path).then(
      () => "",
      (error: unknown) => (error as Error).message,
    );
    expect(failure).to.contain("is not an agent key file");
  });

  it("refuses a key file that is not JSON without quoting any of it, the key included (THREATS 20)", async function () {
    const path = freshPath();
    const key = createAgentKey();
    // An unquoted key: JSON.parse's own message would quote the text around the error.
    writeFileSync(path, `{"address": "${key.address}", "privateKey": ${key.privateKey}}`);
    const failure = await loadAgentKeyFile(path).then(
      () => "",
      (error: unknown) => (error as Error).message,
    );
    expect(failure).to.contain("is not JSON");
    expect(failure.toLowerCase()).to.not.contain(key.privateKey.slice(2, 14).toLowerCase());
  });
});
