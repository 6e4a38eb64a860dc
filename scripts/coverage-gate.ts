/**
 * `npm run coverage` runs `hardhat test --coverage`, then this gate (`node scripts/coverage-gate.ts`). It fails
 * (exit 1) unless:
 * - line coverage (coverage/lcov.info) reaches each file's threshold in THRESHOLDS: 100 % for the session module
 *   and the spend-limit hook, 95 % for the account and the owner module;
 * - every branch of the two core modules is accounted for: derived covered from the line data (below), vouched by
 *   a named test in test/coverage/branches.json, or listed there as unreachable with a matching
 *   `// coverage: unreachable because ...` comment in the source.
 *
 * Hardhat 3 reports lines only (no BRDA records in lcov.info), and it marks a line unexecuted when any statement
 * that touches it never ran. Branches are therefore derived from the solc AST (parsed here from the source, since
 * the build-info left by a coverage run is of the instrumented source) and those lines:
 * - `if`: the true side is taken if the line where its body's first statement starts executed; the false side if
 *   the else body's first line executed or, with no else and a true body that always ends in
 *   revert/return/continue/break, if the line of the statement that follows the `if` executed (reaching it means
 *   the condition was false). Otherwise (no else and a body that falls through, or an `if` last in its block) the
 *   false side cannot be observed and must be vouched.
 * - `?:` (expressions are not instrumented): both sides must be vouched.
 * - `try`: each clause (success, every catch) is a branch, taken if its body's first line executed.
 * - Short-circuit `&&` / `||` operands are not counted: they are conditions of a branch, not branches.
 * - Loops are not counted.
 * A shared line can only make a taken branch look untaken (a line is executed only if everything on it ran), never
 * the reverse, provided the witness statement is instrumented (test/coverage/gate.ts checks EDR instruments every
 * witness of the core modules).
 * See docs/COVERAGE.md.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

export interface Threshold {
  file: string;
  lines: number;
  branches: boolean;
}

export const THRESHOLDS: Threshold[] = [
  { file: "contracts/modules/SessionKeyValidationModule.sol", lines: 100, branches: true },
  { file: "contracts/modules/SpendLimitHook.sol", lines: 100, branches: true },
  { file: "contracts/account/ModularAccount.sol", lines: 95, branches: false },
  { file: "contracts/modules/OwnerValidationModule.sol", lines: 95, branches: false },
  // What turns the owner's signed grant into what is enforced (issue #13): every line run by a test.
  { file: "contracts/libraries/SessionGrantLib.sol", lines: 95, branches: false },
  { file: "contracts/modules/SessionGrantReader.sol", lines: 100, branches: false },
  // The module question both modules ask (issue #14): a session never calls an ERC-6900 module.
  { file: "contracts/libraries/ForbiddenInterfaceLib.sol", lines: 100, branches: false },
];

export const BRANCHES_FILE = "test/coverage/branches.json";
export const UNREACHABLE_PREFIX = "unreachable: ";
export const UNREACHABLE_COMMENT = "coverage: unreachable because";

// ---------------------------------------------------------------------------------------------------------------
// lcov

/** Line → execution count for each `SF:` section of an lcov tracefile. */
export function parseLcov(text: string): Map<string, Map<number, number>> {
  const files = new Map<string, Map<number, number>>();
  let current: Map<number, number> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("SF:")) {
      current = new Map();
      files.set(line.slice(3), current);
    } else if (line.startsWith("DA:")) {
      if (current === undefined) throw new Error(`lcov: DA record outside a file section: ${line}`);
      const [lineNumber, count] = line.slice(3).split(",");
      const n = Number(lineNumber);
      const c = Number(count);
      if (!Number.isInteger(n) || !Number.isFinite(c)) throw new Error(`lcov: malformed DA record: ${line}`);
      current.set(n, (current.get(n) ?? 0) + c);
    } else if (line === "end_of_record") {
      current = undefined;
    }
  }
  return files;
}

export interface LineFigures {
  found: number;
  hit: number;
  percent: number;
  uncovered: number[];
}

