import { createRequire } from "node:module";

import hardhatLedgerPlugin from "@nomicfoundation/hardhat-ledger";
import hardhatToolboxMochaEthersPlugin from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";

import leashPlugin from "@leashkit/hardhat";
import erc7562CheckPlugin from "./test/plugins/erc7562/index.js";

const require = createRequire(import.meta.url);

/**
 * The compiler comes from the npm `solc` package (pinned in package.json):
 * nothing is downloaded at build time. Keep SOLC_VERSION equal to that pin.
 */
const SOLC_VERSION = "0.8.30";
const SOLC_PATH = require.resolve("solc/soljson.js");

/**
 * Optimizer settings were chosen by measurement (scripts/compiler-settings.ts; figures in
 * docs/ARCHITECTURE.md, "Compiler settings"). viaIR is required (stack too deep without it). Change them only
 * with before/after gas figures.
 */
const OPTIMIZER_RUNS = Number(process.env.LEASH_OPTIMIZER_RUNS ?? 1_000);

/** Fuzz / invariant runs for `npm test`; raise them through LEASH_FUZZ_RUNS / LEASH_INVARIANT_RUNS. */
const FUZZ_RUNS = Number(process.env.LEASH_FUZZ_RUNS ?? 256);
const INVARIANT_RUNS = Number(process.env.LEASH_INVARIANT_RUNS ?? 64);

export default defineConfig({
  // The ERC-7562 check traces the validation of every op sent to handleOps on in-process networks (tests, the
  // in-process demo, the gas benchmark); see test/plugins/erc7562.
  // The owner tasks come from this repository's own Hardhat plugin (packages/hardhat), added as any project adds it.
  plugins: [hardhatToolboxMochaEthersPlugin, hardhatLedgerPlugin, leashPlugin, erc7562CheckPlugin],
  solidity: {
    version: SOLC_VERSION,
    path: SOLC_PATH,
    settings: {
      evmVersion: "cancun",
      viaIR: true,
      optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
    },
    npmFilesToBuild: [
      "@account-abstraction/contracts/core/EntryPoint.sol",
      "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol",
    ],
  },
  typechain: {
    outDir: "typechain-types",
  },
  test: {
    solidity: {
      fuzz: { runs: FUZZ_RUNS, seed: "0x4c65617368" },
      invariant: { runs: INVARIANT_RUNS, depth: 32 },
    },
  },
  networks: {
    hardhat: {
      type: "edr-simulated",
      chainType: "l1",
      allowUnlimitedContractSize: false,
    },
    // A local `hardhat node`. LEASH_LEDGER_ACCOUNT=0x… makes that address a Ledger account (hardhat-ledger signs for
    // it: the owner of the Leash tasks); LEASH_RPC_URL points at another node.
    localhost: {
      type: "http",
      chainType: "l1",
      url: process.env.LEASH_RPC_URL ?? "http://127.0.0.1:8545",
      ledgerAccounts: process.env.LEASH_LEDGER_ACCOUNT === undefined ? [] : [process.env.LEASH_LEDGER_ACCOUNT],
    },
  },
});
