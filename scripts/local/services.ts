/**
 * Local services for the demo and the bundler integration test: a `hardhat node` and Pimlico's Alto bundler
 * (`@pimlico/alto` from npm) started against it, each a child process on a free loopback port, stopped with its
 * `stop()`. Nothing is downloaded: both come from node_modules. With LEASH_SERVICE_LOG=1 their output is echoed to
 * stderr, prefixed with the service's name.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** How long a service may take to answer its first JSON-RPC request, in milliseconds. */
const START_TIMEOUT_MS = 60_000;
/** Pause between two readiness probes, in milliseconds. */
const PROBE_INTERVAL_MS = 200;
/** How much of a failed service's output an error quotes, in characters. */
const OUTPUT_TAIL_CHARS = 2_000;

/**
 * Private keys of Hardhat's default accounts #8 and #9 (the public test mnemonic), which the local node funds: Alto
 * submits bundles from the first and deploys its simulation contracts from the second. Never use them elsewhere.
 */
export const ALTO_EXECUTOR_KEY = "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97";
export const ALTO_UTILITY_KEY = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6";

/** A running child service. */
export interface LocalService {
  /** Its JSON-RPC URL on loopback. */
  url: string;
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>;
}

/** A TCP port nothing listens on now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === "string") reject(new Error("could not pick a free port"));
        else resolve(address.port);
      });
    });
  });
}

/** The folder of an installed package (found from its entry point: some packages do not export package.json). */
function packageDir(packageName: string): string {
  let dir = dirname(require.resolve(packageName));
  for (;;) {
    const manifestPath = join(dir, "package.json");
    if (existsSync(manifestPath) && (require(manifestPath) as { name?: string }).name === packageName) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the folder of ${packageName}: reinstall with npm ci`);
    dir = parent;
  }
}

function packageBin(packageName: string, binName: string): string {
  const dir = packageDir(packageName);
  const manifest = require(join(dir, "package.json")) as { bin: string | Record<string, string> };
  const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin[binName];
  if (bin === undefined) throw new Error(`${packageName} has no "${binName}" executable: reinstall with npm ci`);
  return join(dir, bin);
}

/** Starts `node <script> <args>` and resolves once `url` answers eth_chainId; fails with the process's output. */
async function startService(name: string, script: string, args: string[], url: string): Promise<LocalService> {
  const child: ChildProcess = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const echo = process.env.LEASH_SERVICE_LOG === "1";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    if (echo) process.stderr.write(`[${name}] ${chunk.toString()}`);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}:\n${output}`);
      if (await answers(url)) return { url, stop };
      if (Date.now() > deadline) throw new Error(`${name} did not answer at ${url} in time:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Whether a JSON-RPC server at `url` answers eth_chainId. */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    const body = (await response.json()) as { result?: unknown };
    return typeof body.result === "string";
  } catch {
    return false;
  }
}

/** Starts `hardhat node` (this project's config) on a free loopback port. */
export async function startHardhatNode(): Promise<LocalService> {
  const port = await freePort();
  const args = ["node", "--hostname", "127.0.0.1", "--port", String(port)];
  return startService("hardhat node", packageBin("hardhat", "hardhat"), args, `http://127.0.0.1:${port}`);
}

/**
 * Starts Alto against `rpcUrl` for `entryPoint` (which must be a canonical EntryPoint address, v0.8 or v0.7: Alto
 * recognises the versions there; deploy/entryPoint.ts puts either in place). Safe mode is off: it needs JavaScript tracers that Hardhat's node does not run; Leash's
 * own ERC-7562 checker (test/helpers/erc7562.ts) checks the rules instead.
 */
export async function startAlto(rpcUrl: string, entryPoint: string): Promise<LocalService> {
  const port = await freePort();
  const args = [
    "--rpc-url",
    rpcUrl,
    "--entrypoints",
    entryPoint,
    "--executor-private-keys",
    ALTO_EXECUTOR_KEY,
    "--utility-private-key",
    ALTO_UTILITY_KEY,
    "--safe-mode",
    "false",
    "--log-level",
    "warn",
    "--port",
    String(port),
  ];
  return startService("alto", packageBin("@pimlico/alto", "alto"), args, `http://127.0.0.1:${port}`);
}
