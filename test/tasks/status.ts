/**
 * `session status` and `session list`: state (live / expired / revoked / killed), time left, and per asset what
 * remains in the current period and when it resets, read from the chain after the agent spent.
 */
import { expect } from "chai";

import { InvalidSessionIdError } from "../../client/inputErrors.js";
import { NATIVE_ASSET, SPONSORED_FEE_ASSET, SPONSORED_GAS_ASSET } from "../../client/session.js";
import { runGrant, type GrantTaskArguments } from "../../packages/hardhat/src/tasks/session/grant.js";
import { runList } from "../../packages/hardhat/src/tasks/session/list.js";
import { runRevoke } from "../../packages/hardhat/src/tasks/session/revoke.js";
import { runStatus } from "../../packages/hardhat/src/tasks/session/status.js";
import {
  agentPaysUsdc,
  deployForTasks,
  deployOwnerAccount,
  ledgerConnection,
  taskLedger,
  testEnv,
} from "../helpers/tasks.js";

const connection = await ledgerConnection();
const { networkHelpers } = connection;
const DAY = 86_400n;
/** The native budget an op's gas takes: (verification + call + preVerification gas) x maxFeePerGas. */
const OP_GAS_CHARGE = (400_000n + 200_000n + 60_000n) * 2_000_000_000n;

/** Session 1 (7 days) granted through the task, and the agent paid 25 USDC with it. */
async function spentFixture() {
  const f = await deployForTasks(connection);
  const account = await deployOwnerAccount(connection, f);
  const { env } = testEnv(connection, f.dir);
  const args: GrantTaskArguments = {
    account,
    agent: f.agent.address,
    ttl: "7d",
    allow: `${f.addresses.tokens.USDC}:transfer(address,uint256)`,
    budget: "100 USDC/day,0.05 ETH/day",
    signatureOnly: false,
    byTransaction: true,
    yes: true,
    addresses: f.addressesFile,
    json: false,
  };
  const { plan } = await runGrant(args, env);
  await agentPaysUsdc(connection, f, account, 1, f.recipient, 25_000_000n);
  return { ...f, account, args, plan };
}

describe("session status / list", function () {
  before(function () {
    taskLedger.install();
  });

  after(function () {
    taskLedger.uninstall();
  });

  it("reports a live session with the remaining budget per asset and when each period resets", async function () {
    const f = await networkHelpers.loadFixture(spentFixture);
    const { env } = testEnv(connection, f.dir);
    const report = await runStatus({ account: f.account, session: "1", addresses: f.addressesFile, json: false }, env);
    expect([report.state, report.timeLeft > 6n * DAY]).to.deep.equal(["live", true]);
    const usdc = report.budgets.find((b) => b.symbol === "USDC")!;
    const eth = report.budgets.find((b) => b.address === NATIVE_ASSET)!;
    expect([usdc.remaining, usdc.resetsAt]).to.deep.equal([75_000_000n, f.plan.session.validAfter + DAY]);
    expect(eth.remaining).to.equal(50_000_000_000_000_000n - OP_GAS_CHARGE);
  });

  it("labels a paymaster session's sponsored-gas budget and fee cap, pseudo-assets with no contract to ask", async function () {
    const f = await deployForTasks(connection);
    const account = await deployOwnerAccount(connection, f);
    const { env } = testEnv(connection, f.dir);
    const paymaster = await connection.ethers.deployContract("AcceptAllPaymaster", [f.addresses.entryPoint]);
    await runGrant(
      {
        account,
        agent: f.agent.address,
        ttl: "1d",
        allow: `${f.addresses.tokens.USDC}:transfer(address,uint256)`,
        budget: "100 USDC/day",
        paymaster: await paymaster.getAddress(),
        signatureOnly: false,
        byTransaction: true,
        yes: true,
        addresses: f.addressesFile,
        json: false,
      },
      env,
    );
    const report = await runStatus({ account, session: "1", addresses: f.addressesFile, json: true }, env);
    const labels = report.budgets.map((budget) => [budget.address, budget.symbol]);
    expect(labels).to.deep.include.members([
      [SPONSORED_GAS_ASSET, "ETH of sponsored gas"],
      [SPONSORED_FEE_ASSET, "gwei"],
    ]);
  });

  it("prints the remaining budget with decimals and the reset time in UTC", async function () {
    const f = await networkHelpers.loadFixture(spentFixture);
    const { env, io } = testEnv(connection, f.dir);
    await runStatus({ account: f.account, session: "1", addresses: f.addressesFile, json: false }, env);
    const reset = new Date(Number(f.plan.session.validAfter + DAY) * 1000).toISOString().replace("T", " ").slice(0, 19);
    expect(io.lines[0]).to.equal(`Session 1 of ${f.account}: LIVE`);
    const line = io.lines.find((l) => l.startsWith("    - USDC: "));
    expect(line).to.match(
      new RegExp(`^    - USDC: 75\\.0 USDC left of 100\\.0 USDC per day; resets ${reset} UTC \\(local: .+\\)$`),
    );
  });

  it("shows a full budget again once the period has reset, as --json with decimal strings", async function () {
    const f = await networkHelpers.loadFixture(spentFixture);
    const { env, io } = testEnv(connection, f.dir);
    await networkHelpers.time.increase(DAY);
    await runStatus({ account: f.account, session: "1", addresses: f.addressesFile, json: true }, env);
    const printed = JSON.parse(io.lines.join("\n")) as {
      state: string;
      budgets: { symbol: string; remaining: string }[];
    };
    expect(printed.state).to.equal("live");
    expect(printed.budgets.find((b) => b.symbol === "USDC")!.remaining).to.equal("100000000");
  });

  it("lists sessions as live, revoked and expired as time passes", async function () {
    const f = await networkHelpers.loadFixture(spentFixture);
    const { env } = testEnv(connection, f.dir);
    await runGrant({ ...f.args, ttl: "1h" }, env);
    const listArgs = { account: f.account, addresses: f.addressesFile, json: false };
    expect((await runList(listArgs, env)).map((s) => [s.sessionId, s.state])).to.deep.equal([
      [1, "live"],
      [2, "live"],
    ]);
    await runRevoke(
      {
        account: f.account,
        session: "1",
        byTransaction: true,
        signatureOnly: false,
        yes: true,
        addresses: f.addressesFile,
        json: false,
      },
      env,
    );
    await networkHelpers.time.increase(2n * 3_600n);
    const later = await runList(listArgs, env);
    expect(later.map((s) => [s.sessionId, s.state])).to.deep.equal([
      [1, "revoked"],
      [2, "expired"],
    ]);
    expect(later[1]!.timeLeft).to.equal(0n);
  });

  it("refuses a session id that does not exist", async function () {
    const f = await networkHelpers.loadFixture(spentFixture);
    const { env } = testEnv(connection, f.dir);
    await runStatus({ account: f.account, session: "9", addresses: f.addressesFile, json: false }, env).then(
      () => expect.fail("reported a session that does not exist"),
      (error: unknown) => {
        expect(error).to.be.instanceOf(InvalidSessionIdError);
        expect((error as Error).message).to.include("has no session 9");
      },
    );
  });
});
