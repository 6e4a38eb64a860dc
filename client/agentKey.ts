/**
 * The agent's session key, when the owner's machine generates it (`session grant --generate-agent-key <file>`):
 * created in memory, written only to the file asked for, with mode 0600, never over an existing file, and never
 * printed (THREATS 20). Otherwise the agent generates its key itself ({@link createAgentKey}), keeps it with
 * {@link writeAgentKeyFile} if it must survive restarts, and hands the owner only its address.
 */
import { open, readFile } from "node:fs/promises";

import { getAddress, Wallet, type HDNodeWallet } from "ethers";

/** What the agent needs besides its key to use the session. */
export interface AgentSessionConfig {
  chainId: string;
  account: string;
  sessionId: number;
  sessionModule: string;
  spendLimitHook: string;
  entryPoint: string;
}

/** A fresh random session key (kept in memory until {@link writeAgentKeyFile}). */
export function createAgentKey(): HDNodeWallet {
  return Wallet.createRandom();
}

/**
 * Writes the agent's key and session config to `file` with mode 0600; refuses to overwrite an existing file.
 * The file holds a private key in plain text: move it to the agent and delete it here.
 */
export async function writeAgentKeyFile(file: string, key: HDNodeWallet, config: AgentSessionConfig): Promise<void> {
  const handle = await open(file, "wx", 0o600);
  try {
    await handle.chmod(0o600); // the umask cannot widen it, but make the mode explicit whatever the platform did
    await handle.writeFile(
      JSON.stringify({ address: key.address, privateKey: key.privateKey, ...config }, null, 2) + "\n",
    );
  } finally {
    await handle.close();
  }
}

/** A key file read back: the agent's key and the session it was written for. */
export interface AgentKeyFile {
  key: Wallet;
  config: AgentSessionConfig;
}

/** Reads a file written by {@link writeAgentKeyFile}; refuses one whose key does not match its address. */
export async function loadAgentKeyFile(file: string): Promise<AgentKeyFile> {
  const parsed = JSON.parse(await readFile(file, "utf8")) as Partial<AgentSessionConfig> & {
    address?: string;
    privateKey?: string;
  };
  const { address, privateKey, ...config } = parsed;
  if (typeof privateKey !== "string" || typeof address !== "string") {
    throw new Error(`${file} is not an agent key file (it needs "address" and "privateKey"): was it written by Leash?`);
  }
  const key = new Wallet(privateKey);
  if (key.address !== getAddress(address)) {
    throw new Error(`${file}: its private key is not the key of ${address}; the file is damaged`);
  }
  return { key, config: config as AgentSessionConfig };
}
