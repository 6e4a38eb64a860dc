/**
 * The demo (`npm run demo`) runs to the end and tells the whole story: spend within budget, over-budget and
 * out-of-scope refusals with their reasons, the budget refilling the next day, the kill switch stopping the agent.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { runDemo } from "../../scripts/demo/story.js";
import { EmulatedLedger } from "../helpers/emulatedLedger.js";
import { OWNER_PATH, TEST_MNEMONIC } from "../helpers/fixture.js";

const ledger = new EmulatedLedger(TEST_MNEMONIC);
const owner = ledger.wallet(OWNER_PATH);
const connection = await network.create({ override: { ledgerAccounts: [owner.address] } });

describe("the demo story without a bundler (ops straight to handleOps)", function () {
  this.timeout(120_000);
  const lines: string[] = [];

  before(async function () {
    ledger.install();
    await runDemo(connection, owner, (line) => lines.push(line));
  });

  after(function () {
    ledger.uninstall();
  });

  it("has the owner's Ledger clear-sign the grant and the kill switch as messages a relayer submits, never a transaction", function () {
    expect(lines.some((l) => l.startsWith("   session 1 granted (submitted by the relayer"))).to.equal(true);
    expect(lines.some((l) => l.startsWith("   every session revoked (submitted by the relayer"))).to.equal(true);
    expect(ledger.requests.map((r) => r.kind)).to.deep.equal(["eip712", "eip712"]);
  });

  it("prints what the device shows at each approval: the grant in words and scaled amounts, then the kill switch", function () {
    const shown = (action: string) => {
      const start = lines.indexOf(`   your Ledger shows (${action}):`);
      const end = lines.indexOf("   approve on your Ledger… (emulated)", start);
      return lines.slice(start + 1, end).map((line) => line.trim());
    };
    const grant = shown("grant");
    expect(grant[0]).to.equal("Contract: Grant an agent a session key");
    expect(grant).to.include.members([
      "Budget: 100 USDC",
      "Budget: 0.05 ETH",
      "Budget period: 1 day",
      "Function: transfer(address,uint256)",
    ]);
    expect(shown("kill switch")[0]).to.equal("Contract: Revoke ALL session keys (kill switch)");
  });

  it("lets the agent pay within its budget, and shows what remains", function () {
    expect(lines).to.include("   pay the merchant 60.0 USDC: paid");
    expect(lines).to.include("   remaining today: 40.0 USDC");
  });

  it("refuses the over-budget and the out-of-scope ops, saying why", function () {
    expect(
      lines.some((l) => l.startsWith("   pay the merchant 50.0 USDC: REFUSED (SpendLimitExceededError)")),
    ).to.equal(true);
    expect(
      lines.some((l) => l.startsWith("   approve a stranger to pull 1 USDC: REFUSED (SessionOutOfScopeError)")),
    ).to.equal(true);
  });

  it("refills the budget the next day and stops the agent after the kill switch", function () {
    expect(lines).to.include("   remaining today: 100.0 USDC");
    expect(lines.some((l) => l.startsWith("   pay the merchant 1.0 USDC: REFUSED (SessionRevokedError)"))).to.equal(
      true,
    );
    expect(lines.at(-1)).to.equal("8. The merchant received 110.0 USDC in total. Done.");
  });
});
