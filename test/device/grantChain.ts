/**
 * The chain, deployment and stand-in services the device suite signs grants against.
 *
 * The local chain runs under Sepolia's chain id (11155111), a network the app knows: the app refuses token
 * information for a chain it does not know (31337), and names the network and its currency only for known ones. Token
 * information and display rules are signed with Ledger's public test key and served by a local stand-in of Ledger's
 * services: ETH at the zero address, the test USDC, and Leash's pseudo-assets (operations counted, gas a paymaster
 * sponsors, the fee per gas it may be charged), as a Ledger-signed list would have to name them.
 */
import { ZeroAddress } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";
import { network } from "hardhat";

import { OPERATIONS_ASSET, SPONSORED_FEE_ASSET, SPONSORED_GAS_ASSET } from "../../client/session.js";
import { startCalStandIn, type CalStandIn } from "../helpers/calStandIn.js";
import { deployForTasks, deployOwnerAccount, taskOwner } from "../helpers/tasks.js";

/** A chain id the app knows (Sepolia), so that it accepts token information and names the network. */
export const DEVICE_CHAIN_ID = 11155111;

/** What the app shows under "Network" for {@link DEVICE_CHAIN_ID}. */
export const DEVICE_NETWORK_NAME = "Sepolia";

/** A deployment with the owner's account, on a chain the app knows, and the stand-in services. */
export interface GrantChain {
  connection: NetworkConnection;
  f: Awaited<ReturnType<typeof deployForTasks>> & { account: string };
  cal: CalStandIn;
  /** A funded account of the network that is not the Ledger (submits what the owner signed). */
  relayer: string;
  close(): Promise<void>;
}

/** Deploys Leash and the owner's account on a fresh chain under {@link DEVICE_CHAIN_ID} and starts the stand-in. */
export async function startGrantChain(): Promise<GrantChain> {
  const connection = await network.create({
    override: { chainId: DEVICE_CHAIN_ID, ledgerAccounts: [taskOwner.address] },
  });
  const deployed = await deployForTasks(connection);
  const account = await deployOwnerAccount(connection, deployed);
  const f = { ...deployed, account };
  const cal = await startCalStandIn({
    chainId: f.addresses.chainId,
    sessionModule: f.addresses.sessionModule,
    tokens: [
      { address: ZeroAddress, ticker: "ETH", decimals: 18 },
      { address: f.addresses.tokens.USDC!, ticker: "USDC", decimals: 6 },
      { address: OPERATIONS_ASSET, ticker: "ops", decimals: 0 },
      { address: SPONSORED_GAS_ASSET, ticker: "ETH gas", decimals: 18 },
      { address: SPONSORED_FEE_ASSET, ticker: "gwei/gas", decimals: 9 },
    ],
  });
  const relayer = (await connection.ethers.getSigners())[7]!.address;
  return {
    connection,
    f,
    cal,
    relayer,
    async close() {
      await cal.stop();
      await connection.close();
    },
  };
}
