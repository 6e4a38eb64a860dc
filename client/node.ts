/**
 * The client's Node-only helpers (package subpath `./node`): the files an owner's machine and an agent keep. The rest
 * of the client reads no file and imports no Node module, so it runs in browsers and edge runtimes too.
 *
 * - Address books: `deployments/<chainId>.json` ({@link defaultAddressesFile}), read with
 *   {@link loadLeashAddresses} and written with {@link saveLeashAddresses}.
 * - Session files: what `session grant` hands the agent about its session, no key in it
 *   ({@link defaultSessionFile}, {@link writeSessionFile}, {@link loadSessionFile}).
 * - Agent key files: the agent's session key with its session's coordinates, written once with mode 0600
 *   ({@link writeAgentKeyFile}, never over an existing file, never printed: THREATS 20) and read back with
 *   {@link loadAgentKeyFile}.
 * - The agent's session handle from its session file: {@link fromGrantFile}.
 */
import { mkdir, open, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { Wallet, type HDNodeWallet, type SigningKey } from "ethers";

import { leashAddressesToJson, parseLeashAddresses, type LeashChainAddresses } from "./addresses.js";
import { agentKeyFileContents, parseAgentKeyFile, type AgentKeyFile, type AgentSessionConfig } from "./agentKey.js";
import { InvalidAddressError, LeashNotDeployedError } from "./inputErrors.js";
import type { SendVia } from "./agent.js";
import { createBundlerClient, type GasCaps } from "./bundler.js";
import { parseSessionFile, sessionFileToJson, type SessionFile } from "./sessionFile.js";
import { createSessionHandle, type SessionHandle } from "./sessionHandle.js";
import { ResilientJsonRpcProvider } from "./transport.js";
import type { UserOpGas } from "./userOp.js";

/** The default address book file of `chainId` under `root`. */
export function defaultAddressesFile(root: string, chainId: bigint): string {
  return path.join(root, "deployments", `${chainId}.json`);
}

/**
 * Reads and validates an address book. Throws {@link LeashNotDeployedError} if the file is missing or malformed and
 * `WrongChainError` if it is for another chain than `chainId`.
 */
export async function loadLeashAddresses(file: string, chainId: bigint): Promise<LeashChainAddresses> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new LeashNotDeployedError(
      `no Leash address book for chain ${chainId} at ${file} (${(error as Error).message}); deploy Leash on this ` +
        "chain and save its addresses there, or pass --addresses <file>",
      "--addresses",
    );
  }
  return parseLeashAddresses(raw, chainId, file);
}

/** Writes an address book (creating its folder); `chainId` as a decimal string. */
export async function saveLeashAddresses(file: string, addresses: LeashChainAddresses): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(leashAddressesToJson(addresses), null, 2) + "\n");
}

/**
 * Writes the agent's key and session config to `file` with mode 0600; refuses to overwrite an existing file.
 * The file holds a private key in plain text: move it to the agent and delete it here.
 */
export async function writeAgentKeyFile(file: string, key: HDNodeWallet, config: AgentSessionConfig): Promise<void> {
  const handle = await open(file, "wx", 0o600);
  try {
    await handle.chmod(0o600); // the umask cannot widen it, but make the mode explicit whatever the platform did
    await handle.writeFile(agentKeyFileContents(key, config));
  } finally {
    await handle.close();
  }
}

/** Reads a file written by {@link writeAgentKeyFile}; refuses one whose key does not match its address. */
export async function loadAgentKeyFile(file: string): Promise<AgentKeyFile> {
  return parseAgentKeyFile(await readFile(file, "utf8"), file);
}

/** Where `session grant` writes a session file by default: `<root>/sessions/<chainId>/<account>-<sessionId>.json`. */
export function defaultSessionFile(root: string, chainId: bigint, account: string, sessionId: number): string {
  return path.join(root, "sessions", chainId.toString(), `${account}-${sessionId}.json`);
}

/**
 * Throws unless `file` may receive the session file of `chainId`'s `account` / `sessionId`: it does not exist, or it
 * is a session file of that very session (a local chain started again). Anything else there (a signed grant, a key
 * file, another session) is never overwritten. Call it before anything is signed.
 */
export async function assertSessionFileWritable(
  file: string,
  chainId: bigint,
  account: string,
  sessionId: number,
): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return; // no file there
  }
  let existing: SessionFile | undefined;
  try {
    existing = parseSessionFile(text, file);
  } catch {
    existing = undefined;
  }
  if (
    existing === undefined ||
    existing.chainId !== chainId ||
    existing.account.toLowerCase() !== account.toLowerCase() ||
    existing.sessionId !== sessionId
  ) {
    throw new InvalidAddressError(
      `--session-out: ${file} exists and is not this session's file; give a new file (nothing was signed)`,
      "--session-out",
    );
  }
}

/**
 * Writes a session file (creating its folder), replacing only a session file of the same chain, account and session
 * id ({@link assertSessionFileWritable}).
 */
export async function writeSessionFile(file: string, contents: SessionFile): Promise<void> {
  await assertSessionFileWritable(file, contents.chainId, contents.account, contents.sessionId);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, sessionFileToJson(contents));
}

/** Reads a session file written by {@link writeSessionFile}; with `chainId`, refuses one for another chain. */
export async function loadSessionFile(file: string, chainId?: bigint): Promise<SessionFile> {
  return parseSessionFile(await readFile(file, "utf8"), file, chainId);
}

/** What {@link fromGrantFile} needs besides the file. */
export interface FromGrantFileOptions {
  /** The session's chain's JSON-RPC URL. */
  rpcUrl: string;
  /** The agent's session key: a private key, or ethers' SigningKey. */
  agentKey: string | SigningKey;
  /** A bundler's URL: ops go through it (`eth_estimateUserOperationGas`, `eth_sendUserOperation`). */
  bundlerUrl?: string;
  /** Without a bundler: a funded key that sends `handleOps` itself (and is refunded from the account's deposit). */
  submitterKey?: string;
  /** Gas limits and fees (default DEFAULT_SESSION_GAS_LIMITS, fees from the node). */
  gas?: Partial<UserOpGas>;
  caps?: GasCaps;
}

/**
 * The agent's handle on its session from the owner's session file (`session grant --agent` writes it): reads the
 * file, checks it is for the node's chain and that the key is the session's agent, and connects. See
 * {@link createSessionHandle} for `status()`, `canPay()`, `pay()` and `call()`. Call `close()` when done.
 */
export async function fromGrantFile(
  file: string,
  options: FromGrantFileOptions,
): Promise<SessionHandle & { close(): void }> {
  // Reads that get no answer (the node restarting, a timeout, a rate limit) are retried with backoff.
  const provider = new ResilientJsonRpcProvider(options.rpcUrl, { label: `node ${options.rpcUrl}` });
  try {
    const session = await loadSessionFile(file, (await provider.getNetwork()).chainId);
    let via: SendVia;
    if (options.bundlerUrl !== undefined) {
      via = { bundler: createBundlerClient({ url: options.bundlerUrl, entryPoint: session.entryPoint }) };
    } else if (options.submitterKey !== undefined) {
      via = { submitter: new Wallet(options.submitterKey, provider) };
    } else {
      throw new Error(`${file}: give bundlerUrl (a bundler sends the ops) or submitterKey (a key sends handleOps)`);
    }
    const handle = createSessionHandle({
      session,
      provider,
      agentKey: options.agentKey,
      via,
      gas: options.gas,
      caps: options.caps,
    });
    return { ...handle, close: () => provider.destroy() };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}
