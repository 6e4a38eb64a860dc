/**
 * The agent's session handle (client/sessionHandle.ts, issue 15): `status()` JSON-safe with "not yet valid" apart
 * from "expired", `canPay()` counting the op's maximum gas, `pay()` / `call()` sending under the session; and
 * `fromGrantFile` (client/node.ts) building it from the owner's session file on a node.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { network } from "hardhat";
import { parseEther, parseUnits, Wallet } from "ethers";

import { maxGasCost } from "../../client/bundler.js";
import { SpendLimitExceededError } from "../../client/errors.js";
import { fromGrantFile, writeSessionFile } from "../../client/node.js";
import { NATIVE_ASSET, type SessionDescription } from "../../client/session.js";
import type { SessionFile } from "../../client/sessionFile.js";
import { createSessionHandle, DEFAULT_SESSION_GAS_LIMITS } from "../../client/sessionHandle.js";
import { startHardhatNode, type LocalService } from "../../scripts/local/services.js";
import {
  grantByTransaction,
  ownerCall,
  sessionFileOf,
  sessionFixture,
  typicalSession,
  type SessionFixture,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const HOUR = 3_600n;
/** Fixed fees, so that the op's maximum gas cost is known. */
const FEES = { maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };
const MAX_GAS_COST = maxGasCost({
  sender: "0x",
  nonce: 0n,
  initCode: "0x",
  callData: "0x",
  ...DEFAULT_SESSION_GAS_LIMITS,
  ...FEES,
  paymasterAndData: "0x",
  signature: "0x",
});

/** Grants `description` by the owner's transaction and builds the agent's handle on it (handleOps, fixed fees). */
async function grantWithHandle(f: SessionFixture, description: SessionDescription) {
  await (await grantByTransaction(f, description)).wait();
  const [, , , submitter] = await ethers.getSigners();
  return createSessionHandle({
    session: sessionFileOf(f, description),
    provider: ethers.provider,
    agentKey: f.agent.privateKey,
    via: { submitter: submitter! },
    gas: FEES,
  });
}

async function granted(overrides: Partial<SessionDescription> = {}) {
  const f = await sessionFixture(ethers, networkHelpers);
  const description = typicalSession(f, { valueCapPerCall: parseEther("1"), ...overrides });
  return { ...f, description, handle: await grantWithHandle(f, description) };
}

/** The typical session, granted (a named fixture: loadFixture snapshots it once). */
async function grantedTypical() {
  return granted();
}

const usdcOf = (f: SessionFixture, who: string) => f.usdc.balanceOf(who) as Promise<bigint>;

