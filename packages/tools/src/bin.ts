#!/usr/bin/env node
/**
 * `leash-mcp`: serves one session's tools over MCP (stdio).
 *
 *   leash-mcp --grant session.json --agent-key agent-key.json --rpc-url http://127.0.0.1:8545 \
 *             [--bundler-url http://127.0.0.1:4337 | --submitter-key submitter-key.json]
 *
 * The agent key file (written by `npx hardhat account agent-key`, or a file holding the hex private key) must be
 * readable by its owner only (mode 0600); the key is never printed, logged or returned by a tool. Every request and
 * result is logged to stderr as a JSON line.
 */
import { readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";

import { parseAgentKeyFile, parseAgentPrivateKey } from "@leashkit/client";
import { fromGrantFile } from "@leashkit/client/node";
import { JsonRpcProvider } from "ethers";

import { serveStdio } from "./mcp.js";
import { readAgentPolicy } from "./policy.js";
import { createLeashTools, type ToolLogger } from "./tools.js";

const log: ToolLogger = (entry) => {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...entry }) + "\n");
};

/** A private key from a key file, refused if others may read the file. */
export function readKeyFile(file: string, what: string): string {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`${what} ${file} is readable by others (mode ${mode.toString(8)}): run \`chmod 600 ${file}\``);
  }
  const text = readFileSync(file, "utf8").trim();
  return text.startsWith("{") ? parseAgentKeyFile(text, file).key.privateKey : parseAgentPrivateKey(text, file);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      grant: { type: "string" },
      "agent-key": { type: "string" },
      "rpc-url": { type: "string" },
      "bundler-url": { type: "string" },
      "submitter-key": { type: "string" },
      "from-block": { type: "string" },
    },
    strict: true,
  });
  const missing = ["grant", "agent-key", "rpc-url"].filter((name) => values[name as keyof typeof values] === undefined);
  if (missing.length !== 0) {
    throw new Error(
      `missing --${missing.join(", --")}: leash-mcp --grant <session file> --agent-key <key file> --rpc-url <url> ` +
        "[--bundler-url <url> | --submitter-key <key file>]",
    );
  }
  const handle = await fromGrantFile(values.grant!, {
    rpcUrl: values["rpc-url"]!,
    agentKey: readKeyFile(values["agent-key"]!, "the agent key file"),
    bundlerUrl: values["bundler-url"],
    submitterKey:
      values["submitter-key"] === undefined
        ? undefined
        : readKeyFile(values["submitter-key"], "the submitter key file"),
  });
  const provider = new JsonRpcProvider(values["rpc-url"]);
  const policy = await readAgentPolicy({
    session: handle.session,
    provider,
    fromBlock: values["from-block"] === undefined ? undefined : Number(values["from-block"]),
  });
  const tools = createLeashTools({ handle, policy, provider, log });
  const server = await serveStdio(tools);
  log({
    event: "ready",
    account: policy.session.account,
    sessionId: policy.session.sessionId,
    tools: tools.definitions.map((definition) => definition.name),
  });
  server.onclose = () => {
    handle.close();
    provider.destroy();
  };
}

main().catch((error: unknown) => {
  log({ event: "fatal", error: (error as Error).message });
  process.exit(1);
});
