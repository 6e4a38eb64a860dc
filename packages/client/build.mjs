// Builds dist/ from the repository's client/ sources and the contracts' TypeChain types (which `npx hardhat build`
// generates at the repository root): JavaScript and declarations, no contract bytecode (client/contracts.ts binds the
// contracts from their ABIs). Run by `npm pack` (prepack) and by the root's `npm run build`.
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
if (!existsSync(path.join(root, "typechain-types", "index.ts"))) {
  console.error("@leashkit/client: the contracts' types are missing; run `npx hardhat build` at the repository root");
  process.exit(1);
}
rmSync(path.join(here, "dist"), { recursive: true, force: true });
const tsc = createRequire(path.join(root, "package.json")).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", path.join(here, "tsconfig.json")], { stdio: "inherit" });