describe("the agent's session handle", function () {
  describe("status()", function () {
    it("reports a live session, its scope, and each budget with its symbol, what remains and when it refills", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const status = await f.handle.status();
      expect(status.state).to.equal("live");
      expect(status.scope).to.deep.equal([
        { target: f.recipient, function: "0x00000000", rules: 0 },
        { target: f.usdc.target, function: "transfer(address,uint256)", rules: 0 },
      ]);
      const usdc = status.budgets.find((budget) => budget.symbol === "USDC")!;
      expect(usdc.remaining).to.equal("100000000");
      expect(usdc.remainingText).to.equal("100.0 USDC");
      expect(usdc.period).to.equal(86_400);
      expect(Date.parse(usdc.resetsAt!)).to.be.greaterThan(Date.parse(status.now));
    });

    it("is JSON-safe: it survives JSON.stringify unchanged", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const status = await f.handle.status();
      expect(JSON.parse(JSON.stringify(status))).to.deep.equal(status);
    });

    it("says not-yet-valid for a session that starts later, with the seconds until it starts", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const description = typicalSession(f, { validAfter: f.now + HOUR, validUntil: f.now + 2n * HOUR });
      const handle = await grantWithHandle(f, description);
      const status = await handle.status();
      expect(status.state).to.equal("not-yet-valid");
      expect(status.startsIn).to.be.greaterThan(3_500);
      await networkHelpers.time.increase(3n * HOUR);
      const later = await handle.status();
      expect(later.state).to.equal("expired");
      expect(later.timeLeft).to.equal(0);
    });
  });

  describe("canPay()", function () {
    it("answers yes for a token payment within its budget", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const answer = await f.handle.canPay("USDC", parseUnits("40", 6));
      expect(answer).to.deep.include({ ok: true, remaining: parseUnits("100", 6), maxGasCost: MAX_GAS_COST });
    });

    it("answers no for a token payment over what remains, saying when the budget refills", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const answer = await f.handle.canPay("USDC", parseUnits("101", 6));
      expect(answer.ok).to.equal(false);
      expect(answer.reason).to.match(/over the 100000000 left this period/);
      expect(answer.resetsAt).to.be.a("bigint");
    });

    it("counts the op's maximum gas against the native budget: what remains less the gas is payable, one wei more is not", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const payable = parseEther("1") - MAX_GAS_COST;
      expect((await f.handle.canPay("ETH", payable)).ok).to.equal(true);
      const answer = await f.handle.canPay("ETH", payable + 1n);
      expect(answer.ok).to.equal(false);
      expect(answer.reason).to.match(/maximum gas cost/);
    });

    it("answers no for a token the session may not call, and for a revoked session", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
      const notInScope = await f.handle.canPay(await other.getAddress(), 1n);
      expect(notInScope.ok).to.equal(false);
      expect(notInScope.reason).to.match(/may not call transfer/);
      const revoke = f.sessionModule.interface.encodeFunctionData("revoke", [f.description.sessionId]);
      const execute = f.account.interface.encodeFunctionData("execute", [f.sessionModule.target, 0n, revoke]);
      await (await ownerCall(f, execute)).wait();
      expect(await f.handle.canPay("USDC", 1n)).to.deep.include({ ok: false, reason: "the session is revoked" });
    });
  });

  describe("canPay() mirrors the spend-limit hook", function () {
    it("answers no for a token the session may call but has no budget for: the hook refuses every transfer of it", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
      const description = typicalSession(f, {
        scope: [
          ...typicalSession(f).scope,
          {
            target: await other.getAddress(),
            selector: other.interface.getFunction("transfer").selector,
            function: "transfer(address,uint256)",
          },
        ],
      });
      const handle = await grantWithHandle(f, description);
      const answer = await handle.canPay(await other.getAddress(), 1n);
      expect(answer.ok).to.equal(false);
      expect(answer.reason).to.match(/has no budget for/);
    });

    it("answers no for a nothing-to-pay amount", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      expect(await f.handle.canPay("USDC", 0n)).to.deep.include({ ok: false });
    });
  });

  describe("pay() and call()", function () {
    it("pays a token by its symbol: the recipient is paid and the budget charged", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const result = await f.handle.pay({ asset: "USDC", to: f.recipient, amount: parseUnits("7", 6) });
      expect(result.success).to.equal(true);
      expect(await usdcOf(f, f.recipient)).to.equal(parseUnits("7", 6));
      const usdc = (await f.handle.status()).budgets.find((budget) => budget.symbol === "USDC")!;
      expect(usdc.remaining).to.equal(parseUnits("93", 6).toString());
    });

    it("pays ETH to a recipient in scope, and the native budget is charged the value and the op's gas", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const before = await ethers.provider.getBalance(f.recipient);
      await f.handle.pay({ asset: "ETH", to: f.recipient, amount: parseEther("0.1") });
      expect((await ethers.provider.getBalance(f.recipient)) - before).to.equal(parseEther("0.1"));
      const native = (await f.handle.status()).budgets.find((budget) => budget.symbol === "ETH")!;
      expect(BigInt(native.remaining)).to.equal(parseEther("0.9") - MAX_GAS_COST);
    });

    it("sends several calls as one op", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const transfer = (amount: bigint) => ({
        target: f.usdc.target as string,
        value: 0n,
        data: f.usdc.interface.encodeFunctionData("transfer", [f.recipient, amount]),
      });
      const result = await f.handle.call([transfer(1_000_000n), transfer(2_000_000n)]);
      expect(result.success).to.equal(true);
      expect(await usdcOf(f, f.recipient)).to.equal(3_000_000n);
    });

    it("refuses an over-budget payment as SpendLimitExceededError, with when it refills; nothing moves", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      try {
        await f.handle.pay({ asset: "USDC", to: f.recipient, amount: parseUnits("150", 6) });
      } catch (error) {
        expect(error).to.be.instanceOf(SpendLimitExceededError);
        expect((error as SpendLimitExceededError).resetsAt).to.be.a("bigint");
        expect(await usdcOf(f, f.recipient)).to.equal(0n);
        return;
      }
      expect.fail("the over-budget payment was sent");
    });

    it("refuses an asset that is neither an address nor one of the session's budgets, before anything is signed", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      let refusal: unknown;
      try {
        await f.handle.pay({ asset: "DAI", to: f.recipient, amount: 1n });
      } catch (error) {
        refusal = error;
      }
      expect((refusal as Error).message).to.match(/"DAI" is neither an address nor a budget of the session/);
      expect(await usdcOf(f, f.recipient)).to.equal(0n);
    });
  });

  it("refuses a malformed key without quoting it (THREATS 20)", async function () {
    const f = await networkHelpers.loadFixture(grantedTypical);
    const secret = `${f.agent.privateKey.slice(2, 60)}zz`;
    let refusal: unknown;
    try {
      createSessionHandle({
        session: f.handle.session,
        provider: ethers.provider,
        agentKey: secret,
        via: { submitter: f.stranger },
      });
    } catch (error) {
      refusal = error;
    }
    expect((refusal as Error).message).to.match(/is not a private key/);
    expect((refusal as Error).message).to.not.contain(secret.slice(0, 16));
  });

  it("refuses to build a handle with a key that is not the session's agent", async function () {
    const f = await networkHelpers.loadFixture(grantedTypical);
    expect(() =>
      createSessionHandle({
        session: f.handle.session,
        provider: ethers.provider,
        agentKey: Wallet.createRandom().privateKey,
        via: { submitter: f.stranger },
      }),
    ).to.throw(/is not the session's agent/);
  });
});

