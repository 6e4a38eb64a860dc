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
import { id, Interface, NonceManager, parseEther, parseUnits, Wallet } from "ethers";

import { maxGasCost } from "../../client/bundler.js";
import { SpendLimitExceededError } from "../../client/errors.js";
import { fromGrantFile, writeSessionFile } from "../../client/node.js";
import {
  NATIVE_ASSET,
  OPERATIONS_ASSET,
  SELECTOR_NO_CALLDATA,
  sessionNonceKey,
  sessionNonceLane,
  type SessionDescription,
} from "../../client/session.js";
import type { SessionFile } from "../../client/sessionFile.js";
import { createSessionHandle, DEFAULT_SESSION_GAS_LIMITS } from "../../client/sessionHandle.js";
import { startHardhatNode, type LocalService } from "../../scripts/local/services.js";
import {
  executeCall,
  grantByTransaction,
  ownerCall,
  sessionFileOf,
  sessionFixture,
  typicalSession,
  type SessionFixture,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();
const HOUR = 3_600n;
const DAY = 86_400n;
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

  describe("check(): each refusal kind, in the chain's order, before anything is signed", function () {
    const transfer = (f: SessionFixture, to: string, amount: bigint) => ({
      target: f.usdc.target as string,
      value: 0n,
      data: f.usdc.interface.encodeFunctionData("transfer", [to, amount]),
    });

    it("answers ok with what the op may take of each budget, its maximum gas included", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const answer = await f.handle.check(transfer(f, f.recipient, 3_000_000n));
      expect(answer).to.deep.include({ ok: true, maxGasCost: MAX_GAS_COST });
      expect(answer.spends).to.deep.equal([
        { asset: NATIVE_ASSET, requested: MAX_GAS_COST, remaining: parseEther("1") },
        { asset: f.usdc.target, requested: 3_000_000n, remaining: parseUnits("100", 6) },
      ]);
    });

    it("refuses out_of_scope a transfer of a token the grant does not name, though it has no budget either", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
      const data = other.interface.encodeFunctionData("transfer", [f.recipient, parseEther("1000")]);
      const answer = await f.handle.check({ target: await other.getAddress(), value: 0n, data });
      expect(answer.refusal).to.deep.include({ refused: "out_of_scope", retryable: false });
    });

    it("refuses argument_rule a transfer to a recipient other than the one the grant pins", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const description = typicalSession(f);
      description.scope[1]!.rules = [{ argument: 0, op: "eq", value: BigInt(f.recipient) }];
      const handle = await grantWithHandle(f, description);
      expect((await handle.check(transfer(f, f.recipient, 1n))).ok).to.equal(true);
      const answer = await handle.check(transfer(f, Wallet.createRandom().address, 1n));
      expect(answer.refusal).to.deep.include({ refused: "argument_rule", retryable: false });
    });

    it("refuses over_per_call_cap a call carrying more than the session's value cap", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const answer = await f.handle.check({ target: f.recipient, value: parseEther("1") + 1n, data: "0x" });
      expect(answer.refusal).to.deep.include({
        refused: "over_per_call_cap",
        asset: NATIVE_ASSET,
        requested: parseEther("1") + 1n,
      });
    });

    it("refuses over_budget with the asset, requested, remaining, resetsAt and retryable", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const answer = await f.handle.check(transfer(f, f.recipient, parseUnits("101", 6)));
      expect(answer.refusal).to.deep.include({
        refused: "over_budget",
        asset: f.usdc.target,
        requested: parseUnits("101", 6),
        remaining: parseUnits("100", 6),
        retryable: false,
      });
      expect(answer.refusal!.resetsAt).to.be.a("bigint");
      const fits = await f.handle.check(transfer(f, f.recipient, parseUnits("100", 6)));
      expect(fits.ok).to.equal(true);
    });

    it("refuses no_gas_budget a session without a native budget, whose ops need a paymaster", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const description = typicalSession(f);
      description.budgets = description.budgets.filter((budget) => budget.asset !== NATIVE_ASSET);
      const handle = await grantWithHandle(f, description);
      const answer = await handle.check(transfer(f, f.recipient, 1n));
      expect(answer.refusal).to.deep.include({ refused: "no_gas_budget", asset: NATIVE_ASSET });
    });

    it("refuses operations_exhausted once the op-count budget is spent, retryable when it refills", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const description = typicalSession(f);
      description.budgets.push({ asset: OPERATIONS_ASSET, limit: 1n, period: DAY, perCallCap: 0n });
      const handle = await grantWithHandle(f, description);
      expect((await handle.call(transfer(f, f.recipient, 1n))).success).to.equal(true);
      const answer = await handle.check(transfer(f, f.recipient, 1n));
      expect(answer.refusal).to.deep.include({
        refused: "operations_exhausted",
        asset: OPERATIONS_ASSET,
        retryable: true,
      });
    });

    it("reports over_budget before operations_exhausted, as the hook counts the op last", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const description = typicalSession(f);
      description.budgets.push({ asset: OPERATIONS_ASSET, limit: 1n, period: DAY, perCallCap: 0n });
      const handle = await grantWithHandle(f, description);
      expect((await handle.call(transfer(f, f.recipient, parseUnits("60", 6)))).success).to.equal(true);
      const answer = await handle.check(transfer(f, f.recipient, parseUnits("50", 6)));
      expect(answer.refusal).to.deep.include({ refused: "over_budget", asset: f.usdc.target });
    });

    it("refuses not_yet_valid (retryable, with when it starts), then expired once the window passed", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const description = typicalSession(f, { validAfter: f.now + HOUR, validUntil: f.now + 2n * HOUR });
      const handle = await grantWithHandle(f, description);
      const early = await handle.check(transfer(f, f.recipient, 1n));
      expect(early.refusal).to.deep.include({ refused: "not_yet_valid", retryable: true, resetsAt: f.now + HOUR + 1n });
      await networkHelpers.time.increase(3n * HOUR);
      const late = await handle.check(transfer(f, f.recipient, 1n));
      expect(late.refusal).to.deep.include({ refused: "expired", retryable: false });
    });

    it("refuses revoked after the owner revoked the session, and killed after the kill switch", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      const revoke = f.sessionModule.interface.encodeFunctionData("revoke", [f.description.sessionId]);
      await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revoke))).wait();
      expect((await f.handle.check(transfer(f, f.recipient, 1n))).refusal).to.deep.include({ refused: "revoked" });
      const g = await sessionFixture(ethers, networkHelpers);
      const handle = await grantWithHandle(g, typicalSession(g));
      const revokeAll = g.sessionModule.interface.encodeFunctionData("revokeAll");
      await (await ownerCall(g, executeCall(g, g.sessionModule.target as string, 0n, revokeAll))).wait();
      expect((await handle.check(transfer(g, g.recipient, 1n))).refusal).to.deep.include({ refused: "killed" });
    });

    it("refuses removed a session that is not installed on the account", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const [, , , submitter] = await ethers.getSigners();
      const handle = createSessionHandle({
        session: sessionFileOf(f, typicalSession(f)),
        provider: ethers.provider,
        agentKey: f.agent.privateKey,
        via: { submitter: submitter! },
        gas: FEES,
      });
      expect((await handle.check(transfer(f, f.recipient, 1n))).refusal).to.deep.include({ refused: "removed" });
    });
  });

  describe("check() reads token calls as the spend-limit hook does: its verdict is the chain's", function () {
    const permit2 = new Interface([
      "function approve(address token, address spender, uint160 amount, uint48 expiration)",
    ]);
    const balanceOf = new Interface(["function balanceOf(address owner)"]);

    /**
     * A session that may call USDC's four spend functions and balanceOf, and `approve` of a Permit2 stand-in;
     * 100 USDC and 1 ETH a day. The account lets itself pull its USDC, so a transferFrom of it executes.
     */
    async function tokenCallsFixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      const stand = await ethers.deployContract("ReentrantTarget");
      const usdc = f.usdc.target as string;
      const entry = (signature: string) => ({
        target: usdc,
        selector: id(signature).slice(0, 10),
        function: signature,
      });
      const description = typicalSession(f, {
        scope: [
          entry("transfer(address,uint256)"),
          entry("approve(address,uint256)"),
          entry("increaseAllowance(address,uint256)"),
          entry("transferFrom(address,address,uint256)"),
          { target: usdc, selector: balanceOf.getFunction("balanceOf")!.selector },
          { target: stand.target as string, selector: permit2.getFunction("approve")!.selector },
          { target: f.recipient, selector: SELECTOR_NO_CALLDATA },
        ],
      });
      const selfApprove = f.usdc.interface.encodeFunctionData("approve", [f.accountAddress, parseUnits("1000", 6)]);
      await (await ownerCall(f, executeCall(f, usdc, 0n, selfApprove))).wait();
      return { ...f, permit2: stand.target as string, handle: await grantWithHandle(f, description) };
    }
    type TokenCallsFixture = Awaited<ReturnType<typeof tokenCallsFixture>>;

    const usdcRemaining = async (f: TokenCallsFixture) =>
      BigInt((await f.handle.status()).budgets.find((budget) => budget.symbol === "USDC")!.remaining);

    /** check()'s verdict on `call`, then the chain's: the op sent anyway (call() does not pre-check). */
    async function verdicts(f: TokenCallsFixture, call: { target: string; value: bigint; data: string }) {
      const answer = await f.handle.check(call);
      const before = await usdcRemaining(f);
      let sent = false;
      try {
        sent = (await f.handle.call(call)).success;
      } catch {
        sent = false;
      }
      const charged = before - (await usdcRemaining(f));
      return { answer, sent, charged };
    }
    const usdcCall = (f: TokenCallsFixture, data: string) => ({ target: f.usdc.target as string, value: 0n, data });
    const permit2Approve = (f: TokenCallsFixture, token: string, amount: bigint) => ({
      target: f.permit2,
      value: 0n,
      data: permit2.encodeFunctionData("approve", [token, f.agent.address, amount, 2n ** 40n]),
    });

    it("charges a transferFrom of the account's own tokens to the token's budget, as the hook does", async function () {
      const f = await networkHelpers.loadFixture(tokenCallsFixture);
      const data = f.usdc.interface.encodeFunctionData("transferFrom", [f.accountAddress, f.recipient, 30_000_000n]);
      const { answer, sent, charged } = await verdicts(f, usdcCall(f, data));
      expect(answer.spends).to.deep.include({
        asset: f.usdc.target,
        requested: 30_000_000n,
        remaining: parseUnits("100", 6),
      });
      expect([sent, charged]).to.deep.equal([true, 30_000_000n]);
    });

    it("refuses a transferFrom over the remaining budget, which the hook refuses too", async function () {
      const f = await networkHelpers.loadFixture(tokenCallsFixture);
      const data = f.usdc.interface.encodeFunctionData("transferFrom", [
        f.accountAddress,
        f.recipient,
        parseUnits("101", 6),
      ]);
      const { answer, sent, charged } = await verdicts(f, usdcCall(f, data));
      expect(answer.refusal).to.deep.include({ refused: "over_budget", requested: parseUnits("101", 6) });
      expect([sent, charged]).to.deep.equal([false, 0n]);
    });

    it("refuses a transferFrom of another address, which the hook refuses whatever its amount", async function () {
      const f = await networkHelpers.loadFixture(tokenCallsFixture);
      const data = f.usdc.interface.encodeFunctionData("transferFrom", [f.recipient, f.accountAddress, 1n]);
      const { answer, sent, charged } = await verdicts(f, usdcCall(f, data));
      expect(answer.refusal).to.deep.include({ refused: "out_of_scope" });
      expect(answer.refusal!.reason).to.match(/transferFrom of an address other than the account/);
      expect([sent, charged]).to.deep.equal([false, 0n]);
    });

    it("refuses a function other than the four spends on a budgeted token, though the grant scopes it", async function () {
      const f = await networkHelpers.loadFixture(tokenCallsFixture);
      const data = balanceOf.encodeFunctionData("balanceOf", [f.accountAddress]);
      const { answer, sent, charged } = await verdicts(f, usdcCall(f, data));
      expect(answer.refusal).to.deep.include({ refused: "out_of_scope" });
      expect(answer.refusal!.reason).to.match(/refuses every call but transfer/);
      expect([sent, charged]).to.deep.equal([false, 0n]);
    });

    it("refuses a truncated transfer, which the hook refuses", async function () {
      const f = await networkHelpers.loadFixture(tokenCallsFixture);
      const data = f.usdc.interface.encodeFunctionData("transfer", [f.recipient, 1n]).slice(0, 2 + 2 * 60);
      const { answer, sent, charged } = await verdicts(f, usdcCall(f, data));
      expect(answer.refusal!.reason).to.match(/truncated transfer/);
      expect([sent, charged]).to.deep.equal([false, 0n]);
    });

    it("charges increaseAllowance's added amount, as the hook does", async function () {
      const f = await networkHelpers.loadFixture(tokenCallsFixture);
      const data = f.usdc.interface.encodeFunctionData("increaseAllowance", [f.recipient, 12_000_000n]);
      const { answer, sent, charged } = await verdicts(f, usdcCall(f, data));
      expect(answer.spends).to.deep.include({
        asset: f.usdc.target,
        requested: 12_000_000n,
        remaining: parseUnits("100", 6),
      });
      expect([sent, charged]).to.deep.equal([true, 12_000_000n]);
    });

    it("charges a Permit2 approve of a budgeted token to that token's budget (THREATS 21), as the hook does", async function () {
      const f = await networkHelpers.loadFixture(tokenCallsFixture);
      const { answer, sent, charged } = await verdicts(f, permit2Approve(f, f.usdc.target as string, 60_000_000n));
      expect(answer.spends).to.deep.include({
        asset: f.usdc.target,
        requested: 60_000_000n,
        remaining: parseUnits("100", 6),
      });
      expect([sent, charged]).to.deep.equal([true, 60_000_000n]);
    });

    it("refuses a Permit2 approve over the token's remaining budget, which the hook refuses too", async function () {
      const f = await networkHelpers.loadFixture(tokenCallsFixture);
      const { answer, sent, charged } = await verdicts(
        f,
        permit2Approve(f, f.usdc.target as string, parseUnits("150", 6)),
      );
      expect(answer.refusal).to.deep.include({ refused: "over_budget", asset: f.usdc.target });
      expect([sent, charged]).to.deep.equal([false, 0n]);
    });

    it("refuses a Permit2 approve whose token word has dirty high bits, which the hook refuses", async function () {
      const f = await networkHelpers.loadFixture(tokenCallsFixture);
      const clean = permit2Approve(f, f.usdc.target as string, 1n);
      const dirty = { ...clean, data: clean.data.slice(0, 10) + "ff" + clean.data.slice(12) };
      const { answer, sent, charged } = await verdicts(f, dirty);
      expect(answer.refusal!.reason).to.match(/token word is not an address/);
      expect([sent, charged]).to.deep.equal([false, 0n]);
    });

    it("refuses calldata starting with a reserved selector, which only a wildcard entry allows, as the module does", async function () {
      const f = await networkHelpers.loadFixture(tokenCallsFixture);
      const { answer, sent } = await verdicts(f, { target: f.recipient, value: 0n, data: "0x00000000" });
      expect(answer.refusal).to.deep.include({ refused: "out_of_scope" });
      expect(sent).to.equal(false);
    });

    it("reads on chain which tokens have a budget: one the owner added after the session file is refused like any", async function () {
      const f = await networkHelpers.loadFixture(tokenCallsFixture);
      const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
      const setBudget = f.spendLimitHook.interface.encodeFunctionData("setBudget", [
        typicalSession(f).sessionId,
        f.permit2,
        1_000n,
        Number(DAY),
        0n,
        false,
      ]);
      await (await ownerCall(f, executeCall(f, f.spendLimitHook.target as string, 0n, setBudget))).wait();
      const { answer, sent } = await verdicts(f, permit2Approve(f, other.target as string, 500n));
      expect(answer.refusal).to.deep.include({ refused: "out_of_scope" });
      expect(answer.refusal!.reason).to.match(/refuses every call but transfer/);
      expect(sent).to.equal(false);
    });

    it("charges nothing for a Permit2 approve of a token the session has no budget for, as the hook does", async function () {
      const f = await networkHelpers.loadFixture(tokenCallsFixture);
      const other = await ethers.deployContract("TestToken", ["Other", "OTH", 18]);
      const { answer, sent, charged } = await verdicts(f, permit2Approve(f, other.target as string, 500n));
      expect(answer.ok).to.equal(true);
      expect(answer.spends.map((spend) => spend.asset)).to.deep.equal([NATIVE_ASSET]);
      expect([sent, charged]).to.deep.equal([true, 0n]);
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

    it("sends ops asked at once in different nonce lanes, and takes lane 0 again once it is free", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const description = typicalSession(f);
      await (await grantByTransaction(f, description)).wait();
      const [, , , submitter] = await ethers.getSigners();
      const handle = createSessionHandle({
        session: sessionFileOf(f, description),
        provider: ethers.provider,
        agentKey: f.agent.privateKey,
        // One submitter for ops sent at once: its transactions need their own nonces.
        via: { submitter: new NonceManager(submitter!) },
        gas: FEES,
      });
      const pay = (amount: bigint) => handle.pay({ asset: "USDC", to: f.recipient, amount });
      await Promise.all([pay(1n), pay(2n), pay(3n)]);
      await pay(4n);
      const events = await f.entryPoint.queryFilter(
        f.entryPoint.filters.UserOperationEvent(undefined, f.accountAddress),
      );
      const lanes = events.map((event) =>
        sessionNonceLane(event.args.nonce >> 64n, f.sessionModule.target as string, description.sessionId),
      );
      expect([...lanes].sort()).to.deep.equal([0, 0, 1, 2]);
      expect(await usdcOf(f, f.recipient)).to.equal(10n);
    });

    it("sends in the lane asked for", async function () {
      const f = await networkHelpers.loadFixture(grantedTypical);
      await f.handle.pay({ asset: "USDC", to: f.recipient, amount: 1n }, { lane: 42 });
      const [event] = await f.entryPoint.queryFilter(
        f.entryPoint.filters.UserOperationEvent(undefined, f.accountAddress),
      );
      expect(event!.args.nonce >> 64n).to.equal(sessionNonceKey(f.sessionModule.target as string, 1, 42));
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
