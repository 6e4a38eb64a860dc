/**
 * The agent's session key, when the owner's machine generates it (`session grant --generate-agent-key <file>`):
 * created in memory, written only to the file asked for, with mode 0600, never over an existing file, and never
 * printed (THREATS 20). Otherwise the agent generates its key itself ({@link createAgentKey}), keeps it with
 * `writeAgentKeyFile` (client/node.ts) if it must survive restarts, and hands the owner only its address.
 */
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

/** A fresh random session key (kept in memory until written, e.g. by `writeAgentKeyFile` of client/node.ts). */
export function createAgentKey(): HDNodeWallet {
  return Wallet.createRandom();
}

/** A key file read back: the agent's key and the session it was written for. */
export interface AgentKeyFile {
  key: Wallet;
  config: AgentSessionConfig;
}

/** What a key file holds, as JSON: the key's address and private key, then its session's coordinates. */
export function agentKeyFileContents(key: HDNodeWallet | Wallet, config: AgentSessionConfig): string {
  return JSON.stringify({ address: key.address, privateKey: key.privateKey, ...config }, null, 2) + "\n";
}

/** Reads a key file's JSON (`source` names it in messages); refuses one whose key does not match its address. */
export function parseAgentKeyFile(text: string, source: string): AgentKeyFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error, which may be the key: say nothing of the text.
    throw new Error(`${source} is not JSON: is it the agent key file Leash wrote? (its content is not shown)`);
  }
  const parsed = json as Partial<AgentSessionConfig> & {
    address?: string;
    privateKey?: string;
  };
  const { address, privateKey, ...config } = parsed;
  if (typeof privateKey !== "string" || typeof address !== "string") {
    throw new Error(
      `${source} is not an agent key file (it needs "address" and "privateKey"): was it written by Leash?`,
    );
  }
  const key = new Wallet(parseAgentPrivateKey(privateKey, source));
  if (key.address !== getAddress(address)) {
    throw new Error(`${source}: its private key is not the key of ${address}; the file is damaged`);
  }
  return { key, config: config as AgentSessionConfig };
}

/**
 * The agent's private key as ethers takes it: trimmed, `0x`-prefixed, 32 bytes. Throws an error that names `source`
 * and never quotes the value (ethers' own error would print the key: THREATS 20).
 */
export function parseAgentPrivateKey(value: string, source: string): string {
  const trimmed = value.trim();
  const hex = trimmed.startsWith("0x") || trimmed.startsWith("0X") ? trimmed.slice(2) : trimmed;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new Error(`${source}: the agent key is not a private key (32 bytes, 64 hex digits); it is not shown here`);
  }
  return `0x${hex}`;
}
