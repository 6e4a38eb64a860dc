/**
 * `npm run coverage` runs `hardhat test --coverage`, then this gate (`node scripts/coverage-gate.ts`). It fails
 * (exit 1) unless:
 * - line coverage (coverage/lcov.info) reaches each file's threshold in THRESHOLDS: 100 % for the session module
 *   and the spend-limit hook, 95 % for the account and the owner module;
 * - every branch of the two core modules is accounted for: derived covered from the line data (below), vouched by
 *   a named test in test/coverage/branches.json, or listed there as unreachable with a matching
 *   `// coverage: unreachable because ...` comment in the source. Entries are keyed by the branch's function and
 *   its ordinal there, `"<file>:<function>#<n>"` (branchSites), not by line, so that edits elsewhere leave them
 *   valid; messages give the key and the branch's current line.
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
  // The account's seams (issue #15): module bookkeeping, views, selector rules, validation-data combination.
  { file: "contracts/account/ModuleManagerInternals.sol", lines: 95, branches: false },
  { file: "contracts/account/ModularAccountView.sol", lines: 100, branches: false },
  { file: "contracts/libraries/KnownSelectorsLib.sol", lines: 100, branches: false },
  { file: "contracts/libraries/ValidationDataLib.sol", lines: 100, branches: false },
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
  /** The enclosing function (see branchSites): the key's `<function>`. */
  fn: string;
  /** 1-based rank of this `if` / `?:` / `try` among the branch constructs of `fn`, in source order. */
  ordinal: number;
  /** Line of the `if` / `?:` / `try` (where the source is now: for messages, the witness and the comment check). */
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

/** Where a branch construct sits: the label of its function and its rank among that function's constructs. */
export interface BranchSite {
  fn: string;
  ordinal: number;
}

/** The key of a branch in test/coverage/branches.json: `"<file>:<function>#<ordinal>"`. */
export function branchKey(file: string, branch: BranchSite): string {
  return `${file}:${branch.fn}#${branch.ordinal}`;
}

const BRANCH_NODE_TYPES = ["IfStatement", "Conditional", "TryStatement"];

/**
 * Names every `if` / `?:` / `try` of `ast` by its function and its ordinal there, so that its key survives lines
 * inserted anywhere and edits to other functions; only adding or removing a branch construct earlier in the same
 * function shifts it.
 * - The function is the enclosing function's name (`constructor`, `fallback`, `receive` for those) or modifier's
 *   name, or, for a construct in an initializer, the state variable's or constant's name.
 * - Where two of those with a body share a name in the file (overloads), each is named with its parameter types,
 *   `f(uint256,bytes)`; where that is still not enough (the same function in two contracts of the file), with its
 *   contract's too, `C.f(uint256)`. A remaining clash (invalid Solidity) throws.
 * - Ordinals count the function's branch constructs from 1 in source order; a construct comes before the ones
 *   nested in it (an `if` before a `?:` in its condition or body, an `if` before its `else if`).
 */
