/**
 * `npx hardhat run scripts/bench-compat.ts`: sessions across ERC-6900 accounts (issue #14, item 5), measured in one
 * run on one in-process network with GAS.md's method (scripts/gas/compat.ts). Prints a markdown table, then notes.
 * LEASH_COMPAT_ACCOUNTS=reference,mav2-semi measures only those accounts.
 */
import { network } from "hardhat";

import { COMPAT_KINDS, formatCompatTable, runCompatBenchmark } from "./gas/compat.js";

const selected = process.env.LEASH_COMPAT_ACCOUNTS?.split(",");
const kinds = COMPAT_KINDS.filter((kind) => selected?.includes(kind) ?? true);
if (kinds.length === 0) throw new Error(`LEASH_COMPAT_ACCOUNTS: none of ${COMPAT_KINDS.join(", ")}`);

const { ethers, networkHelpers } = await network.create();
const { rows, notes } = await runCompatBenchmark(ethers, networkHelpers, kinds);
console.log(
  "EntryPoint v0.8, Hardhat in-process network, one op per handleOps, gasUsed of the handleOps transaction, " +
    "measured after one warm-up op of each transfer (0.01 ETH / 1 USDC to a fixed recipient); overhead = setup − " +
    "the owner's op on the same account.\n",
);
console.log(formatCompatTable(rows));
if (notes.length > 0) console.log("\n" + notes.map((note) => `- ${note}`).join("\n"));
