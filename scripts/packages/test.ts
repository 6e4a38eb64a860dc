/**
 * `npm run test:packages`: Leash as an integrator installs it. For each package of packages/ it:
 *
 * 1. packs it (`npm pack`, which builds it) and checks what the tarball holds: its entry points and declarations, no
 *    contract bytecode, no test mocks;
 * 2. installs the tarballs into a fresh project outside the repository, with its own package.json and the lowest
 *    ethers and viem the packages support (their peer ranges' floors), and checks one copy of each is installed;
 * 3. type-checks there, strictly, the two quick starts of docs/INTEGRATORS.md (examples/quickstart.ts importing
 *    `@leashkit/client`, examples/quickstart-viem.ts importing `@leashkit/viem`) and their drivers, then runs them
 *    against a local `hardhat node` on which this repository deployed Leash behind the canonical EntryPoint and
 *    granted a session, the viem one through Pimlico's Alto: every payment must arrive;
 * 4. reports each package's packed and unpacked size and the minified size of an agent that imports only what it
 *    uses (esbuild, browser platform, ethers and viem external), and fails if the client agent is over its budget.
 *
 * Needs `npx hardhat build` first (CI runs `npm run build` before it) and the npm registry (for ethers and
 * TypeScript in the fresh project). LEASH_PACKAGES_KEEP=1 keeps the temporary project and prints where it is.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

import { network } from "hardhat";
import { Contract, HDNodeWallet, id, JsonRpcProvider, Mnemonic, parseEther, parseUnits, Wallet } from "ethers";

import type { LeashChainAddresses } from "../../client/addresses.js";
import { prepareGrant } from "../../client/grant.js";
import { writeSessionFile } from "../../client/node.js";
import { grantSession } from "../../client/owner.js";
import { sessionFileOf } from "../../client/sessionFile.js";
import { ensureEntryPoint } from "../../deploy/entryPoint.js";
import { deployLeashBehind } from "../../test/helpers/fixture.js";
import { startAlto, startHardhatNode, type LocalService } from "../local/services.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** The packages, in build order, and the files each tarball must hold. */
const PACKAGES = [
  {
    dir: path.join(ROOT, "packages/client"),
    entries: [
      "dist/client/index.js",
      "dist/client/index.d.ts",
      "dist/client/node.js",
      "dist/client/exports/agent.js",
      "dist/client/exports/owner.js",
      "dist/client/exports/read.js",
      "dist/client/exports/encoding.js",
      "package.json",
    ],
  },
  { dir: path.join(ROOT, "packages/viem"), entries: ["dist/index.js", "dist/index.d.ts", "package.json"] },
  {
    dir: path.join(ROOT, "packages/hardhat"),
    entries: [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/tasks/index.js",
      "dist/tasks/session/grant.js",
      "dist/ledger/ledgerTypedData.js",
      "package.json",
    ],
  },
  {
    dir: path.join(ROOT, "packages/tools"),
    entries: ["dist/index.js", "dist/index.d.ts", "dist/mcp.js", "dist/ai.js", "dist/bin.js", "package.json"],
  },
  {
    dir: path.join(ROOT, "packages/contracts"),
    entries: [
      "contracts/modules/SessionKeyValidationModule.sol",
      "contracts/account/ModularAccount.sol",
      "abi/SessionKeyValidationModule.json",
      "deployments.json",
      "dist/index.js",
      "dist/index.d.ts",
      "package.json",
    ],
  },
] as const;
/** The most an agent that imports only what it uses may weigh, minified, ethers excluded (issue #15: a fifth of 270 KB). */
const AGENT_BUNDLE_BUDGET = 54_000;
/** What the agent imports (the quick start's imports, plus the bundler client it would use in production). */
const AGENT_IMPORTS = ["sendSessionUserOp", "createBundlerClient", "EntryPoint__factory", "UserOpRefusedError"];
/** The TypeScript the fresh project type-checks with: the repository's own. */
const TYPESCRIPT_VERSION = (
  JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    devDependencies: Record<string, string>;
  }
).devDependencies.typescript!;
const TEST_MNEMONIC = "test test test test test test test test test test test junk";
/** The longest any one command may take (an `npm install` from the registry included). */
const COMMAND_TIMEOUT_MS = 300_000;