export function branchSites(ast: AstNode, source: string, file = "Source.sol"): Map<AstNode, BranchSite> {
  const bytes = Buffer.from(source, "utf8");
  const lineOf = lineOfOffset(source);
  const range = (n: AstNode) => n.src.split(":").map(Number) as [number, number];
  const typeText = (n: AstNode) => {
    const [start, length] = range(n);
    return bytes
      .subarray(start, start + length)
      .toString("utf8")
      .replace(/\s+/g, " ")
      .replace(/\s*(=>|[(),[\]])\s*/g, "$1");
  };
  interface Owner {
    node: AstNode;
    contract: string | undefined;
    base: string;
    params: string;
    constructs: AstNode[];
  }
  const owners: Owner[] = [];
  const visit = (node: unknown, contract: string | undefined, owner: Owner | undefined): void => {
    if (Array.isArray(node)) {
      node.forEach((child) => visit(child, contract, owner));
      return;
    }
    if (node === null || typeof node !== "object") return;
    const n = node as AstNode;
    let inner = owner;
    if (n.nodeType === "ContractDefinition") contract = n.name as string;
    if (owner === undefined && (n.nodeType === "FunctionDefinition" || n.nodeType === "ModifierDefinition")) {
      const kind = n.kind as string | undefined;
      const base = kind === "constructor" || kind === "fallback" || kind === "receive" ? kind : (n.name as string);
      const parameters = ((n.parameters as AstNode | undefined)?.parameters as AstNode[] | undefined) ?? [];
      const params = `(${parameters.map((p) => typeText(p.typeName as AstNode)).join(",")})`;
      inner = { node: n, contract, base, params, constructs: [] };
      // Functions without a body (interfaces, abstract ones) hold no branch and are not what a key names.
      if (n.body !== null && n.body !== undefined) owners.push(inner);
    } else if (owner === undefined && n.nodeType === "VariableDeclaration") {
      inner = { node: n, contract, base: n.name as string, params: "", constructs: [] };
    }
    if (BRANCH_NODE_TYPES.includes(n.nodeType)) {
      if (inner === undefined) {
        throw new Error(
          `${file}:${lineOf(range(n)[0])}: a branch outside any function, modifier or initializer; ` +
            `the coverage gate keys branches by their function`,
        );
      }
      if (inner.constructs.length === 0 && !owners.includes(inner)) owners.push(inner);
      inner.constructs.push(n);
    }
    for (const [key, value] of Object.entries(n)) {
      if (key !== "src" && key !== "nodeType") visit(value, contract, inner);
    }
  };
  visit(ast, undefined, undefined);

  const labels = new Map<Owner, string>(owners.map((o) => [o, o.base]));
  const refine = (rename: (o: Owner, label: string) => string) => {
    const groups = new Map<string, Owner[]>();
    for (const o of owners) groups.set(labels.get(o)!, [...(groups.get(labels.get(o)!) ?? []), o]);
    for (const group of groups.values()) {
      if (group.length > 1) for (const o of group) labels.set(o, rename(o, labels.get(o)!));
    }
  };
  refine((o) => o.base + o.params);
  refine((o, label) => (o.contract === undefined ? label : `${o.contract}.${label}`));
  const seen = new Map<string, Owner>();
  for (const o of owners) {
    const label = labels.get(o)!;
    const other = seen.get(label);
    if (other !== undefined) {
      throw new Error(
        `${file}: lines ${lineOf(range(other.node)[0])} and ${lineOf(range(o.node)[0])} both define ${label}; ` +
          `the coverage gate keys branches by function and cannot tell them apart`,
      );
    }
    seen.set(label, o);
  }

  const sites = new Map<AstNode, BranchSite>();
  for (const o of owners) {
    const ordered = [...o.constructs].sort((a, b) => range(a)[0] - range(b)[0] || range(b)[1] - range(a)[1]);
    ordered.forEach((n, i) => sites.set(n, { fn: labels.get(o)!, ordinal: i + 1 }));
  }
  return sites;
}

/** Every branch of `ast` (if, ?:, try) with its key's parts (branchSites) and the line that witnesses each side. */
export function classifyBranches(ast: AstNode, source: string, file = "Source.sol"): Branch[] {
  const lineOf = lineOfOffset(source);
  const sites = branchSites(ast, source, file);
  const branches: Branch[] = [];
  const witness = (node: AstNode) => ({ witnessLine: lineOf(srcStart(node)), witnessStart: srcStart(node) });
  const at = (n: AstNode, kind: BranchKind) => ({ kind, ...sites.get(n)!, line: lineOf(srcStart(n)) });

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
      const site = at(n, "if");
      const trueBody = n.trueBody as AstNode;
      const falseBody = n.falseBody as AstNode | null;
      const trueFirst = firstStatement(trueBody);
      branches.push(
        trueFirst === undefined
          ? { ...site, side: "true", underivable: "the true body is empty" }
          : { ...site, side: "true", ...witness(trueFirst) },
      );
      if (falseBody !== null && falseBody !== undefined) {
        const falseFirst = firstStatement(falseBody);
        branches.push(
          falseFirst === undefined
            ? { ...site, side: "false", underivable: "the else body is empty" }
            : { ...site, side: "false", ...witness(falseFirst) },
        );
      } else if (!alwaysTerminates(trueBody)) {
        branches.push({ ...site, side: "false", underivable: "no else and the true body falls through" });
      } else if (next === undefined) {
        branches.push({ ...site, side: "false", underivable: "no else and no statement after the if" });
      } else {
        branches.push({ ...site, side: "false", ...witness(firstStatement(next) ?? next) });
      }
      visit(n.condition, undefined);
      visit(trueBody, undefined);
      if (falseBody !== null && falseBody !== undefined) visit(falseBody, undefined);
      return;
    }
    if (n.nodeType === "Conditional") {
      const site = at(n, "ternary");
      for (const side of ["true", "false"]) {
        branches.push({ ...site, side, underivable: "?: is an expression; expressions are not instrumented" });
      }
    }
    if (n.nodeType === "TryStatement") {
      const site = at(n, "try");
      (n.clauses as AstNode[]).forEach((clause, i) => {
        const side = i === 0 ? "success" : `catch ${i}`;
        const first = firstStatement(clause.block as AstNode);
        branches.push(
          first === undefined
            ? { ...site, side, underivable: "the clause body is empty" }
            : { ...site, side, ...witness(first) },
        );
      });
    }
    for (const [key, value] of Object.entries(n)) {
      if (key === "src" || key === "nodeType") continue;
      visit(value, undefined);
    }
  };
  visit(ast, undefined);
  branches.sort((a, b) => a.line - b.line || a.ordinal - b.ordinal || a.side.localeCompare(b.side));
  return branches;
}

