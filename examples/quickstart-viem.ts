import { createPublicClient, encodeFunctionData, http, parseAbi, type Chain, type Hex } from "viem";
import { createBundlerClient } from "viem/account-abstraction";
import { privateKeyToAccount } from "viem/accounts";

import { toLeashSessionAccount, UserOpRefusedError, type LeashSession } from "../packages/viem/src/index.js";

const erc20 = parseAbi(["function transfer(address to, uint256 amount)"]);

/** Where the agent sends its ops, and the session it acts under (the owner's session file holds the latter). */
export interface Agent {
  chain: Chain;
  rpcUrl: string;
  bundlerUrl: string;
  session: LeashSession;
  /** The agent's session key. */
  agentKey: Hex;
}

/** Pays `amount` of `token` to `to` from the account, under the session, through the bundler. */
export async function payWithViem(agent: Agent, token: Hex, to: Hex, amount: bigint) {
  const client = createPublicClient({ chain: agent.chain, transport: http(agent.rpcUrl) });
  const account = await toLeashSessionAccount({
    client,
    bundlerTransport: http(agent.bundlerUrl), // the account estimates its gas with a real session signature
    session: agent.session,
    signer: privateKeyToAccount(agent.agentKey),
  });
  const bundler = createBundlerClient({ client, transport: http(agent.bundlerUrl) });
  try {
    const hash = await bundler.sendUserOperation({
      account,
      calls: [{ to: token, data: encodeFunctionData({ abi: erc20, functionName: "transfer", args: [to, amount] }) }],
    });
    const { success } = await bundler.waitForUserOperationReceipt({ hash });
    return success ? "paid" : "reverted in execution";
  } catch (error) {
    if (error instanceof UserOpRefusedError) return `refused (${error.name}): ${error.message}`;
    throw error;
  }
}
