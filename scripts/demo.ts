/**
 * `npm run demo`: the whole Leash story on a local Hardhat network, with the owner's Ledger emulated (the real
 * hardhat-ledger plugin signs through it). Takes a few seconds, needs no network access.
 */
import { network } from "hardhat";

import { EmulatedLedger } from "../test/helpers/emulatedLedger.js";
import { OWNER_PATH, TEST_MNEMONIC } from "../test/helpers/fixture.js";
import { runDemo } from "./demo/story.js";

const ledger = new EmulatedLedger(TEST_MNEMONIC);
ledger.install();
const owner = ledger.wallet(OWNER_PATH);
const connection = await network.create({ override: { ledgerAccounts: [owner.address] } });
try {
  await runDemo(connection, owner, (line) => console.log(line));
} finally {
  ledger.uninstall();
}