export function lineFigures(lines: Map<number, number>): LineFigures {
  const uncovered = [...lines].filter(([, count]) => count === 0).map(([line]) => line);
  uncovered.sort((a, b) => a - b);
  const found = lines.size;
  const hit = found - uncovered.length;
  return { found, hit, percent: found === 0 ? 100 : (hit * 100) / found, uncovered };
}

/** `[1, 2, 3, 7]` → `"1-3, 7"`. */
export function formatRanges(lines: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < lines.length;) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j]! + 1) j++;
    parts.push(i === j ? `${lines[i]}` : `${lines[i]}-${lines[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

// ---------------------------------------------------------------------------------------------------------------
// AST branch classifier

/** A solc AST node (compact JSON). */
export interface AstNode {
  nodeType: string;
  src: string;
  [key: string]: unknown;
}

export type BranchKind = "if" | "ternary" | "try";

export interface Branch {
  kind: BranchKind;
  /** Line of the `if` / `?:` / `try`. */
  line: number;
  /** "true" / "false" for `if` and `?:`; "success" / "catch <n>" for `try`. */
  side: string;
  /** The line whose execution proves the side was taken, or undefined when the line data cannot tell. */
  witnessLine?: number;
  /** solc byte offset of the witness statement. */
  witnessStart?: number;
  /** Why the side cannot be derived (when witnessLine is undefined). */
  underivable?: string;
}

/** Parses `source` with the npm solc (syntax only, imports unresolved) and returns its AST. */
export function parseSolidity(source: string, name = "Source.sol"): AstNode {
  const require = createRequire(import.meta.url);
  const solc = require("solc") as { compile(input: string): string };
  const input = {
    language: "Solidity",
    sources: { [name]: { content: source } },
    settings: { stopAfter: "parsing", outputSelection: { "*": { "": ["ast"] } } },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    sources?: Record<string, { ast: AstNode }>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const ast = output.sources?.[name]?.ast;
  if (ast === undefined) throw new Error(`solc returned no AST for ${name}`);
  return ast;
}

/** Maps solc's byte offsets to 1-based line numbers of `source`. */
export function lineOfOffset(source: string): (byteOffset: number) => number {
  const bytes = Buffer.from(source, "utf8");
  const starts: number[] = [0];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

function srcStart(node: AstNode): number {
  return Number(node.src.split(":")[0]);
}

function isBlock(node: AstNode): boolean {
  return node.nodeType === "Block" || node.nodeType === "UncheckedBlock";
}

function statementsOf(node: AstNode): AstNode[] {
  return (node.statements as AstNode[] | undefined) ?? [];
}

/** The first statement that runs when `body` is entered (descending into nested blocks), if any. */
export function firstStatement(body: AstNode | undefined | null): AstNode | undefined {
  if (body === undefined || body === null) return undefined;
  if (!isBlock(body)) return body;
  const first = statementsOf(body)[0];
  return first === undefined ? undefined : firstStatement(first);
}

/** Whether `node` never completes normally: every path ends in revert, return, continue or break. */
export function alwaysTerminates(node: AstNode | undefined | null): boolean {
  if (node === undefined || node === null) return false;
  switch (node.nodeType) {
    case "Return":
    case "Break":
    case "Continue":
    case "RevertStatement":
      return true;
    case "Block":
    case "UncheckedBlock":
      return statementsOf(node).some(alwaysTerminates);
    case "IfStatement":
      return alwaysTerminates(node.trueBody as AstNode) && alwaysTerminates(node.falseBody as AstNode | null);
    case "ExpressionStatement": {
      // revert("...") / revert() as a function call.
      const expression = node.expression as AstNode;
      if (expression.nodeType !== "FunctionCall") return false;
      const callee = expression.expression as AstNode;
      return callee.nodeType === "Identifier" && callee.name === "revert";
    }
    default:
      return false;
  }
}

/** Every branch of `ast` (if, ?:, try) with the line that witnesses each side. */
export function classifyBranches(ast: AstNode, source: string): Branch[] {
  const lineOf = lineOfOffset(source);
  const branches: Branch[] = [];
  const witness = (node: AstNode) => ({ witnessLine: lineOf(srcStart(node)), witnessStart: srcStart(node) });

  const visit = (node: unknown, next: AstNode | undefined): void => {
    if (Array.isArray(node)) {
      node.forEach((child) => visit(child, undefined));
      return;
    }
    if (node === null || typeof node !== "object") return;
    const n = node as AstNode;
    if (isBlock(n)) {
      // Inside a block, each statement's successor is the next statement of the block.
      const statements = statementsOf(n);
      statements.forEach((s, i) => visit(s, statements[i + 1]));
      return;
    }
    if (n.nodeType === "IfStatement") {
      const line = lineOf(srcStart(n));
      const trueBody = n.trueBody as AstNode;
      const falseBody = n.falseBody as AstNode | null;
      const trueFirst = firstStatement(trueBody);
      branches.push(
        trueFirst === undefined
          ? { kind: "if", line, side: "true", underivable: "the true body is empty" }
          : { kind: "if", line, side: "true", ...witness(trueFirst) },
      );
      if (falseBody !== null && falseBody !== undefined) {
        const falseFirst = firstStatement(falseBody);
        branches.push(
          falseFirst === undefined
            ? { kind: "if", line, side: "false", underivable: "the else body is empty" }
            : { kind: "if", line, side: "false", ...witness(falseFirst) },
        );
      } else if (!alwaysTerminates(trueBody)) {
        branches.push({ kind: "if", line, side: "false", underivable: "no else and the true body falls through" });
      } else if (next === undefined) {
        branches.push({ kind: "if", line, side: "false", underivable: "no else and no statement after the if" });
      } else {
        branches.push({ kind: "if", line, side: "false", ...witness(firstStatement(next) ?? next) });
      }
      visit(n.condition, undefined);
      visit(trueBody, undefined);
      if (falseBody !== null && falseBody !== undefined) visit(falseBody, undefined);
      return;
    }
    if (n.nodeType === "Conditional") {
      const line = lineOf(srcStart(n));
      for (const side of ["true", "false"]) {
        branches.push({
          kind: "ternary",
          line,
          side,
          underivable: "?: is an expression; expressions are not instrumented",
        });
      }
    }
    if (n.nodeType === "TryStatement") {
      const line = lineOf(srcStart(n));
      (n.clauses as AstNode[]).forEach((clause, i) => {
        const side = i === 0 ? "success" : `catch ${i}`;
        const first = firstStatement(clause.block as AstNode);
        branches.push(
          first === undefined
            ? { kind: "try", line, side, underivable: "the clause body is empty" }
            : { kind: "try", line, side, ...witness(first) },
        );
      });
    }
    for (const [key, value] of Object.entries(n)) {
      if (key === "src" || key === "nodeType") continue;
      visit(value, undefined);
    }
  };
  visit(ast, undefined);
  branches.sort((a, b) => a.line - b.line || a.side.localeCompare(b.side));
  return branches;
}

// ---------------------------------------------------------------------------------------------------------------
// Vouchers (test/coverage/branches.json) and the suite's test names

/**
 * `"<file>:<line>"` → the name of the test that takes the side the line data cannot show, or
 * `"unreachable: <reason>"`. When a line holds more than one side to vouch for, the value is an object keyed by side
 * ("true", "false", "success", "catch 1"...).
 */
export type VoucherValue = string | Record<string, string>;
export type Vouchers = Record<string, VoucherValue>;

export function voucherFor(vouchers: Vouchers, file: string, branch: Branch): string | undefined {
  const value = vouchers[`${file}:${branch.line}`];
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value[branch.side];
}

/** Titles of every mocha `it(...)` under test/ and every Solidity test function under contracts/. */
export function collectTestNames(root: string): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string, onFile: (file: string) => void): void => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full, onFile);
      else onFile(full);
    }
  };
  walk(path.join(root, "test"), (file) => {
    if (file.endsWith(".ts")) for (const name of mochaTitles(readFileSync(file, "utf8"))) names.add(name);
  });
  walk(path.join(root, "contracts"), (file) => {
    if (!file.endsWith(".t.sol")) return;
    for (const match of readFileSync(file, "utf8").matchAll(/function\s+((?:test|invariant)\w*)\s*\(/g)) {
      names.add(match[1]!);
    }
  });
  return names;
}

/** The literal titles of `it(...)` calls in a test file (template literals with placeholders are skipped). */
export function mochaTitles(text: string): string[] {
  const titles: string[] = [];
  for (const match of text.matchAll(/\bit(?:\.only|\.skip)?\(\s*(["'`])((?:\\.|(?!\1)[^\\])*)\1/g)) {
    const quote = match[1]!;
    const body = match[2]!;
    if (quote === "`" && body.includes("${")) continue;
    titles.push(body.replace(/\\(.)/g, "$1"));
  }
  return titles;
}

