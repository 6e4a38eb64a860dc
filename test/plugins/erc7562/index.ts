/**
 * A Hardhat plugin for the test suite: every `handleOps` transaction sent on an in-process network has each of its
 * ops' account validations traced first and checked against the ERC-7562 rules (test/helpers/erc7562.ts); a
 * violation fails the transaction with the list of rules broken. So every op the suite sends is checked, whoever
 * sends it (test helpers, the client, the demo, the example agent), not a hand-picked few.
 * Skipped under `--coverage`, whose instrumented bytecode is not what ships.
 */
import type { HardhatPlugin } from "hardhat/types/plugins";

const erc7562CheckPlugin: HardhatPlugin = {
  id: "leash-erc7562-check",
  hookHandlers: {
    network: () => import("./network.js"),
  },
};

export default erc7562CheckPlugin;
