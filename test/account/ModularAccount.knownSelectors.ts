/**
 * KnownSelectorsLib, the account's selector rules, checked against the account's compiled ABI: every function the
 * account implements is native (so no execution module can claim or hook it), and exactly the executions, module
 * management and upgrades allow a global validation. Names two getters by hashed signature, so this is what would
 * catch a rename.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { createAccount, deployLeash, OWNER_PATH, testWallet } from "../helpers/fixture.js";

const { ethers, networkHelpers } = await network.create();

/** The native functions a global validation may validate (ERC-6900 "global validation"). */
const GLOBAL_NATIVE = [
  "execute",
  "executeBatch",
  "installExecution",
  "uninstallExecution",
  "installValidation",
  "uninstallValidation",
  "upgradeToAndCall",
];

async function accountFixture() {
  const deployment = await deployLeash(ethers);
  const owner = testWallet(ethers, OWNER_PATH);
  const account = await createAccount(ethers, deployment, owner.address);
  return { account, accountAddress: await account.getAddress() };
}

describe("KnownSelectorsLib (through getExecutionData)", function () {
  it("reports every function of the account's ABI as the account's own, global only for executions, module management and upgrades", async function () {
    const f = await networkHelpers.loadFixture(accountFixture);
    const functions: { name: string; selector: string }[] = [];
    f.account.interface.forEachFunction((fn) => functions.push({ name: fn.name, selector: fn.selector }));
    expect(functions.length).to.be.greaterThan(20);
    const reported = await Promise.all(
      functions.map(async ({ name, selector }) => {
        const data = await f.account.getExecutionData(selector);
        return { name, module: data.module, global: data.allowGlobalValidation };
      }),
    );
    expect(reported.filter((r) => r.module !== f.accountAddress).map((r) => r.name)).to.deep.equal([]);
    expect(
      reported
        .filter((r) => r.global)
        .map((r) => r.name)
        .sort(),
    ).to.deep.equal([...GLOBAL_NATIVE].sort());
  });

  it("reports no module for a selector the account does not implement", async function () {
    const f = await networkHelpers.loadFixture(accountFixture);
    const data = await f.account.getExecutionData("0x12345678");
    expect([data.module, data.allowGlobalValidation]).to.deep.equal([ethers.ZeroAddress, false]);
  });
});
