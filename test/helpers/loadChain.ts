/**
 * What the load and fault tests share (issue 17, `npm run test:load`): a local Hardhat node, Leash deployed behind
 * the canonical EntryPoint v0.8, the Alto bundler (behind a fault-injecting proxy), owners' accounts funded with ETH
 * and USDC, and sessions granted to fresh agent keys by the owners' transactions, each with its session file and a
 * session handle that sends through the bundler.
 */
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { NonceManager, parseEther, parseUnits, Wallet, type Contract, type Signer } from "ethers";

import type { LeashChainAddresses } from "../../client/addresses.js";
import { createBundlerClient } from "../../client/bundler.js";
import { prepareGrant } from "../../client/grant.js";
import { createAccount, getAccountAddress, grantSession, revokeSession } from "../../client/owner.js";
import { sessionFileOf, type SessionFile } from "../../client/sessionFile.js";
import { createSessionHandle, type SessionHandle } from "../../client/sessionHandle.js";
import { ResilientJsonRpcProvider } from "../../client/transport.js";
import { ensureEntryPoint } from "../../deploy/entryPoint.js";
import { startAlto, startHardhatNode, type LocalService } from "../../scripts/local/services.js";
import { deployLeashBehind } from "./fixture.js";
import { startRpcProxy, type RpcProxy } from "./rpcProxy.js";

/** Errors and retries the clients met, counted by where they came from. */
export interface FaultCounters {
  nodeRetries: number;
  bundlerRetries: number;
  resubmits: number;
}

