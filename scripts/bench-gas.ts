/**
 * `npm run bench:gas`: runs the gas benchmark (scripts/gas/benchmark.ts), writes gas-report.json and prints the
 * markdown table. With LEASH_UPDATE_GAS_BASELINE=1 it also rewrites docs/gas-baseline.json, the figures the
 * regression guard in `npm test` compares against: commit that file deliberately, with the reason.
 */
import { writeFileSync } from "node:fs";

import { network } from "hardhat";

import { formatGasTable, runGasBenchmark } from "./gas/benchmark.js";

const { ethers, networkHelpers } = await network.create();
const rows = await runGasBenchmark(ethers, networkHelpers);
writeFileSync("gas-report.json", JSON.stringify(rows, null, 2) + "\n");
if (process.env.LEASH_UPDATE_GAS_BASELINE === "1") {
  writeFileSync("docs/gas-baseline.json", JSON.stringify(rows, null, 2) + "\n");
  console.log("docs/gas-baseline.json updated");
}
console.log(formatGasTable(rows));
