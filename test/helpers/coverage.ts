/**
 * Whether this run is `hardhat test --coverage`. Coverage instruments the bytecode (extra calls to a recorder
 * address with no code, extra opcodes between GAS and CALL, more gas), so checks of the shipped bytecode's exact
 * behaviour (the ERC-7562 checker, the gas regression guard) only mean something without it; `npm test` runs them.
 */
import hre from "hardhat";

export const COVERAGE_RUN: boolean = hre.globalOptions.coverage === true;
