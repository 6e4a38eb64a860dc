/**
 * `npm run bench:gas`: runs the gas benchmark (scripts/gas/benchmark.ts), writes gas-report.json and prints the
 * markdown table. With LEASH_UPDATE_GAS_BASELINE=1 it also rewrites docs/gas-baseline.json, the figures the
 * regression guard in `npm test` compares against: commit that file deliberately, with the reason. With
 * LEASH_GAS_PROFILE=1 it also prints where the gas of the transfers goes, frame by frame, from an opcode trace
 * (LEASH_GAS_PROFILE=session.grant.tx,session.revoke: of the scenarios named).
 */
import { writeFileSync } from "node:fs";

import { network } from "hardhat";

import { formatGasTable, runGasBenchmark, type MeasuredTransactions } from "./gas/benchmark.js";
import { formatProfile, profileTransaction } from "./gas/profile.js";

/** Scenarios whose opcode trace LEASH_GAS_PROFILE=1 prints (the breakdown in docs/GAS.md); or name them. */
const PROFILE = process.env.LEASH_GAS_PROFILE;
const PROFILED =
  PROFILE === "1"
    ? ["owner.native", "session.native", "session.native.noHook", "owner.erc20", "session.erc20"]
    : (PROFILE ?? "").split(",").filter((name) => name !== "");

const { ethers, networkHelpers } = await network.create();
const measured: MeasuredTransactions = { hashes: new Map(), labels: {} };
const rows = await runGasBenchmark(ethers, networkHelpers, measured);
writeFileSync("gas-report.json", JSON.stringify(rows, null, 2) + "\n");
if (process.env.LEASH_UPDATE_GAS_BASELINE === "1") {
  writeFileSync("docs/gas-baseline.json", JSON.stringify(rows, null, 2) + "\n");
  console.log("docs/gas-baseline.json updated");
}
console.log(formatGasTable(rows));
for (const scenario of PROFILED) {
  const hash = measured.hashes.get(scenario);
  if (hash === undefined) throw new Error(`LEASH_GAS_PROFILE: no scenario ${scenario} (see gas-report.json)`);
  console.log("\n" + formatProfile(scenario, await profileTransaction(ethers, hash, measured.labels)));
}