/** One chain with Leash, Alto behind a proxy, and a proxy in front of the node for the agents. */
export interface LoadChain {
  node: LocalService;
  connection: NetworkConnection;
  addresses: LeashChainAddresses;
  usdc: Contract;
  /** A token no session may touch (its transfers are out of scope). */
  other: Contract;
  owner: Signer;
  ownerAddress: string;
  /** The agents' way to the node (faults injected here). */
  nodeProxy: RpcProxy;
  /** The agents' way to Alto (faults injected here; `restartAlto` re-points it). */
  bundlerProxy: RpcProxy;
  alto: LocalService;
  counters: FaultCounters;
  /** Stops Alto (its mempool is lost) and starts a new one; the proxy follows it. */
  restartAlto(pauseMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startLoadChain(): Promise<LoadChain> {
  const node = await startHardhatNode();
  const connection = await network.create({ network: "localhost", override: { url: node.url } });
  const { ethers } = connection;
  const [deployer, ownerSigner] = await ethers.getSigners();
  const entryPoint = await ensureEntryPoint(ethers.provider, deployer!);
  const leash = await deployLeashBehind(ethers, entryPoint);
  const usdc = (await ethers.deployContract("TestToken", ["USD Coin", "USDC", 6])) as unknown as Contract;
  const other = (await ethers.deployContract("TestToken", ["Other", "OTH", 18])) as unknown as Contract;
  const { chainId } = await ethers.provider.getNetwork();
  const addresses: LeashChainAddresses = {
    chainId,
    entryPoint,
    factory: await leash.factory.getAddress(),
    ownerModule: await leash.ownerModule.getAddress(),
    sessionModule: await leash.sessionModule.getAddress(),
    spendLimitHook: await leash.spendLimitHook.getAddress(),
    tokens: { USDC: await usdc.getAddress() },
    fromBlock: 0,
  };
  let alto = await startAlto(node.url, entryPoint);
  const bundlerProxy = await startRpcProxy(alto.url);
  const nodeProxy = await startRpcProxy(node.url);
  const chain: LoadChain = {
    node,
    connection,
    addresses,
    usdc,
    other,
    owner: new NonceManager(ownerSigner!),
    ownerAddress: await ownerSigner!.getAddress(),
    nodeProxy,
    bundlerProxy,
    alto,
    counters: { nodeRetries: 0, bundlerRetries: 0, resubmits: 0 },
    async restartAlto(pauseMs = 0) {
      await alto.stop();
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      alto = await startAlto(node.url, entryPoint);
      chain.alto = alto;
      bundlerProxy.upstream = alto.url;
    },
    async stop() {
      await bundlerProxy.close();
      await nodeProxy.close();
      await alto.stop();
      await node.stop();
    },
  };
  return chain;
}

/** A funded account of the chain's owner (salt `salt`): 1 ETH and 1,000 USDC. */
export async function fundedAccount(chain: LoadChain, salt: bigint): Promise<string> {
  const { ethers } = chain.connection;
  const [deployer] = await ethers.getSigners();
  await createAccount({ signer: deployer!, addresses: chain.addresses, salt, owner: chain.ownerAddress });
  const { account } = await getAccountAddress({
    provider: ethers.provider,
    addresses: chain.addresses,
    owner: chain.ownerAddress,
    salt,
  });
  await (await deployer!.sendTransaction({ to: account, value: parseEther("1") })).wait();
  await (await chain.usdc.getFunction("mint")(account, parseUnits("1000", 6))).wait();
  return account;
}

/** A session granted on chain: its file, its agent's key, and the recipients it may pay. */
export interface LoadSession {
  file: SessionFile;
  agentKey: string;
  recipients: string[];
  /** The USDC budget (base units a day). */
  usdcLimit: bigint;
  nativeLimit: bigint;
}

/** Grants a session on `account` to a fresh agent key: USDC `transfer` to two fresh recipients only, budgets. */
export async function grantLoadSession(
  chain: LoadChain,
  account: string,
  budgets: { usdc: string; eth: string } = { usdc: "20", eth: "0.1" },
): Promise<LoadSession> {
  const { ethers } = chain.connection;
  const agent = Wallet.createRandom();
  const recipients = [Wallet.createRandom().address, Wallet.createRandom().address];
  const usdc = chain.addresses.tokens.USDC!;
  const plan = await prepareGrant({
    provider: ethers.provider,
    addresses: chain.addresses,
    owner: chain.ownerAddress,
    input: {
      account,
      agent: agent.address,
      ttl: "24h",
      allow: [`${usdc}:transfer(address,uint256)`],
      budgets: [`${budgets.usdc} USDC/day`, `${budgets.eth} ETH/day`],
    },
  });
  // The recipients are the session's own, so what left to them is what this session spent.
  plan.session.scope[0]!.rules = recipients.map((recipient) => ({ argument: 0, op: "eq", value: BigInt(recipient) }));
  await grantSession({ signer: chain.owner, plan });
  return {
    file: sessionFileOf(plan),
    agentKey: agent.privateKey,
    recipients,
    usdcLimit: parseUnits(budgets.usdc, 6),
    nativeLimit: parseEther(budgets.eth),
  };
}

/** The owner revokes `session` by transaction; returns where the revocation was mined. */
export async function revoke(chain: LoadChain, session: LoadSession) {
  return revokeSession({
    signer: chain.owner,
    target: { addresses: chain.addresses, account: session.file.account, sessionId: session.file.sessionId },
  });
}

/**
 * The agent's handle on `session`: reads through the node proxy, sends through the bundler proxy, with retries
 * counted in `chain.counters`.
 */
export function agentHandle(
  chain: LoadChain,
  session: LoadSession,
  options: { agentKey?: string; timeoutMs?: number } = {},
): SessionHandle & { provider: ResilientJsonRpcProvider } {
  const provider = new ResilientJsonRpcProvider(chain.nodeProxy.url, {
    network: chain.addresses.chainId,
    label: "node",
    policy: { deadlineMs: 60_000, requestTimeoutMs: 5_000 },
  });
  provider.onRetry = () => (chain.counters.nodeRetries += 1);
  const bundler = createBundlerClient({
    url: chain.bundlerProxy.url,
    entryPoint: session.file.entryPoint,
    retry: { deadlineMs: 60_000, requestTimeoutMs: 5_000 },
  });
  (bundler.provider as ResilientJsonRpcProvider).onRetry = () => (chain.counters.bundlerRetries += 1);
  const handle = createSessionHandle({
    session: session.file,
    provider,
    agentKey: options.agentKey ?? session.agentKey,
    via: { bundler },
    timeoutMs: options.timeoutMs ?? 120_000,
    onResubmit: () => (chain.counters.resubmits += 1),
  });
  return { ...handle, provider };
}