/** Whether the source has a `// coverage: unreachable because` comment on `line` or in the comment lines above. */
export function hasUnreachableComment(source: string, line: number): boolean {
  const lines = source.split("\n");
  if (lines[line - 1]?.includes(UNREACHABLE_COMMENT)) return true;
  for (let i = line - 2; i >= 0 && /^\s*\/\//.test(lines[i]!); i--) {
    if (lines[i]!.includes(UNREACHABLE_COMMENT)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// The gate

export interface BranchReport {
  total: number;
  derivedCovered: number;
  vouched: number;
  unreachable: number;
  problems: string[];
}

/** Accounts for every branch of one file; `problems` lists what fails the gate. */
export function evaluateBranches(
  file: string,
  branches: Branch[],
  lines: Map<number, number>,
  vouchers: Vouchers,
  testNames: Set<string>,
  source: string,
  excused: number[] = [],
): BranchReport {
  const report: BranchReport = { total: branches.length, derivedCovered: 0, vouched: 0, unreachable: 0, problems: [] };
  for (const branch of branches) {
    const label = `${file}:${branch.line} (${branch.kind} ${branch.side})`;
    const taken = branch.witnessLine !== undefined && (lines.get(branch.witnessLine) ?? 0) > 0;
    if (taken) {
      report.derivedCovered++;
      continue;
    }
    const voucher = voucherFor(vouchers, file, branch);
    if (voucher === undefined) {
      report.problems.push(
        branch.witnessLine === undefined
          ? `${label}: cannot be derived (${branch.underivable}); name the test that takes it in ${BRANCHES_FILE}`
          : `${label}: never taken (line ${branch.witnessLine} did not execute)`,
      );
    } else if (voucher.startsWith(UNREACHABLE_PREFIX)) {
      if (voucher.slice(UNREACHABLE_PREFIX.length).trim() === "") {
        report.problems.push(`${label}: the unreachable entry gives no reason`);
      } else if (!hasUnreachableComment(source, branch.line)) {
        report.problems.push(`${label}: listed unreachable but line ${branch.line} has no "// ${UNREACHABLE_COMMENT}"`);
      } else report.unreachable++;
    } else if (branch.witnessLine !== undefined) {
      report.problems.push(
        `${label}: vouched by "${voucher}" but the line data says it was never taken (line ${branch.witnessLine})`,
      );
    } else if (!testNames.has(voucher)) {
      report.problems.push(`${label}: no test named "${voucher}" in the suite`);
    } else report.vouched++;
  }
  // Entries that no longer match a branch needing them are stale.
  const needed = new Set(
    branches
      .filter((b) => b.witnessLine === undefined || (lines.get(b.witnessLine) ?? 0) === 0)
      .map((b) => `${file}:${b.line}`)
      .concat(excused.map((line) => `${file}:${line}`)),
  );
  for (const key of Object.keys(vouchers)) {
    if (key.startsWith(`${file}:`) && !needed.has(key)) {
      report.problems.push(`${BRANCHES_FILE}: stale entry "${key}" (no branch there needs it)`);
    }
  }
  return report;
}

/** Uncovered lines excused by an unreachable entry whose line carries the source comment. */
export function excusedLines(file: string, uncovered: number[], vouchers: Vouchers, source: string): number[] {
  return uncovered.filter((line) => {
    const value = vouchers[`${file}:${line}`];
    return typeof value === "string" && value.startsWith(UNREACHABLE_PREFIX) && hasUnreachableComment(source, line);
  });
}

export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  const separator = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(rows[0]!), separator, ...rows.slice(1).map(line)].join("\n");
}

export function runGate(root: string): { ok: boolean; output: string } {
  const lcovPath = path.join(root, "coverage/lcov.info");
  let lcovText: string;
  try {
    lcovText = readFileSync(lcovPath, "utf8");
  } catch {
    return { ok: false, output: `coverage gate: ${lcovPath} not found; run \`npx hardhat test --coverage\` first` };
  }
  const lcov = parseLcov(lcovText);
  const vouchers = JSON.parse(readFileSync(path.join(root, BRANCHES_FILE), "utf8")) as Vouchers;
  const testNames = collectTestNames(root);
  const rows: string[][] = [
    ["File", "Lines", "Threshold", "Branches derived", "Vouched by test", "Unreachable", "Result"],
  ];
  const failures: string[] = [];
  for (const threshold of THRESHOLDS) {
    const lines = lcov.get(threshold.file);
    if (lines === undefined) {
      failures.push(`${threshold.file}: not in ${lcovPath}`);
      rows.push([threshold.file, "-", `${threshold.lines} %`, "-", "-", "-", "FAIL"]);
      continue;
    }
    const source = readFileSync(path.join(root, threshold.file), "utf8");
    const figures = lineFigures(lines);
    const excused = excusedLines(threshold.file, figures.uncovered, vouchers, source);
    const counted = (figures.hit + excused.length) * 100;
    const linesOk = counted >= threshold.lines * figures.found;
    const fileFailures: string[] = [];
    if (!linesOk) {
      const missing = figures.uncovered.filter((l) => !excused.includes(l));
      fileFailures.push(
        `${threshold.file}: lines ${figures.percent.toFixed(2)} % (${figures.hit}/${figures.found}) is below ` +
          `${threshold.lines} %; uncovered lines: ${formatRanges(missing)}`,
      );
    }
    let branchCells = ["-", "-", "-"];
    if (threshold.branches) {
      const branches = classifyBranches(parseSolidity(source, threshold.file), source);
      const report = evaluateBranches(threshold.file, branches, lines, vouchers, testNames, source, excused);
      branchCells = [`${report.derivedCovered}/${report.total}`, `${report.vouched}`, `${report.unreachable}`];
      fileFailures.push(...report.problems);
    }
    const linesCell =
      `${figures.percent.toFixed(2)} % (${figures.hit}/${figures.found})` +
      (excused.length > 0 ? ` +${excused.length} unreachable` : "");
    rows.push([
      threshold.file,
      linesCell,
      `${threshold.lines} %`,
      ...branchCells,
      fileFailures.length === 0 ? "ok" : "FAIL",
    ]);
    failures.push(...fileFailures);
  }
  // Entries for files the gate does not check are mistakes too.
  for (const key of Object.keys(vouchers)) {
    if (!THRESHOLDS.some((t) => t.branches && key.startsWith(`${t.file}:`))) {
      failures.push(`${BRANCHES_FILE}: entry "${key}" is not in a file whose branches the gate checks`);
    }
  }
  const output = [
    "Coverage gate",
    formatTable(rows),
    ...(failures.length > 0 ? ["", "FAILED:", ...failures.map((f) => `  - ${f}`)] : ["", "All thresholds met."]),
  ].join("\n");
  return { ok: failures.length === 0, output };
}

// ---------------------------------------------------------------------------------------------------------------
// Checking the vouchers: `node scripts/coverage-gate.ts --verify-vouchers`

export const PROBE_PREFIX = "LEASH-BRANCH-PROBE ";

/**
 * Inserts a `console.log` probe at every side of `lines` that the line data cannot show: an `else` logging the
 * false side of an `if` without one, and, before the statement holding a `?:`, a log of which side its condition
 * picks. Returns the probed source and the probe ids (`"<file>:<line> <side>"`).
 */
export function insertProbes(
  source: string,
  ast: AstNode,
  file: string,
  lines: Set<number>,
): { source: string; probes: string[] } {
  const bytes = Buffer.from(source, "utf8");
  const lineOf = lineOfOffset(source);
  const edits: { at: number; text: string }[] = [];
  const probes: string[] = [];
  const log = (id: string) => `console.log("${PROBE_PREFIX}${id}")`;
  const isPlainStatement = (n: AstNode) =>
    /Statement$|^Return$/.test(n.nodeType) && !["IfStatement", "ForStatement", "WhileStatement"].includes(n.nodeType);
  // `statement`: the statement a probe for a `?:` inside it goes before; `braceless`: that statement is the body of
  // an if / loop without braces, where a probe before it would take its place as the body.
  const visit = (node: unknown, statement: AstNode | undefined, braceless: boolean): void => {
    if (Array.isArray(node)) return node.forEach((child) => visit(child, statement, braceless));
    if (node === null || typeof node !== "object") return;
    const n = node as AstNode;
    if (typeof n.src !== "string") {
      Object.values(n).forEach((child) => visit(child, statement, braceless));
      return;
    }
    if (isBlock(n)) {
      statementsOf(n).forEach((child) => visit(child, undefined, false));
      return;
    }
    const [start, length] = n.src.split(":").map(Number) as [number, number];
    const line = lineOf(start);
    if (n.nodeType === "IfStatement" && lines.has(line) && (n.falseBody === null || n.falseBody === undefined)) {
      // solc's range of `if (c) revert E();` stops before the semicolon.
      const end = bytes[start + length] === 0x3b ? start + length + 1 : start + length;
      edits.push({ at: end, text: ` else { ${log(`${file}:${line} false`)}; }` });
      probes.push(`${file}:${line} false`);
    }
    if (n.nodeType === "Conditional" && lines.has(line)) {
      if (statement === undefined || braceless) throw new Error(`${file}:${line}: cannot place a probe before this ?:`);
      const [cs, cl] = (n.condition as AstNode).src.split(":").map(Number) as [number, number];
      const condition = bytes.subarray(cs, cs + cl).toString("utf8");
      const id = `${file}:${line}`;
      edits.push({
        at: Number(statement.src.split(":")[0]),
        text: `console.log((${condition}) ? "${PROBE_PREFIX}${id} true" : "${PROBE_PREFIX}${id} false"); `,
      });
      probes.push(`${id} true`, `${id} false`);
    }
    const enclosing = isPlainStatement(n) ? n : statement;
    for (const [key, value] of Object.entries(n)) {
      if (key === "src") continue;
      const isBody = ["trueBody", "falseBody", "body"].includes(key) && !isBlock(value as AstNode);
      if (isBody) visit(value, undefined, true);
      else visit(value, enclosing, braceless);
    }
  };
  visit(ast, undefined, false);
  edits.sort((a, b) => b.at - a.at);
  let probed = bytes;
  for (const { at, text } of edits) {
    probed = Buffer.concat([probed.subarray(0, at), Buffer.from(text, "utf8"), probed.subarray(at)]);
  }
  const text = probed
    .toString("utf8")
    .replace(/(pragma solidity[^;]*;)/, `$1\nimport {console} from "hardhat/console.sol";`);
  return { source: text, probes };
}

/** Which probes fired during each mocha test, from the spec reporter's output (a test's title follows its logs). */
export function attributeProbes(output: string): Map<string, Set<string>> {
  const byTest = new Map<string, Set<string>>();
  let pending = new Set<string>();
  for (const line of output.split("\n")) {
    const index = line.indexOf(PROBE_PREFIX);
    if (index !== -1) {
      pending.add(line.slice(index + PROBE_PREFIX.length).trim());
      continue;
    }
    const title = /^\s*(?:✔|\d+\))\s+(.*?)(?: \(\d+ms\))?$/.exec(line);
    if (title !== null) {
      const set = byTest.get(title[1]!) ?? new Set<string>();
      pending.forEach((probe) => set.add(probe));
      byTest.set(title[1]!, set);
      pending = new Set();
    }
  }
  return byTest;
}

