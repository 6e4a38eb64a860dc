/**
 * `@leashkit/hardhat`: Leash's owner tasks as a Hardhat 3 plugin. Add it to `hardhat.config.ts` beside
 * `@nomicfoundation/hardhat-ledger`:
 *
 * ```ts
 * import hardhatLedgerPlugin from "@nomicfoundation/hardhat-ledger";
 * import leashPlugin from "@leashkit/hardhat";
 *
 * export default defineConfig({ plugins: [hardhatLedgerPlugin, leashPlugin], ... });
 * ```
 *
 * and run `npx hardhat account create`, `npx hardhat session grant`, `session revoke`, `session revoke-all` (the kill
 * switch), `session cancel`, `session submit`, `session list`, `session status`. The owner signs on the Ledger the
 * network's `ledgerAccounts` names (hardhat-ledger); what each task shows and checks: the tasks' README.
 */
import type { HardhatPlugin } from "hardhat/types/plugins";

import { leashTasks } from "./tasks/index.js";

const leashPlugin: HardhatPlugin = {
  id: "@leashkit/hardhat",
  npmPackage: "@leashkit/hardhat",
  // The tasks read and send through hardhat-ethers' provider and signers, and sign on the Ledger through
  // hardhat-ledger's (which also shows ordinary transactions on the device).
  dependencies: () => [import("@nomicfoundation/hardhat-ethers"), import("@nomicfoundation/hardhat-ledger")],
  tasks: leashTasks,
};

export default leashPlugin;