// ---------------------------------------------------------------------------------------------------------------
// Vouchers (test/coverage/branches.json) and the suite's test names

/**
 * `"<file>:<function>#<ordinal>"` (branchKey: the branch's function and its rank among the function's `if` / `?:`
 * / `try`, see branchSites) → the title of the test that takes the sides the line data cannot show, or
 * `"unreachable: <reason>"`. When the branch has more than one side to vouch for and they differ, the value is an
 * object keyed by side ("true", "false", "success", "catch 1"...).
 */
export type VoucherValue = string | Record<string, string>;
export type Vouchers = Record<string, VoucherValue>;

export function voucherFor(vouchers: Vouchers, file: string, branch: Branch): string | undefined {
  const value = vouchers[branchKey(file, branch)];
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value[branch.side];
}

/** How messages name a branch side: by its key and side, then where it is now. */
export function branchLabel(file: string, branch: Branch): string {
  return `${branchKey(file, branch)} ${branch.side} (${branch.kind} at line ${branch.line})`;
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

export const VERIFY_COMMAND = "node scripts/coverage-gate.ts --verify-vouchers";

/** Accounts for every branch of one file; `problems` lists what fails the gate. */
export function evaluateBranches(
  file: string,
  branches: Branch[],
  lines: Map<number, number>,
  vouchers: Vouchers,
  testNames: Set<string>,
  source: string,
): BranchReport {
  const report: BranchReport = { total: branches.length, derivedCovered: 0, vouched: 0, unreachable: 0, problems: [] };
  // Key → the sides of that branch the line data does not show taken: what an entry may vouch for.
  const needed = new Map<string, Set<string>>();
  for (const branch of branches) {
    const label = branchLabel(file, branch);
    const taken = branch.witnessLine !== undefined && (lines.get(branch.witnessLine) ?? 0) > 0;
    if (taken) {
      report.derivedCovered++;
      continue;
    }
    const key = branchKey(file, branch);
    needed.set(key, (needed.get(key) ?? new Set<string>()).add(branch.side));
    const voucher = voucherFor(vouchers, file, branch);
    if (voucher === undefined) {
      report.problems.push(
        branch.witnessLine === undefined
          ? `${label}: cannot be derived (${branch.underivable}); name the test that takes it under "${key}" in ` +
              `${BRANCHES_FILE} (\`${VERIFY_COMMAND}\` lists the tests that do)`
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
      report.problems.push(
        `${label}: no test named "${voucher}" in the suite (renamed?); \`${VERIFY_COMMAND}\` lists the tests ` +
          `that take this side`,
      );
    } else report.vouched++;
  }
  // Entries, and sides of entries, that no longer match a branch side needing them are stale.
  for (const [key, value] of Object.entries(vouchers)) {
    if (!key.startsWith(`${file}:`)) continue;
    const sides = needed.get(key);
    if (sides === undefined) {
      report.problems.push(`${BRANCHES_FILE}: stale entry "${key}" (${whyStale(file, key, branches)})`);
    } else if (typeof value !== "string") {
      const ofKey = branches.filter((b) => branchKey(file, b) === key);
      for (const side of Object.keys(value).filter((s) => !sides.has(s))) {
        const branch = ofKey.find((b) => b.side === side);
        const why =
          branch === undefined
            ? `the ${ofKey[0]!.kind} at line ${ofKey[0]!.line} has no such side`
            : `the line data shows it taken: line ${branch.witnessLine} executed`;
        report.problems.push(`${BRANCHES_FILE}: stale side "${side}" of "${key}" (${why})`);
      }
    }
  }
  return report;
}

/** Why `key` names no branch side that needs a voucher, in words that say where to look. */
function whyStale(file: string, key: string, branches: Branch[]): string {
  const rest = key.slice(file.length + 1);
  const match = /^(.+)#(\d+)$/.exec(rest);
  if (match === null) {
    return /^\d+$/.test(rest)
      ? `a "<file>:<line>" key: entries are keyed "<file>:<function>#<n>", the nth if / ?: / try of the function`
      : `not a "<file>:<function>#<n>" key`;
  }
  const fn = match[1]!;
  const ordinal = Number(match[2]);
  const ofFn = branches.filter((b) => b.fn === fn);
  if (ofFn.length === 0) {
    const overloads = [...new Set(branches.filter((b) => b.fn.startsWith(`${fn}(`)).map((b) => b.fn))];
    return overloads.length > 0
      ? `${fn} is overloaded now; its branches are keyed ${overloads.map((o) => `"${file}:${o}#<n>"`).join(", ")}`
      : `no if / ?: / try in a function named ${fn} in ${file}`;
  }
  const count = Math.max(...ofFn.map((b) => b.ordinal));
  const shift = "; ordinals shift when one is added or removed above it in the function";
  if (ordinal > count || ordinal < 1) {
    return `${fn} has ${count} branch construct${count === 1 ? "" : "s"} (if / ?: / try)${shift}`;
  }
  const branch = ofFn.find((b) => b.ordinal === ordinal)!;
  return `the ${branch.kind} at line ${branch.line} needs none: the line data shows each side taken${shift}`;
}

/**
 * Uncovered lines excused by an unreachable entry whose branch line carries the source comment: the line of the
 * branch and the witness lines of its sides.
 */
export function excusedLines(
  file: string,
  uncovered: number[],
  branches: Branch[],
  vouchers: Vouchers,
  source: string,
): number[] {
  const excusable = new Set<number>();
  for (const branch of branches) {
    const voucher = voucherFor(vouchers, file, branch);
    if (voucher === undefined || !voucher.startsWith(UNREACHABLE_PREFIX)) continue;
    if (voucher.slice(UNREACHABLE_PREFIX.length).trim() === "" || !hasUnreachableComment(source, branch.line)) continue;
    excusable.add(branch.line);
    if (branch.witnessLine !== undefined) excusable.add(branch.witnessLine);
  }
  return uncovered.filter((line) => excusable.has(line));
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
    const branches = threshold.branches
      ? classifyBranches(parseSolidity(source, threshold.file), source, threshold.file)
      : [];
    const excused = excusedLines(threshold.file, figures.uncovered, branches, vouchers, source);
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
      const report = evaluateBranches(threshold.file, branches, lines, vouchers, testNames, source);
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

/** A probe: `"<key> <side>"` and the line of its branch. */
export interface Probe {
  id: string;
  line: number;
}

/**
 * Inserts a `console.log` probe at every side of the branches of `keys` (and of `optional`, where one can be
 * placed) that the line data cannot show: an `else` logging the false side of an `if` without one, and, before the
 * statement holding a `?:`, a log of which side its condition picks. Returns the probed source and the probes,
 * whose ids are `"<file>:<function>#<n> <side>"`.
 */
export function insertProbes(
  source: string,
  ast: AstNode,
  file: string,
  keys: Set<string>,
  optional: Set<string> = new Set(),
): { source: string; probes: Probe[] } {
  const bytes = Buffer.from(source, "utf8");
  const lineOf = lineOfOffset(source);
  const sites = branchSites(ast, source, file);
  const edits: { at: number; text: string }[] = [];
  const probes: Probe[] = [];
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
    const site = sites.get(n);
    const key = site === undefined ? undefined : branchKey(file, site);
    const required = key !== undefined && keys.has(key);
    const wanted = required || (key !== undefined && optional.has(key));
    if (n.nodeType === "IfStatement" && wanted && (n.falseBody === null || n.falseBody === undefined)) {
      // solc's range of `if (c) revert E();` stops before the semicolon.
      const end = bytes[start + length] === 0x3b ? start + length + 1 : start + length;
      edits.push({ at: end, text: ` else { ${log(`${key} false`)}; }` });
      probes.push({ id: `${key} false`, line });
    }
    if (n.nodeType === "Conditional" && wanted) {
      if (statement === undefined || braceless) {
        if (required) throw new Error(`${key} (line ${line}): cannot place a probe before this ?:`);
      } else {
        const [cs, cl] = (n.condition as AstNode).src.split(":").map(Number) as [number, number];
        const condition = bytes.subarray(cs, cs + cl).toString("utf8");
        edits.push({
          at: Number(statement.src.split(":")[0]),
          text: `console.log((${condition}) ? "${PROBE_PREFIX}${key} true" : "${PROBE_PREFIX}${key} false"); `,
        });
        probes.push({ id: `${key} true`, line }, { id: `${key} false`, line });
      }
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

/** `tests that take it: "a", "b", "c" and 2 more`: the tests whose run fired probe `id`, in the order they ran. */
export function testsTaking(id: string, byTest: Map<string, Set<string>>, max = 3): string {
  const takers = [...byTest].filter(([, fired]) => fired.has(id)).map(([title]) => `"${title}"`);
  if (takers.length === 0) return "no test took it";
  const more = takers.length > max ? ` and ${takers.length - max} more` : "";
  return `tests that take it: ${takers.slice(0, max).join(", ")}${more}`;
}

/**
 * Checks every vouched side's probe fired in the test that vouches for it; a failure names up to three tests that
 * do take the side, to replace a stale title with. `unvouched` lists the probed sides no entry names (a new
 * branch) with the tests that take them.
 */
export function checkVouchers(
  vouchers: Vouchers,
  probes: Probe[],
  byTest: Map<string, Set<string>>,
): { verified: string[]; problems: string[]; unvouched: string[] } {
  const verified: string[] = [];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(vouchers)) {
    const named = typeof value === "string" ? [["*", value] as const] : Object.entries(value);
    for (const [side, test] of named) {
      if (test.startsWith(UNREACHABLE_PREFIX)) continue;
      const ofSide = probes.filter((p) => p.id.startsWith(`${key} `) && (side === "*" || p.id === `${key} ${side}`));
      if (ofSide.length === 0) {
        const which = side === "*" ? key : `${key} ${side}`;
        problems.push(`${which}: no probe could be placed for this side (no such branch, or an empty body)`);
      }
      for (const { id, line } of ofSide) {
        const fired = byTest.get(test);
        if (fired === undefined) {
          problems.push(`${id} (line ${line}): "${test}" did not run as a mocha test; ${testsTaking(id, byTest)}`);
        } else if (!fired.has(id)) {
          problems.push(`${id} (line ${line}): "${test}" ran but never took this side; ${testsTaking(id, byTest)}`);
        } else verified.push(`${id} <- ${test}`);
      }
    }
  }
  const unvouched = probes
    .filter(({ id }) => vouchers[id.slice(0, id.lastIndexOf(" "))] === undefined)
    .map(({ id, line }) => `${id} (line ${line}): ${testsTaking(id, byTest)}`);
  return { verified, problems, unvouched };
}

/**
 * Copies the working tree (tracked and new files) to a temporary directory, inserts the probes into the core
 * modules there, runs the mocha tests with `--coverage` (which skips the ERC-7562 checker, which would flag the
 * probes' calls to the console address) and checks each voucher against the probes its test fired. Sides no entry
 * vouches for and the line data cannot show are probed too, to list the tests that take them.
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
    const probes: Probe[] = [];
    for (const { file } of THRESHOLDS.filter((t) => t.branches)) {
      const source = readFileSync(path.join(root, file), "utf8");
      const ast = parseSolidity(source, file);
      const keys = new Set(Object.keys(vouchers).filter((key) => key.startsWith(`${file}:`)));
      const unvouched = new Set(
        classifyBranches(ast, source, file)
          .filter((b) => b.witnessLine === undefined)
          .map((b) => branchKey(file, b))
          .filter((key) => !keys.has(key)),
      );
      const probed = insertProbes(source, ast, file, keys, unvouched);
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
    const { verified, problems, unvouched } = checkVouchers(vouchers, probes, attributeProbes(output));
    const lines = [
      `Vouchers of ${BRANCHES_FILE}: ${verified.length} side(s) verified by probe, ${problems.length} problem(s)` +
        (unvouched.length > 0 ? `, ${unvouched.length} side(s) with no entry` : ""),
      ...verified.map((v) => `  ok   ${v}`),
      ...problems.map((p) => `  FAIL ${p}`),
      ...unvouched.map((u) => `  none ${u}`),
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