describe("fromGrantFile", function () {
  this.timeout(120_000);
  let node: LocalService;
  let f: SessionFixture;
  let file: string;
  let folder: string;
  const fees = FEES;

  before(async function () {
    node = await startHardhatNode();
    const connection = await network.create({ network: "localhost", override: { url: node.url } });
    f = await sessionFixture(connection.ethers, connection.networkHelpers);
    const description = typicalSession(f);
    await (await grantByTransaction(f, description)).wait();
    folder = mkdtempSync(path.join(tmpdir(), "leash-handle-"));
    file = path.join(folder, "session.json");
    await writeSessionFile(file, sessionFileOf(f, description));
  });

  after(async function () {
    rmSync(folder, { recursive: true, force: true });
    await node.stop();
  });

  it("builds the handle from the session file on the node's chain and pays through a submitter key", async function () {
    const handle = await fromGrantFile(file, {
      rpcUrl: node.url,
      agentKey: f.agent.privateKey,
      submitterKey: f.stranger.privateKey,
      gas: fees,
    });
    try {
      expect((await handle.status()).state).to.equal("live");
      const result = await handle.pay({ asset: "USDC", to: f.recipient, amount: 5_000_000n });
      expect(result.success).to.equal(true);
    } finally {
      handle.close();
    }
    expect(await usdcOf(f, f.recipient)).to.equal(5_000_000n);
  });

  it("refuses a key that is not the session's agent, and a call without a route for the ops", async function () {
    let wrongKey: unknown;
    try {
      await fromGrantFile(file, { rpcUrl: node.url, agentKey: Wallet.createRandom().privateKey, bundlerUrl: node.url });
    } catch (error) {
      wrongKey = error;
    }
    expect((wrongKey as Error).message).to.match(/is not the session's agent/);
    let noRoute: unknown;
    try {
      await fromGrantFile(file, { rpcUrl: node.url, agentKey: f.agent.privateKey });
    } catch (error) {
      noRoute = error;
    }
    expect((noRoute as Error).message).to.match(/give bundlerUrl .* or submitterKey/);
  });
});
