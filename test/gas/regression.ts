/**
 * Gas regression guard: the benchmark's figures may not grow more than 2 % over the committed baseline
 * (docs/gas-baseline.json). Updating the baseline is a deliberate commit: `LEASH_UPDATE_GAS_BASELINE=1 npm run bench:gas`.
 */
import { readFileSync } from "node:fs";

import { expect } from "chai";
import { network } from "hardhat";

import { COVERAGE_RUN } from "../helpers/coverage.js";
import {
  runGasBenchmark,
  SCENARIOS,
  type GasReportRow,
  type MeasuredTransactions,
} from "../../scripts/gas/benchmark.js";
import { ownGas, profileTransaction, type FrameProfile, type GasProfile } from "../../scripts/gas/profile.js";

/** Largest accepted growth of a figure over its baseline. */
const TOLERANCE = 0.02;

const baseline = JSON.parse(
  readFileSync(new URL("../../docs/gas-baseline.json", import.meta.url), "utf8"),
) as GasReportRow[];

describe("gas regression guard", function () {
  this.timeout(120_000);

  let current: GasReportRow[] = [];
  let sessionNative: GasProfile | undefined;

  before(async function () {
    // Coverage instrumentation adds gas: figures are only measured in `npm test`.
    if (COVERAGE_RUN) return;
    const { ethers, networkHelpers } = await network.create();
    const measured: MeasuredTransactions = { hashes: new Map(), labels: {} };
    current = await runGasBenchmark(ethers, networkHelpers, measured);
    sessionNative = await profileTransaction(ethers, measured.hashes.get("session.native") ?? "", measured.labels);
  });

  it("keeps every figure of the benchmark within 2 % of the committed baseline", function () {
    if (COVERAGE_RUN) this.skip();
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

  it("accounts for every unit of session.native's gas in the opcode profile (docs/GAS.md's breakdown)", function () {
    if (sessionNative === undefined) this.skip();
    const profile = sessionNative;
    const own = profile.frames.reduce((sum, frame) => sum + ownGas(frame), 0);
    expect(profile.intrinsic + own - profile.refund).to.equal(profile.gasUsed);
    expect(profile.gasUsed).to.equal(current.find((row) => row.scenario === "session.native")?.gasUsed);
  });

  it("reads the install slot and the budget cold and records the op's declared spend once in validation, then only the token list cold and no write in the execution hooks (steady-state native spend)", function () {
    if (sessionNative === undefined) this.skip();
    // Validation hook, pre execution hook, post execution hook, in that order.
    const hook = sessionNative.frames.filter((frame) => frame.path.endsWith("> spendLimitHook"));
    expect(
      hook.map((frame) => ({ cold: frame.coldSload, warm: frame.warmSload, sstore: frame.sstoreGas })),
    ).to.deep.equal([
      { cold: 2, warm: 0, sstore: 2_900 },
      // The session's one budgeted token (USDC), for the balance snapshot; the install slot is warm.
      { cold: 1, warm: 1, sstore: 0 },
      // The install slot, warm; nothing left beyond what validation recorded, so nothing is written.
      { cold: 0, warm: 1, sstore: 0 },
    ]);
  });

  it("has a baseline figure for every GAS.md scenario", function () {
    expect(baseline.map((row) => row.scenario)).to.include.members([...SCENARIOS]);
  });
});
