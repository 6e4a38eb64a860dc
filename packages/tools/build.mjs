// Builds dist/ (JavaScript and declarations) from src/. `@leashkit/client` is resolved as a user resolves it, from
// node_modules (the workspace link to packages/client, built before this package), not from the repository's
// sources, so the declarations name the published package. Run by `npm pack` (prepack) and the root's `npm run build`.
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
if (!existsSync(path.join(root, "packages/client/dist/client/index.d.ts"))) {
  console.error("@leashkit/agent-tools: @leashkit/client is not built; run `npm run build` at the repository root");
  process.exit(1);
}
rmSync(path.join(here, "dist"), { recursive: true, force: true });
const tsc = createRequire(path.join(root, "package.json")).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", path.join(here, "tsconfig.json")], { stdio: "inherit" });
