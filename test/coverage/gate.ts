/**
 * The coverage gate's logic (scripts/coverage-gate.ts) on small inputs: the lcov parser, the AST branch classifier,
 * the branch keys of test/coverage/branches.json, how vouchers are checked. Runs in `npm test` without running
 * coverage.
 */
import { readFileSync } from "node:fs";

import { addStatementCoverageInstrumentation } from "@nomicfoundation/edr";
import { expect } from "chai";

import {
  attributeProbes,
  branchKey,
  branchSites,
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
  testsTaking,
  THRESHOLDS,
  type Branch,
  type Probe,
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

/** Key → line of every branch construct of `source`. */
function keysOf(source: string, file = "C.sol"): Record<string, number> {
  const branches = classifyBranches(parseSolidity(source), source, file);
  return Object.fromEntries(branches.map((b) => [branchKey(file, b), b.line]));
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

  describe("branch keys", function () {
    it("numbers the if / ?: / try of a function from 1 in source order, an outer one before those inside it", function () {
      expect(keysOf(SOURCE)).to.deep.equal({
        "C.sol:f#1": 6,
        "C.sol:f#2": 8,
        "C.sol:f#3": 13,
        "C.sol:f#4": 14,
        "C.sol:f#5": 16,
        "C.sol:f#6": 18,
        "C.sol:f#7": 19,
        "C.sol:f#8": 22,
        "C.sol:f#9": 25,
      });
      const nested = `pragma solidity ^0.8.28;
contract N {
    function f(uint256 a) external pure returns (uint256) {
        if ((a > 1 ? a : 1) == 2) return 1;
        else if (a == 3) return a == 3 ? 3 : 4;
        return 0;
    }
}
`;
      expect(keysOf(nested)).to.deep.equal({ "C.sol:f#1": 4, "C.sol:f#2": 4, "C.sol:f#3": 5, "C.sol:f#4": 5 });
      const kinds = classifyBranches(parseSolidity(nested), nested).map((b) => `${b.ordinal} ${b.kind}`);
      expect([...new Set(kinds)]).to.deep.equal(["1 if", "2 ternary", "3 if", "4 ternary"]);
    });

    it("keeps every key when lines are inserted above the function and inside it", function () {
      const shifted = SOURCE.replace("pragma solidity ^0.8.28;\n", "pragma solidity ^0.8.28;\n\n// a comment\n\n")
        .replace("        r = a;\n", "        r = a;\n\n        // more\n")
        .replace("        try this.g()", "        r = r;\n        try this.g()");
      const before = keysOf(SOURCE);
      const after = keysOf(shifted);
      expect(Object.keys(after)).to.deep.equal(Object.keys(before));
      expect(after["C.sol:f#1"]).to.equal(before["C.sol:f#1"]! + 3);
      expect(after["C.sol:f#9"]).to.equal(before["C.sol:f#9"]! + 6);
    });

    it("keys each function on its own: a branch added to one leaves the other's keys", function () {
      const two = `pragma solidity ^0.8.28;
contract T {
    function g(uint256 a) external pure returns (uint256) {
        if (a == 1) return 1;
        return a > 2 ? 2 : 0;
    }
    function h(uint256 a) external pure returns (uint256) {
        if (a == 1) return 1;
        return a > 2 ? 2 : 0;
    }
}
`;
      expect(keysOf(two)).to.deep.equal({ "C.sol:g#1": 4, "C.sol:g#2": 5, "C.sol:h#1": 8, "C.sol:h#2": 9 });
      // A branch added at the end of g keeps g's keys; one added at its start shifts g's ordinals, never h's.
      const atEnd = two.replace(
        "return a > 2 ? 2 : 0;\n    }\n    function h",
        "return a > 2 ? (a > 3 ? 3 : 2) : 0;\n    }\n    function h",
      );
      expect(keysOf(atEnd)).to.deep.equal({
        "C.sol:g#1": 4,
        "C.sol:g#2": 5,
        "C.sol:g#3": 5,
        "C.sol:h#1": 8,
        "C.sol:h#2": 9,
      });
      const atStart = two.replace(
        "{\n        if (a == 1) return 1;",
        "{\n        if (a == 0) return 0;\n        if (a == 1) return 1;",
      );
      expect(keysOf(atStart)).to.deep.equal({
        "C.sol:g#1": 4,
        "C.sol:g#2": 5,
        "C.sol:g#3": 6,
        "C.sol:h#1": 9,
        "C.sol:h#2": 10,
      });
    });

    it("keys a modifier's branches by its name, and a constructor's, receive's, fallback's and initializer's", function () {
      const special = `pragma solidity ^0.8.28;
contract S {
    uint256 internal immutable x = block.number > 1 ? 1 : 2;
    modifier only(uint256 a) {
        if (a == 0) revert();
        _;
    }
    constructor(uint256 a) {
        if (a == 0) revert();
    }
    receive() external payable {
        if (msg.value == 0) revert();
    }
    fallback() external {
        if (msg.data.length == 0) revert();
    }
    function f(uint256 a) external only(a > 1 ? a : 1) {
        if (a == 2) revert();
    }
}
`;
      expect(keysOf(special)).to.deep.equal({
        "C.sol:x#1": 3,
        "C.sol:only#1": 5,
        "C.sol:constructor#1": 9,
        "C.sol:receive#1": 12,
        "C.sol:fallback#1": 15,
        "C.sol:f#1": 17,
        "C.sol:f#2": 18,
      });
    });

    it("names overloads by their parameter types, and the same function of two contracts by its contract", function () {
      const overloaded = `pragma solidity ^0.8.28;
contract O {
    function f(uint256 a) external pure returns (uint256) {
        return a > 1 ? 1 : 0;
    }
    function f(uint256 a, bytes calldata b, uint256[] memory c, mapping(address => uint256) storage d) internal view {
        if (a == b.length + c.length + d[msg.sender]) revert();
    }
    function g(uint256 a) external pure returns (uint256) {
        return a > 1 ? 1 : 0;
    }
}
contract P {
    function g(uint256 a) external pure returns (uint256) {
        return a > 2 ? 1 : 0;
    }
}
interface I {
    function h(uint256 a) external;
}
contract Q is I {
    function h(uint256 a) external pure {
        if (a == 0) revert();
    }
}
`;
      expect(keysOf(overloaded)).to.deep.equal({
        "C.sol:f(uint256)#1": 4,
        "C.sol:f(uint256,bytes,uint256[],mapping(address=>uint256))#1": 7,
        "C.sol:O.g(uint256)#1": 10,
        "C.sol:P.g(uint256)#1": 15,
        "C.sol:h#1": 23,
      });
      // Neither core module overloads a function: their keys are plain names.
      for (const { file } of THRESHOLDS.filter((t) => t.branches)) {
        const source = readFileSync(file, "utf8");
        const fns = classifyBranches(parseSolidity(source, file), source, file).map((b) => b.fn);
        expect(fns.filter((fn) => !/^\w+$/.test(fn))).to.deep.equal([]);
      }
    });

    it("fails, naming both lines, when two definitions cannot be told apart", function () {
      // Two free functions of one signature: a declaration error solc reports after parsing, which is all the gate does.
      const clash = `pragma solidity ^0.8.28;
function f(uint256 a) pure returns (uint256) {
    return a > 1 ? 1 : 0;
}
function f(uint256 a) pure returns (uint256) {
    return a;
}
`;
      const ast = parseSolidity(clash);
      expect(() => branchSites(ast, clash, "C.sol")).to.throw(
        "C.sol: lines 2 and 5 both define f(uint256); the coverage gate keys branches by function and cannot tell them apart",
      );
    });
  });

  describe("evaluateBranches", function () {
    const file = "C.sol";
    const branches: Branch[] = [
      { kind: "if", fn: "f", ordinal: 1, line: 6, side: "true", witnessLine: 6 },
      { kind: "if", fn: "f", ordinal: 1, line: 6, side: "false", witnessLine: 7 },
      {
        kind: "if",
        fn: "f",
        ordinal: 3,
        line: 13,
        side: "false",
        underivable: "no else and the true body falls through",
      },
    ];
    const source = SOURCE.replace(
      "if (a == 1) revert E();",
      "if (a == 1) revert E(); // coverage: unreachable because x",
    );
    const names = new Set(["passes through when a is not 4"]);
    const verify = "`node scripts/coverage-gate.ts --verify-vouchers`";

    /** Every witness line of `source`'s branches executed, and a voucher for every side that has none. */
    const allTaken = (text: string) => {
      const all = classifyBranches(parseSolidity(text), text, file);
      const lines = new Map(all.filter((b) => b.witnessLine !== undefined).map((b) => [b.witnessLine!, 1]));
      return { all, lines };
    };

    it("counts sides whose witness line executed as derived", function () {
      const lines = new Map([
        [6, 1],
        [7, 1],
      ]);
      const report = evaluateBranches(
        file,
        branches,
        lines,
        { "C.sol:f#3": "passes through when a is not 4" },
        names,
        source,
      );
      expect(report).to.deep.equal({ total: 3, derivedCovered: 2, vouched: 1, unreachable: 0, problems: [] });
    });

    it("fails a side never taken, an unknown test name and a stale entry, naming each by key and line", function () {
      const lines = new Map([
        [6, 0],
        [7, 1],
      ]);
      const vouchers = { "C.sol:f#3": "no such test", "C.sol:f#99": "passes through when a is not 4" };
      const report = evaluateBranches(file, branches, lines, vouchers, names, SOURCE);
      expect(report.problems).to.deep.equal([
        "C.sol:f#1 true (if at line 6): never taken (line 6 did not execute)",
        `C.sol:f#3 false (if at line 13): no test named "no such test" in the suite (renamed?); ${verify} lists the ` +
          "tests that take this side",
        'test/coverage/branches.json: stale entry "C.sol:f#99" (f has 3 branch constructs (if / ?: / try); ' +
          "ordinals shift when one is added or removed above it in the function)",
      ]);
    });

    it("says under which key to vouch for a side that has no entry, and how to find its tests", function () {
      const lines = new Map([
        [6, 1],
        [7, 1],
      ]);
      expect(evaluateBranches(file, branches, lines, {}, names, SOURCE).problems).to.deep.equal([
        "C.sol:f#3 false (if at line 13): cannot be derived (no else and the true body falls through); name the " +
          `test that takes it under "C.sol:f#3" in test/coverage/branches.json (${verify} lists the tests that do)`,
      ]);
    });

    it("refuses to let a test name vouch for a side the line data shows untaken", function () {
      const lines = new Map([
        [6, 0],
        [7, 1],
      ]);
      const vouchers = { "C.sol:f#1": "passes through when a is not 4", "C.sol:f#3": "passes through when a is not 4" };
      const report = evaluateBranches(file, branches, lines, vouchers, names, SOURCE);
      expect(report.problems).to.deep.equal([
        'C.sol:f#1 true (if at line 6): vouched by "passes through when a is not 4" but the line data says it was ' +
          "never taken (line 6)",
      ]);
    });

    it("accepts an unreachable entry only with the source comment on the branch's line, and excuses its lines", function () {
      const lines = new Map([
        [6, 0],
        [7, 1],
      ]);
      const vouchers = { "C.sol:f#1": "unreachable: x", "C.sol:f#3": "passes through when a is not 4" };
      expect(evaluateBranches(file, branches, lines, vouchers, names, source).unreachable).to.equal(1);
      expect(evaluateBranches(file, branches, lines, vouchers, names, SOURCE).problems).to.deep.equal([
        'C.sol:f#1 true (if at line 6): listed unreachable but line 6 has no "// coverage: unreachable because"',
      ]);
      // The branch's line and the witness lines of the sides the entry calls unreachable; nothing without the comment.
      expect(excusedLines(file, [6, 7, 13], branches, vouchers, source)).to.deep.equal([6, 7]);
      const trueOnly = { "C.sol:f#1": { true: "unreachable: x" } };
      expect(excusedLines(file, [6, 7, 13], branches, trueOnly, source)).to.deep.equal([6]);
      expect(excusedLines(file, [6, 7, 13], branches, vouchers, SOURCE)).to.deep.equal([]);
      expect(hasUnreachableComment("// coverage: unreachable because y\nrevert E();\n", 2)).to.equal(true);
    });

    it("keeps accepting the same entries after lines are inserted above and inside the function", function () {
      const shifted = SOURCE.replace(
        "pragma solidity ^0.8.28;\n",
        "pragma solidity ^0.8.28;\n\n// a comment\n\n",
      ).replace("        r = a;\n", "        r = a;\n\n        // more\n");
      const vouchers = {
        "C.sol:f#3": "passes through when a is not 4",
        "C.sol:f#4": { true: "passes through when a is not 4", false: "passes through when a is not 4" },
        "C.sol:f#5": "passes through when a is not 4",
        "C.sol:f#8": { "catch 1": "passes through when a is not 4" },
        "C.sol:f#9": "passes through when a is not 4",
      };
      const before = allTaken(SOURCE);
      const after = allTaken(shifted);
      expect(after.all.map((b) => b.line)).to.not.deep.equal(before.all.map((b) => b.line));
      const expected = { total: 18, derivedCovered: 12, vouched: 6, unreachable: 0, problems: [] };
      expect(evaluateBranches(file, before.all, before.lines, vouchers, names, SOURCE)).to.deep.equal(expected);
      expect(evaluateBranches(file, after.all, after.lines, vouchers, names, shifted)).to.deep.equal(expected);
    });

    it("says why an entry is stale: an old file:line key, no such function, an overload, a branch that needs none", function () {
      const { all, lines } = allTaken(SOURCE);
      const vouchers = {
        "C.sol:f#3": "passes through when a is not 4",
        "C.sol:f#4": "passes through when a is not 4",
        "C.sol:f#5": "passes through when a is not 4",
        "C.sol:f#8": "passes through when a is not 4",
        "C.sol:f#9": "passes through when a is not 4",
        "C.sol:13": "passes through when a is not 4",
        "C.sol:gone#1": "passes through when a is not 4",
        "C.sol:f#2": "passes through when a is not 4",
      };
      expect(evaluateBranches(file, all, lines, vouchers, names, SOURCE).problems).to.deep.equal([
        'test/coverage/branches.json: stale entry "C.sol:13" (a "<file>:<line>" key: entries are keyed ' +
          '"<file>:<function>#<n>", the nth if / ?: / try of the function)',
        'test/coverage/branches.json: stale entry "C.sol:gone#1" (no if / ?: / try in a function named gone in C.sol)',
        'test/coverage/branches.json: stale entry "C.sol:f#2" (the if at line 8 needs none: the line data shows ' +
          "each side taken; ordinals shift when one is added or removed above it in the function)",
      ]);
      const overloaded = SOURCE.replace("function g() external {}", "function f() external {}");
      const o = allTaken(overloaded);
      const problems = evaluateBranches(file, o.all, o.lines, { "C.sol:f#3": "x" }, names, overloaded).problems;
      expect(problems).to.include(
        'test/coverage/branches.json: stale entry "C.sol:f#3" (f is overloaded now; its branches are keyed ' +
          '"C.sol:f(uint256)#<n>")',
      );
    });

    it("fails a side of a per-side entry that the line data shows taken, or that the branch does not have", function () {
      const lines = new Map([
        [6, 0],
        [7, 1],
      ]);
      const vouchers = {
        "C.sol:f#1": { true: "unreachable: x", false: "passes through when a is not 4", "catch 1": "x" },
        "C.sol:f#3": "passes through when a is not 4",
      };
      expect(evaluateBranches(file, branches, lines, vouchers, names, source).problems).to.deep.equal([
        'test/coverage/branches.json: stale side "false" of "C.sol:f#1" (the line data shows it taken: line 7 executed)',
        'test/coverage/branches.json: stale side "catch 1" of "C.sol:f#1" (the if at line 6 has no such side)',
      ]);
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
    it("logs the false side of an if without else, after its semicolon, and the side a ?: picks, by key", function () {
      const { source, probes } = insertProbes(
        SOURCE,
        parseSolidity(SOURCE),
        "C.sol",
        new Set(["C.sol:f#1", "C.sol:f#4"]),
      );
      expect(probes).to.deep.equal([
        { id: "C.sol:f#1 false", line: 6 },
        { id: "C.sol:f#4 true", line: 14 },
        { id: "C.sol:f#4 false", line: 14 },
      ]);
      expect(source).to.include(`if (a == 1) revert E(); else { console.log("${PROBE_PREFIX}C.sol:f#1 false"); }`);
      expect(source).to.include(
        `console.log((a > 5) ? "${PROBE_PREFIX}C.sol:f#4 true" : "${PROBE_PREFIX}C.sol:f#4 false"); r = a > 5 ? 1 : 2;`,
      );
      expect(source).to.include('import {console} from "hardhat/console.sol";');
      expect(() => parseSolidity(source)).to.not.throw();
    });

    it("probes the sides no entry names too, skipping the ones no probe can reach", function () {
      const text = SOURCE.replace("if (a == 4) r = 4;", "if (a == 4) r = a > 9 ? 9 : 4;");
      const optional = new Set(["C.sol:f#3", "C.sol:f#4"]);
      const { probes } = insertProbes(text, parseSolidity(text), "C.sol", new Set(), optional);
      // f#4, the ?: in the braceless body of f#3, has no statement of its own to put a probe before.
      expect(probes).to.deep.equal([{ id: "C.sol:f#3 false", line: 13 }]);
      expect(() => insertProbes(text, parseSolidity(text), "C.sol", new Set(["C.sol:f#4"]))).to.throw(
        "C.sol:f#4 (line 13): cannot place a probe before this ?:",
      );
    });

    it("attributes the probes logged before a test's title to that test", function () {
      const output = [
        "  suite",
        `${PROBE_PREFIX}C.sol:f#1 false`,
        "    ✔ first (12ms)",
        `${PROBE_PREFIX}C.sol:f#4 true`,
        `${PROBE_PREFIX}C.sol:f#4 false`,
        "    1) second",
      ].join("\n");
      const byTest = attributeProbes(output);
      expect([...byTest.get("first")!]).to.deep.equal(["C.sol:f#1 false"]);
      expect([...byTest.get("second")!]).to.deep.equal(["C.sol:f#4 true", "C.sol:f#4 false"]);
    });

    it("verifies each vouched side against the probes its test fired, and names the tests that take a side", function () {
      const byTest = new Map([
        ["first", new Set(["C.sol:f#1 false"])],
        ["second", new Set(["C.sol:f#4 true"])],
        ["third", new Set(["C.sol:f#1 false", "C.sol:f#4 false"])],
      ]);
      const probes: Probe[] = [
        { id: "C.sol:f#1 false", line: 6 },
        { id: "C.sol:f#4 true", line: 14 },
        { id: "C.sol:f#4 false", line: 14 },
      ];
      const vouchers = { "C.sol:f#1": "first", "C.sol:f#4": { true: "second", false: "missing" } };
      expect(checkVouchers(vouchers, probes, byTest)).to.deep.equal({
        verified: ["C.sol:f#1 false <- first", "C.sol:f#4 true <- second"],
        problems: ['C.sol:f#4 false (line 14): "missing" did not run as a mocha test; tests that take it: "third"'],
        unvouched: [],
      });
      expect(checkVouchers({ "C.sol:f#1": "second", "C.sol:f#9": "first" }, probes, byTest)).to.deep.equal({
        verified: [],
        problems: [
          'C.sol:f#1 false (line 6): "second" ran but never took this side; tests that take it: "first", "third"',
          "C.sol:f#9: no probe could be placed for this side (no such branch, or an empty body)",
        ],
        unvouched: [
          'C.sol:f#4 true (line 14): tests that take it: "second"',
          'C.sol:f#4 false (line 14): tests that take it: "third"',
        ],
      });
    });

    it("lists at most three tests that take a side", function () {
      const byTest = new Map(
        ["a", "b", "c", "d", "e"].map((t) => [t, new Set([t === "b" ? "other" : "C.sol:f#1 false"])]),
      );
      expect(testsTaking("C.sol:f#1 false", byTest)).to.equal('tests that take it: "a", "c", "d" and 1 more');
      expect(testsTaking("C.sol:f#2 true", byTest)).to.equal("no test took it");
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
        const branches = classifyBranches(parseSolidity(source, file), source, file);
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