/** Checks every vouched side's probe fired in the test that vouches for it. */
export function checkVouchers(
  vouchers: Vouchers,
  probes: string[],
  byTest: Map<string, Set<string>>,
): { verified: string[]; problems: string[] } {
  const verified: string[] = [];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(vouchers)) {
    const named = typeof value === "string" ? [["*", value] as const] : Object.entries(value);
    for (const [side, test] of named) {
      if (test.startsWith(UNREACHABLE_PREFIX)) continue;
      const ids = probes.filter((id) => id.startsWith(`${key} `) && (side === "*" || id === `${key} ${side}`));
      if (ids.length === 0) problems.push(`${key} ${side}: no probe could be placed for this side`);
      for (const id of ids) {
        const fired = byTest.get(test);
        if (fired === undefined) problems.push(`${id}: "${test}" did not run as a mocha test`);
        else if (!fired.has(id)) problems.push(`${id}: "${test}" ran but never took this side`);
        else verified.push(`${id} <- ${test}`);
      }
    }
  }
  return { verified, problems };
}

/**
 * Copies the working tree (tracked and new files) to a temporary directory, inserts the probes into the core
 * modules there, runs the mocha tests with `--coverage` (which skips the ERC-7562 checker, which would flag the
 * probes' calls to the console address) and checks each voucher against the probes its test fired.
 */
