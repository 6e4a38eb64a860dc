/**
 * Gas regression guard: the benchmark's figures may not grow more than 2 % over the committed baseline
 * (docs/gas-baseline.json). Updating the baseline is a deliberate commit: `LEASH_UPDATE_GAS_BASELINE=1 npm run bench:gas`.
 */
import { readFileSync } from "node:fs";

import { expect } from "chai";
import { network } from "hardhat";

import { COVERAGE_RUN } from "../helpers/coverage.js";
import { runGasBenchmark, SCENARIOS, type GasReportRow } from "../../scripts/gas/benchmark.js";

/** Largest accepted growth of a figure over its baseline. */
const TOLERANCE = 0.02;

const baseline = JSON.parse(
  readFileSync(new URL("../../docs/gas-baseline.json", import.meta.url), "utf8"),
) as GasReportRow[];

describe("gas regression guard", function () {
  this.timeout(120_000);

  it("keeps every figure of the benchmark within 2 % of the committed baseline", async function () {
    // Coverage instrumentation adds gas: figures are only compared in `npm test`.
    if (COVERAGE_RUN) this.skip();
    const { ethers, networkHelpers } = await network.create();
    const current = await runGasBenchmark(ethers, networkHelpers);
    const regressions: string[] = [];
    for (const row of current) {
      const before = baseline.find((b) => b.scenario === row.scenario);
      if (before === undefined) {
        regressions.push(`${row.scenario}: no baseline (update docs/gas-baseline.json)`);
        continue;
      }
      const growth = (row.gasUsed - before.gasUsed) / before.gasUsed;
      if (growth > TOLERANCE) {
        regressions.push(
          `${row.scenario}: ${before.gasUsed} -> ${row.gasUsed} gas (+${(growth * 100).toFixed(2)} %, more than 2 %)`,
        );
      }
    }
    expect(regressions, regressions.join("\n")).to.deep.equal([]);
  });

  it("has a baseline figure for every GAS.md scenario", function () {
    expect(baseline.map((row) => row.scenario)).to.include.members([...SCENARIOS]);
  });
});
