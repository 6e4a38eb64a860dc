/**
 * The coverage gate's logic (scripts/coverage-gate.ts) on small inputs: the lcov parser, the AST branch classifier,
 * how vouchers are checked. Runs in `npm test` without running coverage.
 */
import { readFileSync } from "node:fs";

import { addStatementCoverageInstrumentation } from "@nomicfoundation/edr";
import { expect } from "chai";

import {
  attributeProbes,
  checkVouchers,
  classifyBranches,
  collectTestNames,
  evaluateBranches,
  excusedLines,
  formatRanges,
  hasUnreachableComment,
  insertProbes,
  lineFigures,
  lineOfOffset,
  mochaTitles,
  parseLcov,
  parseSolidity,
  PROBE_PREFIX,
  THRESHOLDS,
  type Branch,
} from "../../scripts/coverage-gate.js";

const LCOV = [
  "TN:",
  "SF:a.sol",
  "DA:3,1",
  "DA:4,0",
  "DA:5,2",
  "LH:2",
  "LF:3",
  "end_of_record",
  "SF:b.sol",
  "DA:1,0",
].join("\n");

/** A contract whose branches cover each case of the classifier; line numbers are asserted below. */
const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;
contract C {
    error E();
    function f(uint256 a) external returns (uint256 r) {
        if (a == 1) revert E();
        r = a;
        if (a == 2) {
            r = 2;
        } else {
            r = 3;
        }
        if (a == 4) r = 4;
        r = a > 5 ? 1 : 2;
        for (uint256 i; i < a; ++i) {
            if (i == 3) continue;
        }
        if (a == 6) {
            if (a > 0) return 1;
            else revert E();
        }
        try this.g() {
            r = 7;
        } catch {}
        if (a == 8) revert("eight");
    }
    function g() external {}
}
`;

function sides(branches: Branch[], line: number): Record<string, number | string | undefined> {
  return Object.fromEntries(
    branches.filter((b) => b.line === line).map((b) => [b.side, b.witnessLine ?? `underivable: ${b.underivable}`]),
  );
}

describe("coverage gate", function () {
  describe("parseLcov", function () {
    it("maps each file's lines to their execution counts", function () {
      const files = parseLcov(LCOV);
      expect([...files.keys()]).to.deep.equal(["a.sol", "b.sol"]);
      expect([...files.get("a.sol")!]).to.deep.equal([
        [3, 1],
        [4, 0],
        [5, 2],
      ]);
      expect([...files.get("b.sol")!]).to.deep.equal([[1, 0]]);
    });

    it("reports a DA record outside a file section", function () {
      expect(() => parseLcov("DA:1,1")).to.throw("lcov: DA record outside a file section");
    });
  });

  describe("lineFigures and formatRanges", function () {
    it("counts hit and found lines and lists the uncovered ones in ranges", function () {
      const figures = lineFigures(
        new Map([
          [1, 1],
          [2, 0],
          [3, 0],
          [4, 0],
          [7, 0],
          [9, 3],
        ]),
      );
      expect(figures).to.deep.include({ found: 6, hit: 2, uncovered: [2, 3, 4, 7] });
      expect(formatRanges(figures.uncovered)).to.equal("2-4, 7");
    });
  });

  describe("classifyBranches", function () {
    const branches = classifyBranches(parseSolidity(SOURCE), SOURCE);

    it("derives an if-revert's false side from the statement that follows it", function () {
      expect(sides(branches, 6)).to.deep.equal({ true: 6, false: 7 });
    });

    it("derives both sides of an if / else from their bodies' first lines", function () {
      expect(sides(branches, 8)).to.deep.equal({ true: 9, false: 11 });
    });

    it("leaves the false side of an if whose body falls through to a voucher", function () {
      expect(sides(branches, 13)).to.deep.equal({
        true: 13,
        false: "underivable: no else and the true body falls through",
      });
    });

    it("leaves both sides of a ternary to a voucher", function () {
      expect(sides(branches, 14)).to.deep.equal({
        true: "underivable: ?: is an expression; expressions are not instrumented",
        false: "underivable: ?: is an expression; expressions are not instrumented",
      });
    });

    it("leaves the false side of an if last in its block to a voucher", function () {
      expect(sides(branches, 16)).to.deep.equal({
        true: 16,
        false: "underivable: no else and no statement after the if",
      });
    });

    it("treats an if whose both sides return or revert as terminating", function () {
      expect(sides(branches, 18)).to.deep.equal({ true: 19, false: 22 });
      expect(sides(branches, 19)).to.deep.equal({ true: 19, false: 20 });
    });

    it("makes each try clause a branch and an empty clause a voucher", function () {
      expect(sides(branches, 22)).to.deep.equal({ success: 23, "catch 1": "underivable: the clause body is empty" });
    });

    it("treats revert(...) called as a function as terminating", function () {
      expect(sides(branches, 25)).to.deep.equal({
        true: 25,
        false: "underivable: no else and no statement after the if",
      });
    });

    it("maps solc's byte offsets to lines past multi-byte characters", function () {
      const lineOf = lineOfOffset("// ≥\nx\n");
      expect(lineOf(Buffer.byteLength("// ≥\n"))).to.equal(2);
      expect(lineOf(0)).to.equal(1);
    });
  });

  describe("evaluateBranches", function () {
    const file = "C.sol";
    const branches: Branch[] = [
      { kind: "if", line: 6, side: "true", witnessLine: 6 },
      { kind: "if", line: 6, side: "false", witnessLine: 7 },
      { kind: "if", line: 13, side: "false", underivable: "no else and the true body falls through" },
    ];
    const source = SOURCE.replace(
      "if (a == 1) revert E();",
      "if (a == 1) revert E(); // coverage: unreachable because x",
    );
    const names = new Set(["passes through when a is not 4"]);

    it("counts sides whose witness line executed as derived", function () {
      const lines = new Map([
        [6, 1],
        [7, 1],
      ]);
      const report = evaluateBranches(
        file,
        branches,
        lines,
        { "C.sol:13": "passes through when a is not 4" },
        names,
        source,
      );
      expect(report).to.deep.equal({ total: 3, derivedCovered: 2, vouched: 1, unreachable: 0, problems: [] });
    });

    it("fails a side never taken, an unknown test name and a stale entry", function () {
      const lines = new Map([
        [6, 0],
        [7, 1],
      ]);
      const vouchers = { "C.sol:13": "no such test", "C.sol:99": "passes through when a is not 4" };
      const report = evaluateBranches(file, branches, lines, vouchers, names, SOURCE);
      expect(report.problems).to.deep.equal([
        "C.sol:6 (if true): never taken (line 6 did not execute)",
        'C.sol:13 (if false): no test named "no such test" in the suite',
        'test/coverage/branches.json: stale entry "C.sol:99" (no branch there needs it)',
      ]);
    });

    it("refuses to let a test name vouch for a side the line data shows untaken", function () {
      const lines = new Map([
        [6, 0],
        [7, 1],
      ]);
      const vouchers = { "C.sol:6": "passes through when a is not 4", "C.sol:13": "passes through when a is not 4" };
      const report = evaluateBranches(file, branches, lines, vouchers, names, SOURCE);
      expect(report.problems).to.deep.equal([
        'C.sol:6 (if true): vouched by "passes through when a is not 4" but the line data says it was never taken (line 6)',
      ]);
    });

    it("accepts an unreachable entry only with the source comment", function () {
      const lines = new Map([
        [6, 0],
        [7, 1],
      ]);
      const vouchers = { "C.sol:6": "unreachable: x", "C.sol:13": "passes through when a is not 4" };
      expect(evaluateBranches(file, branches, lines, vouchers, names, source, [6]).unreachable).to.equal(1);
      expect(evaluateBranches(file, branches, lines, vouchers, names, SOURCE, [6]).problems).to.deep.equal([
        'C.sol:6 (if true): listed unreachable but line 6 has no "// coverage: unreachable because"',
      ]);
      expect(excusedLines(file, [6, 7], vouchers, source)).to.deep.equal([6]);
      expect(hasUnreachableComment("// coverage: unreachable because y\nrevert E();\n", 2)).to.equal(true);
    });
  });

  describe("test names", function () {
    it("reads literal it(...) titles and skips templates with placeholders", function () {
      const text = `it("a \\"b\\"", f); it('c', f); it(\`d\`, f); it(\`e \${x}\`, f); it.only("g", f); suite("h");`;
      expect(mochaTitles(text)).to.deep.equal(['a "b"', "c", "d", "g"]);
    });

    it("finds this suite's own tests and the Solidity tests", function () {
      const names = collectTestNames(process.cwd());
      expect(names.has("reads literal it(...) titles and skips templates with placeholders")).to.equal(true);
      expect([...names].some((name) => name.startsWith("test") || name.startsWith("invariant"))).to.equal(true);
    });
  });

  describe("voucher probes", function () {
    it("logs the false side of an if without else, after its semicolon, and the side a ?: picks", function () {
      const { source, probes } = insertProbes(SOURCE, parseSolidity(SOURCE), "C.sol", new Set([6, 14]));
      expect(probes).to.deep.equal(["C.sol:6 false", "C.sol:14 true", "C.sol:14 false"]);
      expect(source).to.include(`if (a == 1) revert E(); else { console.log("${PROBE_PREFIX}C.sol:6 false"); }`);
      expect(source).to.include(
        `console.log((a > 5) ? "${PROBE_PREFIX}C.sol:14 true" : "${PROBE_PREFIX}C.sol:14 false"); r = a > 5 ? 1 : 2;`,
      );
      expect(source).to.include('import {console} from "hardhat/console.sol";');
      expect(() => parseSolidity(source)).to.not.throw();
    });

    it("refuses to place a ?: probe before the braceless body of an if, which it would replace", function () {
      const text = SOURCE.replace("if (a == 4) r = 4;", "if (a == 4) r = a > 9 ? 9 : 4;");
      expect(() => insertProbes(text, parseSolidity(text), "C.sol", new Set([13]))).to.throw(
        "C.sol:13: cannot place a probe before this ?:",
      );
    });

    it("attributes the probes logged before a test's title to that test", function () {
      const output = [
        "  suite",
        `${PROBE_PREFIX}C.sol:6 false`,
        "    ✔ first (12ms)",
        `${PROBE_PREFIX}C.sol:14 true`,
        `${PROBE_PREFIX}C.sol:14 false`,
        "    1) second",
      ].join("\n");
      const byTest = attributeProbes(output);
      expect([...byTest.get("first")!]).to.deep.equal(["C.sol:6 false"]);
      expect([...byTest.get("second")!]).to.deep.equal(["C.sol:14 true", "C.sol:14 false"]);
    });

    it("verifies each vouched side against the probes its test fired", function () {
      const byTest = new Map([
        ["first", new Set(["C.sol:6 false"])],
        ["second", new Set(["C.sol:14 true"])],
      ]);
      const probes = ["C.sol:6 false", "C.sol:14 true", "C.sol:14 false"];
      const vouchers = { "C.sol:6": "first", "C.sol:14": { true: "second", false: "missing" } };
      expect(checkVouchers(vouchers, probes, byTest)).to.deep.equal({
        verified: ["C.sol:6 false <- first", "C.sol:14 true <- second"],
        problems: ['C.sol:14 false: "missing" did not run as a mocha test'],
      });
      expect(checkVouchers({ "C.sol:6": "second" }, probes, byTest).problems).to.deep.equal([
        'C.sol:6 false: "second" ran but never took this side',
      ]);
    });
  });

  describe("soundness on the core modules", function () {
    // A witness line proves a branch was taken only if the witness statement is instrumented: otherwise Hardhat
    // would mark its line executed by default. Check EDR instruments a statement starting at every witness.
    for (const { file } of THRESHOLDS.filter((t) => t.branches)) {
      it(`has an instrumented statement at every branch witness of ${file}`, function () {
        const source = readFileSync(file, "utf8");
        const { metadata } = addStatementCoverageInstrumentation(source, `project/${file}`, "0.8.30");
        const starts = new Set(
          metadata.map((m) => {
            // EDR's statement ranges start where the previous one ended: skip blanks and comments.
            let i = m.startUtf16;
            for (;;) {
              if (/\s/.test(source[i]!)) i++;
              else if (source.startsWith("//", i)) i = source.indexOf("\n", i);
              else if (source.startsWith("/*", i)) i = source.indexOf("*/", i) + 2;
              else return i;
            }
          }),
        );
        const bytes = Buffer.from(source, "utf8");
        const branches = classifyBranches(parseSolidity(source, file), source);
        const missing = branches
          .filter((b) => b.witnessStart !== undefined)
          .filter((b) => !starts.has(bytes.subarray(0, b.witnessStart).toString("utf8").length))
          .map((b) => `${b.line} ${b.side}`);
        expect(missing).to.deep.equal([]);
        expect(branches.length).to.be.greaterThan(0);
      });
    }
  });
});