export function verifyVouchers(root: string): { ok: boolean; output: string } {
  const vouchers = JSON.parse(readFileSync(path.join(root, BRANCHES_FILE), "utf8")) as Vouchers;
  const parent = mkdtempSync(path.join(os.tmpdir(), "leash-probes-"));
  try {
    const copy = path.join(parent, "repo");
    const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root })
      .toString("utf8")
      .split("\0")
      .filter((f) => f !== "" && f !== "node_modules" && existsSync(path.join(root, f)));
    for (const file of listed) {
      mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
      copyFileSync(path.join(root, file), path.join(copy, file));
    }
    symlinkSync(realpathSync(path.join(root, "node_modules")), path.join(copy, "node_modules"));
    const shared = path.join(root, "..", "shared");
    if (existsSync(shared)) symlinkSync(realpathSync(shared), path.join(parent, "shared"));
    const probes: string[] = [];
    for (const { file } of THRESHOLDS.filter((t) => t.branches)) {
      const source = readFileSync(path.join(root, file), "utf8");
      const lines = new Set(
        Object.keys(vouchers)
          .filter((key) => key.startsWith(`${file}:`))
          .map((key) => Number(key.slice(file.length + 1))),
      );
      const probed = insertProbes(source, parseSolidity(source, file), file, lines);
      writeFileSync(path.join(copy, file), probed.source);
      probes.push(...probed.probes);
    }
    const cli = path.join(copy, "node_modules/hardhat/dist/src/cli.js");
    const run = spawnSync(process.execPath, [cli, "test", "mocha", "--coverage"], {
      cwd: copy,
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    const output = `${run.stdout ?? ""}${run.stderr ?? ""}`;
    if (run.status !== 0) {
      return { ok: false, output: `the probed test run failed (exit ${run.status}):\n${output.slice(-4000)}` };
    }
    const { verified, problems } = checkVouchers(vouchers, probes, attributeProbes(output));
    const lines = [
      `Vouchers of ${BRANCHES_FILE}: ${verified.length} side(s) verified by probe, ${problems.length} problem(s)`,
      ...verified.map((v) => `  ok   ${v}`),
      ...problems.map((p) => `  FAIL ${p}`),
    ];
    return { ok: problems.length === 0, output: lines.join("\n") };
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { ok, output } = process.argv.includes("--verify-vouchers")
    ? verifyVouchers(process.cwd())
    : runGate(process.cwd());
  console.log(output);
  process.exit(ok ? 0 : 1);
}
