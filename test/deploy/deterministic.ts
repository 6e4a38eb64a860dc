/**
 * Deterministic deployments: the EntryPoint lands at its canonical address, and two independent deployments of
 * Leash (two fresh networks) produce the same addresses.
 */
import { readFileSync } from "node:fs";

import { expect } from "chai";
import { network } from "hardhat";

import { deployLeashDeterministic, LEASH_SALT } from "../../deploy/deployLeash.js";
import { ENTRY_POINT_V08 } from "../../deploy/entryPoint.js";
import { COVERAGE_RUN } from "../helpers/coverage.js";

const FACTORY_OWNER = "0x000000000000000000000000000000000000FaC7";

describe("deterministic deployment", function () {
  this.timeout(120_000);

  it("puts the EntryPoint v0.8 at its canonical address and Leash at the same addresses on two networks", async function () {
    const first = await deployLeashDeterministic(await network.create(), FACTORY_OWNER);
    const second = await deployLeashDeterministic(await network.create(), FACTORY_OWNER);
    expect(first.entryPoint).to.equal(ENTRY_POINT_V08);
    expect(second).to.deep.equal(first);
  });

  it("is where @leashkit/contracts says Leash is (packages/contracts/deployments.json): every address and the salt", async function () {
    // The instrumented bytecode of `--coverage` deploys elsewhere; `npm test` checks the bytecode that ships.
    if (COVERAGE_RUN) this.skip();
    const book = await deployLeashDeterministic(await network.create(), FACTORY_OWNER);
    const published = JSON.parse(
      readFileSync(new URL("../../packages/contracts/deployments.json", import.meta.url), "utf8"),
    ) as Record<string, unknown>;
    const { factory: _factory, ...fixed } = book; // the factory's address depends on its owner
    expect({ ...published, description: undefined, chains: undefined }).to.deep.equal({
      ...fixed,
      salt: LEASH_SALT,
      description: undefined,
      chains: undefined,
    });
  });

  it("wires the deployed contracts together", async function () {
    const connection = await network.create();
    const book = await deployLeashDeterministic(connection, FACTORY_OWNER);
    const factory = await connection.ethers.getContractAt("AccountFactory", book.factory);
    const session = await connection.ethers.getContractAt("SessionKeyValidationModule", book.sessionModule);
    expect([
      await factory.ACCOUNT_IMPLEMENTATION(),
      await factory.OWNER_VALIDATION_MODULE(),
      await factory.SESSION_INSTALLER(),
      await factory.owner(),
      await session.SPEND_LIMIT_HOOK(),
      await session.ENTRY_POINT(),
    ]).to.deep.equal([
      book.accountImplementation,
      book.ownerModule,
      book.sessionModule,
      FACTORY_OWNER,
      book.spendLimitHook,
      ENTRY_POINT_V08,
    ]);
  });
});
