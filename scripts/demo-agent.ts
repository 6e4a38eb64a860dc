/**
 * `npm run demo:agent`: the agent's side (scripts/demo/agentStory.ts): an ERC-7715 permission request, the owner's
 * review and signature on the emulated Ledger, the agent acting through its MCP server driven by a scripted MCP
 * client, and the kill switch. Starts its own local `hardhat node`; needs no network access.
 */
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { network } from "hardhat";
import { HDNodeWallet } from "ethers";

import { EmulatedLedger } from "../test/helpers/emulatedLedger.js";
import { OWNER_PATH, TEST_MNEMONIC } from "../test/helpers/fixture.js";
import { runAgentDemo } from "./demo/agentStory.js";
import { startHardhatNode } from "./local/services.js";

const DEPLOYMENT_ID = "leash-agent-demo";
const DEPLOYMENT_DIR = fileURLToPath(new URL(`../ignition/deployments/${DEPLOYMENT_ID}`, import.meta.url));

const ledger = new EmulatedLedger(TEST_MNEMONIC);
ledger.install();
const owner = ledger.wallet(OWNER_PATH);
const node = await startHardhatNode();
try {
  const connection = await network.create({
    network: "localhost",
    override: { url: node.url, ledgerAccounts: [owner.address] },
  });
  rmSync(DEPLOYMENT_DIR, { recursive: true, force: true });
  // The MCP server's submitter: the node's second default account (a hot key, funded by the node).
  const submitter = HDNodeWallet.fromPhrase(TEST_MNEMONIC, undefined, "m/44'/60'/0'/0/1");
  await runAgentDemo(connection, node.url, owner, submitter.privateKey, (line) => console.log(line), DEPLOYMENT_ID);
} finally {
  await node.stop();
  ledger.uninstall();
}
