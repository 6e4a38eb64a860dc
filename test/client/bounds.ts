/**
 * The bounds the client's input parsing refuses beyond (client/parse.ts, so a task refuses before the Ledger is
 * asked) are the contracts' own: read from their public constants where they have one, and otherwise shown to be
 * the packing's edge by a grant at the bound that installs and one past it that the chain refuses.
 */
import { expect } from "chai";
import { network } from "hardhat";

import {
  MAX_BUDGET_LIMIT,
  MAX_BUDGET_PERIOD,
  MAX_BUDGETS,
  MAX_PAYMASTERS,
  MAX_SCOPE_ENTRIES,
  MAX_VALID_UNTIL,
  MAX_VALUE_CAP,
  MIN_BUDGET_PERIOD,
  RESERVED_SESSION_ID,
} from "../../client/parse.js";
import { describeRevert } from "../../client/errors.js";
import { NATIVE_ASSET } from "../../client/session.js";
import { DAY, grantByTransaction, sessionFixture, typicalSession } from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const fixture = () => sessionFixture(ethers, networkHelpers);

describe("the client's input bounds are the contracts'", function () {
  it("has the session module's scope size and reserved session id, and the hook's budget, paymaster and period bounds", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    expect(BigInt(MAX_SCOPE_ENTRIES)).to.equal(await f.sessionModule.MAX_SCOPE_ENTRIES());
    expect(BigInt(RESERVED_SESSION_ID)).to.equal(await f.sessionModule.DIRECT_CALL_ENTITY_ID());
    expect(BigInt(MAX_BUDGETS)).to.equal(await f.spendLimitHook.MAX_BUDGETS());
    expect(BigInt(MAX_PAYMASTERS)).to.equal(await f.spendLimitHook.MAX_PAYMASTERS());
    expect(MIN_BUDGET_PERIOD).to.equal(await f.spendLimitHook.MIN_PERIOD());
  });

  it("installs a budget at the largest limit and period the packing holds, with the largest value cap and expiry", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const session = typicalSession(f, {
      validUntil: MAX_VALID_UNTIL,
      valueCapPerCall: MAX_VALUE_CAP,
      budgets: [{ asset: NATIVE_ASSET, limit: MAX_BUDGET_LIMIT, period: MAX_BUDGET_PERIOD, perCallCap: 0n }],
    });
    await (await grantByTransaction(f, session)).wait();
    const [limit, , , period] = await f.spendLimitHook.getBudget(f.accountAddress, session.sessionId, NATIVE_ASSET);
    expect([limit, period]).to.deep.equal([MAX_BUDGET_LIMIT, MAX_BUDGET_PERIOD]);
    const installed = await f.sessionModule.getSession(f.accountAddress, session.sessionId);
    expect([installed.validUntil, installed.valueCapPerCall]).to.deep.equal([MAX_VALID_UNTIL, MAX_VALUE_CAP]);
  });

  for (const [what, budget, error] of [
    [
      "a limit one past the largest",
      { limit: MAX_BUDGET_LIMIT + 1n, period: DAY },
      `SpendLimitLimitOutOfRange(${MAX_BUDGET_LIMIT + 1n})`,
    ],
    [
      "a period one past the largest",
      { limit: 1n, period: MAX_BUDGET_PERIOD + 1n },
      `SpendLimitPeriodOutOfRange(${MAX_BUDGET_PERIOD + 1n})`,
    ],
    [
      "a period one under the shortest",
      { limit: 1n, period: MIN_BUDGET_PERIOD - 1n },
      `SpendLimitPeriodOutOfRange(${MIN_BUDGET_PERIOD - 1n})`,
    ],
  ] as const) {
    it(`refuses on chain a budget with ${what}, as the client does; nothing is installed`, async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f, { budgets: [{ asset: NATIVE_ASSET, perCallCap: 0n, ...budget }] });
      let refusal = "none";
      try {
        await (await grantByTransaction(f, session)).wait();
      } catch (error) {
        refusal = describeRevert(error);
      }
      expect(refusal).to.equal(error);
      expect((await f.sessionModule.getSession(f.accountAddress, session.sessionId)).agent).to.equal(
        "0x0000000000000000000000000000000000000000",
      );
    });
  }
});
