/**
 * docs/THREAT-MODEL.md stays true: every attack class of ../shared/THREATS.md is in it, each lists at least one test
 * unless it is marked `Pending: #N` (the open issue that will close it), and every listed test exists in the suite (a
 * mocha `it` title or a Solidity test function). Pending classes are printed on every run so they stay visible.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

import { expect } from "chai";

const root = new URL("../../", import.meta.url).pathname;

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, suffix);
    return path.endsWith(suffix) ? [path] : [];
  });
}

/** Every test name in the suite; `${...}` parts of template titles become wildcards. */
function testNames(): { exact: Set<string>; patterns: RegExp[] } {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const file of filesUnder(join(root, "test"), ".ts")) {
    // `it(title, …)`, and the compat suite's `itOn(kind, key, title, …)`.
    const titled = /\b(?:it\(|itOn\(\s*\w+,\s*"[^"]*",)\s*(["`])((?:(?!\1).)*)\1/g;
    for (const match of readFileSync(file, "utf8").matchAll(titled)) {
      const title = match[2]!;
      if (title.includes("${")) {
        exact.add(title);
        const escaped = title.split(/\$\{[^}]*\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
        patterns.push(new RegExp(`^${escaped.join(".+")}$`));
      } else {
        exact.add(title);
      }
    }
  }
  for (const file of filesUnder(join(root, "contracts", "test"), ".t.sol")) {
    for (const match of readFileSync(file, "utf8").matchAll(/function ((?:test|testFuzz|invariant)_\w+)/g)) {
      exact.add(match[1]!);
    }
  }
  return { exact, patterns };
}

interface ThreatClass {
  id: string;
  title: string;
  tests: string[];
  /** The text after `Pending: ` (it names the issue that closes the class), or undefined. */
  pending: string | undefined;
}

function threatClasses(): ThreatClass[] {
  const doc = readFileSync(join(root, "docs", "THREAT-MODEL.md"), "utf8");
  return doc
    .split(/^### /m)
    .slice(1)
    .map((section) => ({
      id: section.slice(0, section.indexOf(".")),
      title: section.slice(section.indexOf(".") + 2, section.indexOf("\n")),
      tests: [...section.matchAll(/^- `([^`]+)`/gm)].map((m) => m[1]!),
      pending: /^Pending: (.*)$/m.exec(section)?.[1],
    }));
}

describe("docs/THREAT-MODEL.md", function () {
  const classes = threatClasses();
  const { exact, patterns } = testNames();

  it("covers every attack class of THREATS.md, numbered the same", function () {
    const threats = readFileSync(join(root, "..", "shared", "THREATS.md"), "utf8");
    const ids = [...threats.matchAll(/^(\d+a?)\. /gm)].map((m) => m[1]!);
    expect(classes.map((c) => c.id)).to.deep.equal(ids);
  });

  it("lists at least one test for every class that is not marked pending", function () {
    const empty = classes.filter((c) => !c.pending && c.tests.length === 0).map((c) => c.id);
    expect(empty, `classes without a test: ${empty.join(", ")}`).to.deep.equal([]);
  });

  it("marks a class pending only by naming the issue that closes it, and only while it lists no test", function () {
    const pending = classes.filter((c) => c.pending !== undefined);
    for (const c of pending)
      console.log(`      pending: class ${c.id} (${c.title.slice(0, 60)}…), ${c.pending!.split(" ")[0]}`);
    const unnamed = pending.filter((c) => !/^#\d+\b/.test(c.pending!)).map((c) => c.id);
    expect(unnamed, `pending classes that name no issue (write "Pending: #N …")`).to.deep.equal([]);
    const both = pending.filter((c) => c.tests.length > 0).map((c) => c.id);
    expect(both, `classes both pending and tested: drop their Pending line`).to.deep.equal([]);
  });

  it("names only tests that exist in the suite", function () {
    const missing = classes
      .flatMap((c) => c.tests)
      .filter((name) => !exact.has(name) && !patterns.some((pattern) => pattern.test(name)));
    expect(missing, `tests named in THREAT-MODEL.md but not found: ${missing.join(" | ")}`).to.deep.equal([]);
  });
});