/** Runs a command, returning its stdout; on failure, throws with its output. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: COMMAND_TIMEOUT_MS,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout ?? ""}${stderr ?? ""}`, { cause: error });
  }
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`test:packages: ${message}`);
}

/**
 * Bundles `source` (an entry module importing the installed packages) with esbuild as an app would ship it: minified,
 * ESM, for a browser, with `externals` left out. Returns the bundle's size in bytes.
 */
function bundleSize(project: string, name: string, source: string, externals: string[]): number {
  writeFileSync(path.join(project, `src/${name}-entry.js`), `${source}\n`);
  const outfile = path.join(project, `${name}.min.js`);
  run(
    path.join(ROOT, "node_modules/.bin/esbuild"),
    [
      `src/${name}-entry.js`,
      "--bundle",
      "--minify",
      "--format=esm",
      "--platform=browser",
      ...externals.map((external) => `--external:${external}`),
      `--outfile=${outfile}`,
      "--log-level=error",
    ],
    project,
  );
  return statSync(outfile).size;
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

const failures: string[] = [];
const report: string[] = [];
const services: LocalService[] = [];
const project = mkdtempSync(path.join(tmpdir(), "leash-packages-"));
try {
  // 1. Pack.
  const packs: { name: string; filename: string; peerDependencies: Record<string, string> }[] = [];
  for (const spec of PACKAGES) {
    const manifest = JSON.parse(readFileSync(path.join(spec.dir, "package.json"), "utf8")) as {
      name: string;
      peerDependencies: Record<string, string>;
    };
    const [packed] = JSON.parse(
      run("npm", ["pack", "--json", "--pack-destination", project], spec.dir),
    ) as PackResult[];
    check(packed !== undefined, `npm pack of ${manifest.name} produced no tarball`);
    const files = packed!.files.map((file) => file.path);
    for (const entry of spec.entries) check(files.includes(entry), `${manifest.name}'s tarball lacks ${entry}`);
    const unwanted = files.filter((file) => /factories\/|\/test\/|mocks\/|\.ts$(?<!\.d\.ts)/.test(file));
    check(unwanted.length === 0, `${manifest.name}'s tarball holds ${unwanted.join(", ")}`);
    const bytecode = files.filter(
      (file) => file.endsWith(".js") && /"0x60[0-9a-f]{200,}/.test(readFileSync(path.join(spec.dir, file), "utf8")),
    );
    check(bytecode.length === 0, `${manifest.name}'s tarball carries contract bytecode in ${bytecode.join(", ")}`);
    report.push(
      `${manifest.name}: ${packed!.filename}, ${(packed!.size / 1000).toFixed(1)} kB packed, ` +
        `${(packed!.unpackedSize / 1000).toFixed(1)} kB unpacked, ${files.length} files`,
    );
    packs.push({ name: manifest.name, filename: packed!.filename, peerDependencies: manifest.peerDependencies });
  }
  type Pack = (typeof packs)[number];
  const [client, viem, plugin, tools, contracts] = packs as [Pack, Pack, Pack, Pack, Pack];

  // 2. A fresh project with the lowest ethers and viem the peer ranges allow.
  const floor = (range: string | undefined, peer: string) => {
    const version = /^\^?(\d+\.\d+\.\d+)$/.exec(range ?? "")?.[1];
    check(version !== undefined, `the ${peer} peer range "${range}" has no floor`);
    return version!;
  };
  const ethersFloor = floor(client.peerDependencies.ethers, "ethers");
  check(
    viem.peerDependencies.ethers === client.peerDependencies.ethers,
    `${viem.name} and ${client.name} differ on ethers`,
  );
  const viemFloor = floor(viem.peerDependencies.viem, "viem");
  writeFileSync(
    path.join(project, "package.json"),
    JSON.stringify(
      {
        name: "leash-integrator",
        private: true,
        type: "module",
        dependencies: {
          [client.name]: `file:./${client.filename}`,
          [viem.name]: `file:./${viem.filename}`,
          [contracts.name]: `file:./${contracts.filename}`,
          [tools.name]: `file:./${tools.filename}`,
          ethers: ethersFloor,
          viem: viemFloor,
          ai: floor(tools.peerDependencies.ai, "ai"),
        },
        devDependencies: { typescript: TYPESCRIPT_VERSION },
      },
      null,
      2,
    ),
  );
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], project);
  const installed = (name: string) =>
    (JSON.parse(readFileSync(path.join(project, "node_modules", name, "package.json"), "utf8")) as { version: string })
      .version;
  check(installed("ethers") === ethersFloor, `ethers ${installed("ethers")} installed, expected ${ethersFloor}`);
  check(installed("viem") === viemFloor, `viem ${installed("viem")} installed, expected ${viemFloor}`);
  for (const [owner, nested] of [
    [client.name, "ethers"],
    [viem.name, "ethers"],
    [viem.name, "viem"],
    [viem.name, client.name],
  ] as const) {
    const copy = path.join(project, "node_modules", owner, "node_modules", nested);
    check(!existsSync(copy), `${owner} installed its own ${nested}: two copies in one project`);
  }
  report.push(
    `${client.name} and ${viem.name} installed from their tarballs with ethers ${ethersFloor} and viem ${viemFloor}, ` +
      "one copy of each",
  );
  const manifest = client;

  // 3. The quick starts, as written, importing the packages; type-checked strictly, then run.
  mkdirSync(path.join(project, "src"));
  const quickstart = readFileSync(path.join(ROOT, "examples/quickstart.ts"), "utf8").replace(
    '"../client/index.js"',
    `"${manifest.name}"`,
  );
  check(quickstart.includes(`"${manifest.name}"`), "examples/quickstart.ts no longer imports ../client/index.js");
  writeFileSync(path.join(project, "src/quickstart.ts"), quickstart);
  writeFileSync(
    path.join(project, "src/run.ts"),
    [
      'import { readFileSync } from "node:fs";',
      'import { JsonRpcProvider, Wallet } from "ethers";',
      `import { loadSessionFile } from "${manifest.name}/node";`,
      'import { pay } from "./quickstart.js";',
      "",
      'const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as {',
      "  rpcUrl: string;",
      "  sessionFile: string;",
      "  agentKey: string;",
      "  submitterKey: string;",
      "  usdc: string;",
      "  recipient: string;",
      "};",
      "const provider = new JsonRpcProvider(config.rpcUrl);",
      "const grant = await loadSessionFile(config.sessionFile, (await provider.getNetwork()).chainId);",
      "const submitter = new Wallet(config.submitterKey, provider);",
      "const agentKey = new Wallet(config.agentKey);",
      "// Two payments back to back through one plain ethers Wallet submitter.",
      "for (let i = 0; i < 2; i++) {",
      "  console.log(await pay(grant, agentKey, submitter, config.usdc, config.recipient, 5_000_000n));",
      "}",
      "provider.destroy();",
      "",
    ].join("\n"),
  );
  const quickstartViem = readFileSync(path.join(ROOT, "examples/quickstart-viem.ts"), "utf8").replace(
    '"../packages/viem/src/index.js"',
    `"${viem.name}"`,
  );
  check(
    quickstartViem.includes(`"${viem.name}"`),
    "examples/quickstart-viem.ts no longer imports ../packages/viem/src/index.js",
  );
  writeFileSync(path.join(project, "src/quickstart-viem.ts"), quickstartViem);
  writeFileSync(
    path.join(project, "src/run-viem.ts"),
    [
      'import { readFileSync } from "node:fs";',
      'import { JsonRpcProvider } from "ethers";',
      'import type { Hex } from "viem";',
      'import { hardhat } from "viem/chains";',
      `import { loadSessionFile } from "${manifest.name}/node";`,
      'import { payWithViem } from "./quickstart-viem.js";',
      "",
      'const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as {',
      "  rpcUrl: string;",
      "  bundlerUrl: string;",
      "  sessionFile: string;",
      "  agentKey: Hex;",
      "  usdc: Hex;",
      "  recipient: Hex;",
      "};",
      "const provider = new JsonRpcProvider(config.rpcUrl);",
      "const session = await loadSessionFile(config.sessionFile, (await provider.getNetwork()).chainId);",
      "provider.destroy();",
      "const agent = { chain: hardhat, rpcUrl: config.rpcUrl, bundlerUrl: config.bundlerUrl, session, agentKey: config.agentKey };",
      "// Two payments back to back through the bundler.",
      "for (let i = 0; i < 2; i++) {",
      "  console.log(await payWithViem(agent, config.usdc, config.recipient, 5_000_000n));",
      "}",
      "",
    ].join("\n"),
  );
  // Each role's subpath of the client resolves, type-checks and runs.
  writeFileSync(
    path.join(project, "src/roles.ts"),
    [
      `import { createSessionHandle } from "${client.name}/agent";`,
      `import { sessionNonceKey } from "${client.name}/encoding";`,
      `import { prepareGrant } from "${client.name}/owner";`,
      `import { sessionStateOf } from "${client.name}/read";`,
      "",
      "const state = sessionStateOf({ revoked: false, killed: false, validAfter: 0n, validUntil: 10n }, 5n);",
      'const key = sessionNonceKey("0x0000000000000000000000000000000000000001", 1);',
      "console.log(`${typeof createSessionHandle} ${typeof prepareGrant} ${state} ${key}`);",
      "",
    ].join("\n"),
  );
  // @leashkit/agent-tools: the MCP server installed as a bin, driven by the MCP SDK's client (installed with it), and
  // the AI SDK tools built from the same definitions.
  writeFileSync(
    path.join(project, "src/mcp.ts"),
    [
      'import { readFileSync } from "node:fs";',
      'import { Client } from "@modelcontextprotocol/sdk/client/index.js";',
      'import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";',
      `import type { LeashTools } from "${tools.name}";`,
      `import { leashAiTools } from "${tools.name}/ai";`,
      `import { createLeashMcpServer } from "${tools.name}/mcp";`,
      "",
      'const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as {',
      "  rpcUrl: string; bundlerUrl: string; sessionFile: string; agentKeyFile: string; recipient: string;",
      "};",
      "const empty: LeashTools = { definitions: [], run: async () => ({}) };",
      'if (typeof createLeashMcpServer(empty).connect !== "function" || Object.keys(leashAiTools(empty)).length !== 0) {',
      '  throw new Error("the tools package\'s entry points do not work");',
      "}",
      "const transport = new StdioClientTransport({",
      '  command: "node_modules/.bin/leash-mcp",',
      "  args: [",
      '    "--grant", config.sessionFile, "--agent-key", config.agentKeyFile,',
      '    "--rpc-url", config.rpcUrl, "--bundler-url", config.bundlerUrl,',
      "  ],",
      '  stderr: "ignore",',
      "});",
      'const client = new Client({ name: "integrator", version: "0.0.0" });',
      "await client.connect(transport);",
      "const { tools } = await client.listTools();",
      'const paid = await client.callTool({ name: "pay", arguments: { asset: "USDC", to: config.recipient, amount: "1" } });',
      "const result = JSON.parse((paid.content as { text: string }[])[0]!.text) as { success?: boolean };",
      'console.log(`${tools.map((tool) => tool.name).join(",")} ${result.success === true ? "paid" : JSON.stringify(result)}`);',
      "await client.close();",
      "",
    ].join("\n"),
  );
  // @leashkit/contracts from TypeScript: its ABIs typed for viem (a wrong function name would not type-check).
  writeFileSync(
    path.join(project, "src/contracts.ts"),
    [
      'import { encodeFunctionData } from "viem";',
      `import { leashDeployments, sessionKeyValidationModuleAbi } from "${contracts.name}";`,
      "",
      'const data = encodeFunctionData({ abi: sessionKeyValidationModuleAbi, functionName: "revoke", args: [7] });',
      "console.log(`${leashDeployments.sessionModule} ${data}`);",
      "",
    ].join("\n"),
  );
  writeFileSync(
    path.join(project, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "es2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          noUncheckedIndexedAccess: true,
          // As `tsc --init` sets it; the package's own declarations are checked without it below.
          skipLibCheck: true,
          types: [],
          lib: ["es2023", "dom"],
          outDir: "out",
        },
        include: ["src"],
      },
      null,
      2,
    ),
  );
  const tsc = path.join(project, "node_modules/typescript/bin/tsc");
  run(process.execPath, [tsc, "-p", "."], project);
  // The package's declarations themselves, with library checking on. ethers pins an @types/node (18.15 in 6.13) that
  // today's TypeScript lib rejects on its own, so only diagnostics in the package's files count.
  writeFileSync(
    path.join(project, "tsconfig.declarations.json"),
    JSON.stringify({
      compilerOptions: { strict: true, module: "nodenext", skipLibCheck: false, noEmit: true, types: [] },
      include: [client, viem, contracts, tools].map((pack) => `node_modules/${pack.name}/dist/**/*.d.ts`),
    }),
  );
  let diagnostics = "";
  try {
    run(process.execPath, [tsc, "-p", "tsconfig.declarations.json"], project);
  } catch (error) {
    diagnostics = (error as Error).message;
  }
  // Every error in the packages' own declarations counts; not those inside third-party declarations (the @types/node
  // that ethers pins, the AI SDK's providers' types wanting @types/json-schema).
  const errors = diagnostics
    .split("\n")
    .filter(
      (line) =>
        /error TS\d+/.test(line) && (line.startsWith("node_modules/@leashkit/") || !line.startsWith("node_modules/")),
    );
  check(errors.length === 0, `the packages' declarations do not type-check:\n${errors.join("\n")}`);
  report.push(
    `both quick starts type-check against ${client.name} and ${viem.name} with ethers ${ethersFloor} and viem ` +
      `${viemFloor} (strict); the packages' declarations check with skipLibCheck off`,
  );

  const roles = run(process.execPath, ["out/roles.js"], project).trim();
  check(roles === `function function live ${(1n << 32n) + 1n}`, `the client's role subpaths answered "${roles}"`);
  report.push(`${client.name}/agent, /owner, /read and /encoding resolve, type-check and run from the tarball`);

  // @leashkit/contracts: its typed ABI encodes, its addresses are the deterministic ones, and its Solidity sources
  // compile (parsed and type-checked by the repository's solc) from the installed package, with the OpenZeppelin and
  // account-abstraction versions it installed.
  const [published, revokeData] = run(process.execPath, ["out/contracts.js"], project).trim().split(" ");
  const deterministic = JSON.parse(readFileSync(path.join(ROOT, "packages/contracts/deployments.json"), "utf8")) as {
    sessionModule: string;
  };
  check(published === deterministic.sessionModule, `${contracts.name} gives the session module as ${published}`);
  check(
    revokeData === id("revoke(uint32)").slice(0, 10) + (7).toString(16).padStart(64, "0"),
    `${contracts.name}'s ABI encoded revoke(7) as ${revokeData}`,
  );
  const solc = createRequire(path.join(ROOT, "package.json"))("solc") as {
    compile(input: string, callbacks: { import(file: string): { contents: string } | { error: string } }): string;
  };
  const consumer = [
    "// SPDX-License-Identifier: MIT",
    "pragma solidity ^0.8.28;",
    `import {ModularAccount} from "${contracts.name}/contracts/account/ModularAccount.sol";`,
    `import {SessionKeyValidationModule} from "${contracts.name}/contracts/modules/SessionKeyValidationModule.sol";`,
    `import {SpendLimitHook} from "${contracts.name}/contracts/modules/SpendLimitHook.sol";`,
    "contract Consumer {",
    "    function hookOf(SessionKeyValidationModule module) external view returns (address) {",
    "        return address(module.SPEND_LIMIT_HOOK());",
    "    }",
    "}",
  ].join("\n");
  const compiled = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: "Solidity",
        sources: { "Consumer.sol": { content: consumer } },
        // Analysis only (the AST): the sources resolve and type-check; no bytecode is needed.
        settings: { outputSelection: { "*": { "": ["ast"] } } },
      }),
      {
        import(file: string) {
          const resolved = path.join(project, "node_modules", file);
          return existsSync(resolved)
            ? { contents: readFileSync(resolved, "utf8") }
            : { error: `${file} is not in the project's node_modules` };
        },
      },
    ),
  ) as { errors?: { severity: string; formattedMessage: string }[]; sources?: Record<string, unknown> };
  const solcErrors = (compiled.errors ?? []).filter((error) => error.severity === "error");
  check(
    solcErrors.length === 0,
    `a contract importing ${contracts.name}'s sources does not compile:\n` +
      solcErrors.map((error) => error.formattedMessage).join("\n"),
  );
  report.push(
    `${contracts.name}: its typed ABI encodes revoke(7) under viem ${viemFloor}, its session module address is the ` +
      `deterministic one, and a contract importing its sources compiles (${Object.keys(compiled.sources ?? {}).length} ` +
      "source files resolved from node_modules)",
  );

  // A local node with Leash, an account and a session granted to a fresh agent key.
  const node = await startHardhatNode();
  services.push(node);
  const connection = await network.create({ network: "localhost", override: { url: node.url } });
  const { ethers } = connection;
  const [deployer, ownerSigner] = await ethers.getSigners();
  // Behind the canonical EntryPoint v0.8, which the bundler recognises.
  const deployment = await deployLeashBehind(ethers, await ensureEntryPoint(ethers.provider, deployer!));
  const usdc = await ethers.deployContract("TestToken", ["USD Coin", "USDC", 6]);
  await (await deployment.factory.createAccount(await ownerSigner!.getAddress(), 0n)).wait();
  const account = await deployment.factory.getAccountAddress(await ownerSigner!.getAddress(), 0n);
  await (await ownerSigner!.sendTransaction({ to: account, value: parseEther("1") })).wait();
  await (await usdc.mint(account, parseUnits("1000", 6))).wait();
  const { chainId } = await ethers.provider.getNetwork();
  const addresses: LeashChainAddresses = {
    chainId,
    entryPoint: await deployment.entryPoint.getAddress(),
    factory: await deployment.factory.getAddress(),
    ownerModule: await deployment.ownerModule.getAddress(),
    sessionModule: await deployment.sessionModule.getAddress(),
    spendLimitHook: await deployment.spendLimitHook.getAddress(),
    tokens: { USDC: await usdc.getAddress() },
    fromBlock: 0,
  };
  const agent = Wallet.createRandom();
  const plan = await prepareGrant({
    provider: ethers.provider,
    addresses,
    owner: await ownerSigner!.getAddress(),
    input: {
      account,
      agent: agent.address,
      ttl: "24h",
      allow: [`${addresses.tokens.USDC}:transfer(address,uint256)`],
      budgets: ["100 USDC/day", "0.05 ETH/day"],
    },
  });
  await grantSession({ signer: ownerSigner!, plan });
  const recipient = Wallet.createRandom().address;
  // Hardhat's default account #2 (the public test mnemonic) sends the bundle.
  const submitter = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(TEST_MNEMONIC), "m/44'/60'/0'/0/2");
  const configFile = path.join(project, "config.json");
  const sessionFile = path.join(project, "session.json");
  await writeSessionFile(sessionFile, sessionFileOf(plan));
  writeFileSync(
    configFile,
    JSON.stringify({
      rpcUrl: node.url,
      sessionFile,
      agentKey: agent.privateKey,
      submitterKey: submitter.privateKey,
      usdc: addresses.tokens.USDC,
      recipient,
    }),
  );
  const outcome = run(process.execPath, ["out/run.js", configFile], project).trim();
  check(outcome === "paid\npaid", `the quick start answered "${outcome}", not "paid" twice`);
  // A new connection: the node closes sockets idle for 5 s, and the driver may take longer, so the connection the
  // deployment used may be half closed by now (its next request would fail).
  const reader = new JsonRpcProvider(node.url);
  const received = (await new Contract(
    await usdc.getAddress(),
    ["function balanceOf(address) view returns (uint256)"],
    reader,
  ).getFunction("balanceOf")(recipient)) as bigint;
  reader.destroy();
  check(received === 10_000_000n, `the recipient holds ${received} USDC base units, not 10000000`);
  report.push(
    "quick start ran from the installed tarball on a local node, the grant read with loadSessionFile from " +
      `${manifest.name}/node: two payments back to back through one ethers Wallet submitter, 10 USDC received`,
  );

  // The viem quick start, through Alto, to a second recipient.
  const alto = await startAlto(node.url, addresses.entryPoint);
  services.push(alto);
  // The agent's MCP server from the installed bin, on the same session, sending through Alto as an agent would.
  const agentKeyFile = path.join(project, "agent.key");
  writeFileSync(agentKeyFile, agent.privateKey + "\n", { mode: 0o600 });
  const mcpConfigFile = path.join(project, "config-mcp.json");
  writeFileSync(
    mcpConfigFile,
    JSON.stringify({ rpcUrl: node.url, bundlerUrl: alto.url, sessionFile, agentKeyFile, recipient }),
  );
  const mcpOutcome = run(process.execPath, ["out/mcp.js", mcpConfigFile], project).trim();
  check(
    mcpOutcome === "session_status,pay,call,simulate,history paid",
    `the installed leash-mcp answered "${mcpOutcome}", not its tools and a payment`,
  );
  report.push(
    `${tools.name}: the installed leash-mcp bin, driven by the MCP SDK's client, listed the session's tools and paid ` +
      "1 USDC through Alto (--bundler-url); its MCP and AI SDK entry points type-check",
  );
  const viemRecipient = Wallet.createRandom().address;
  const viemConfigFile = path.join(project, "config-viem.json");
  writeFileSync(
    viemConfigFile,
    JSON.stringify({
      rpcUrl: node.url,
      bundlerUrl: alto.url,
      sessionFile,
      agentKey: agent.privateKey,
      usdc: addresses.tokens.USDC,
      recipient: viemRecipient,
    }),
  );
  const viemOutcome = run(process.execPath, ["out/run-viem.js", viemConfigFile], project).trim();
  check(viemOutcome === "paid\npaid", `the viem quick start answered "${viemOutcome}", not "paid" twice`);
  const viemReader = new JsonRpcProvider(node.url);
  const viemReceived = (await new Contract(
    await usdc.getAddress(),
    ["function balanceOf(address) view returns (uint256)"],
    viemReader,
  ).getFunction("balanceOf")(viemRecipient)) as bigint;
  viemReader.destroy();
  check(viemReceived === 10_000_000n, `the viem recipient holds ${viemReceived} USDC base units, not 10000000`);
  report.push(
    `viem quick start ran from the installed tarballs with viem ${viemFloor}: two payments back to back through ` +
      "Alto (viem's createBundlerClient, the account's own gas estimate), 10 USDC received",
  );

  // The Hardhat 3 plugin in a fresh Hardhat project, added beside hardhat-ledger as docs say. Install scripts are
  // skipped (node-hid's native build: `--help` opens no device).
  const rootManifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    devDependencies: Record<string, string>;
  };
  const hardhatProject = path.join(project, "hardhat-project");
  mkdirSync(hardhatProject);
  for (const pack of [client, plugin]) {
    writeFileSync(path.join(hardhatProject, pack.filename), readFileSync(path.join(project, pack.filename)));
  }
  writeFileSync(
    path.join(hardhatProject, "package.json"),
    JSON.stringify(
      {
        name: "leash-owner-project",
        private: true,
        type: "module",
        devDependencies: {
          [client.name]: `file:./${client.filename}`,
          [plugin.name]: `file:./${plugin.filename}`,
          hardhat: rootManifest.devDependencies.hardhat,
          "@nomicfoundation/hardhat-ethers": rootManifest.devDependencies["@nomicfoundation/hardhat-ethers"],
          "@nomicfoundation/hardhat-ledger": rootManifest.devDependencies["@nomicfoundation/hardhat-ledger"],
          ethers: ethersFloor,
        },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    path.join(hardhatProject, "hardhat.config.ts"),
    [
      'import hardhatLedgerPlugin from "@nomicfoundation/hardhat-ledger";',
      `import leashPlugin from "${plugin.name}";`,
      'import { defineConfig } from "hardhat/config";',
      "",
      "export default defineConfig({ plugins: [hardhatLedgerPlugin, leashPlugin] });",
      "",
    ].join("\n"),
  );
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", "--ignore-scripts"], hardhatProject);
  const sessionHelp = run("npx", ["hardhat", "session", "--help"], hardhatProject);
  const subtasks = ["grant", "revoke", "revoke-all", "cancel", "submit", "list", "status"];
  const missingSubtasks = subtasks.filter((name) => !new RegExp(`^\\s*session ${name}\\s`, "m").test(sessionHelp));
  check(
    missingSubtasks.length === 0,
    `\`npx hardhat session --help\` lists no ${missingSubtasks.join(", ")}:\n${sessionHelp}`,
  );
  const grantHelp = run("npx", ["hardhat", "session", "grant", "--help"], hardhatProject);
  check(/--owner-validation/.test(grantHelp) && /--budget/.test(grantHelp), "`session grant --help` lacks its options");
  const accountHelp = run("npx", ["hardhat", "account", "--help"], hardhatProject);
  check(/^\s*account create\s/m.test(accountHelp), "`npx hardhat account --help` lists no `account create`");
  report.push(
    `${plugin.name} in a fresh Hardhat ${rootManifest.devDependencies.hardhat} project beside hardhat-ledger: ` +
      `\`npx hardhat session --help\` lists ${subtasks.map((name) => `session ${name}`).join(", ")}; ` +
      "`account create` and `session grant`'s options are there",
  );

  // 4. What an agent bundles.
  const agentSize = bundleSize(project, "agent", `export { ${AGENT_IMPORTS.join(", ")} } from "${manifest.name}";`, [
    "ethers",
  ]);
  // The whole entry point, every export, for a browser: no Node module may be reachable from it.
  const wholeSize = bundleSize(project, "all", `export * from "${manifest.name}";`, ["ethers"]);
  report.push(`${manifest.name}, every export, bundles for a browser: ${(wholeSize / 1000).toFixed(1)} kB minified`);
  report.push(
    `agent importing ${AGENT_IMPORTS.join(", ")}: ${(agentSize / 1000).toFixed(1)} kB minified (browser, ethers ` +
      `external; budget ${AGENT_BUNDLE_BUDGET / 1000} kB)`,
  );
  check(agentSize <= AGENT_BUNDLE_BUDGET, `the agent bundle is ${agentSize} bytes, over ${AGENT_BUNDLE_BUDGET}`);
  // A viem agent: the account adapter and the refusal it catches.
  const viemAgentSize = bundleSize(
    project,
    "viem-agent",
    `export { toLeashSessionAccount, UserOpRefusedError } from "${viem.name}";`,
    ["ethers", "viem"],
  );
  report.push(
    `viem agent importing toLeashSessionAccount, UserOpRefusedError: ${(viemAgentSize / 1000).toFixed(1)} ` +
      "kB minified (browser, ethers and viem external)",
  );
} catch (error) {
  failures.push(error instanceof Error ? error.message : String(error));
} finally {
  for (const service of services.reverse()) await service.stop();
  if (process.env.LEASH_PACKAGES_KEEP === "1") console.log(`kept the integrator project at ${project}`);
  else rmSync(project, { recursive: true, force: true });
}
for (const line of report) console.log(`✔ ${line}`);
if (failures.length > 0) {
  for (const failure of failures) console.error(`✘ ${failure}`);
  process.exitCode = 1;
}
