/**
 * `npm run demo`: the whole Leash story with the owner's Ledger emulated (the real hardhat-ledger plugin signs
 * through it). By default it starts a local `hardhat node` and the Alto bundler against it, and the agent's ops go
 * through the bundler; `LEASH_DEMO_BUNDLER=0 npm run demo` runs it on the in-process network with ops sent straight
 * to `EntryPoint.handleOps` instead. Needs no network access.
 */
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { network } from "hardhat";

import { EmulatedLedger } from "../test/helpers/emulatedLedger.js";
import { OWNER_PATH, TEST_MNEMONIC } from "../test/helpers/fixture.js";
import { runDemo } from "./demo/story.js";
import { startAlto, startHardhatNode, type LocalService } from "./local/services.js";

const withBundler = process.env.LEASH_DEMO_BUNDLER !== "0";
/** Ignition's journal for the demo's own node (gitignored). */
const DEMO_DEPLOYMENT_ID = "leash-demo";
const DEMO_DEPLOYMENT_DIR = fileURLToPath(new URL(`../ignition/deployments/${DEMO_DEPLOYMENT_ID}`, import.meta.url));
const log = (line: string) => console.log(line);

const ledger = new EmulatedLedger(TEST_MNEMONIC);
ledger.install();
const owner = ledger.wallet(OWNER_PATH);
const services: LocalService[] = [];
try {
  if (withBundler) {
    log("0. Starting a local Hardhat node and the Alto bundler (@pimlico/alto) against it");
    const node = await startHardhatNode();
    services.push(node);
    const connection = await network.create({
      network: "localhost",
      override: { url: node.url, ledgerAccounts: [owner.address] },
    });
    // The node is new, so Ignition's journal of an earlier demo run must not be trusted.
    rmSync(DEMO_DEPLOYMENT_DIR, { recursive: true, force: true });
    await runDemo(connection, owner, log, {
      deploymentId: DEMO_DEPLOYMENT_ID,
      // The story deploys the EntryPoint v0.8 at its canonical address, the only one Alto recognises, first.
      startBundler: async (entryPoint) => {
        const alto = await startAlto(node.url, entryPoint);
        services.push(alto);
        return alto.url;
      },
    });
  } else {
    const connection = await network.create({ override: { ledgerAccounts: [owner.address] } });
    await runDemo(connection, owner, log);
  }
} finally {
  for (const service of services.reverse()) await service.stop();
  ledger.uninstall();
}
