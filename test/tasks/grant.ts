/**
 * `session grant` end to end on the in-process network, signed by the emulated Ledger through hardhat-ledger: the
 * transaction the device signed is mined, decodes to the summary that was printed and to the state on chain
 * (THREATS 18), and the agent can use the session. Bad input is refused before the device is asked anything and
 * without any change on chain (THREATS 19). A generated agent key only goes to a 0600 file (THREATS 20). `account
 * create` is tested in account.ts.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";

import { expect } from "chai";
import { AbiCoder, dataSlice, MaxUint256, parseUnits, type Transaction } from "ethers";

import {
  InvalidAddressError,
  InvalidAmountError,
  InvalidPeriodError,
  InvalidScopeError,
  InvalidSessionIdError,
  InvalidTimeError,
  LeashInputError,
  NotAccountOwnerError,
  TokenDecimalsError,
  UnknownTokenError,
  WrongChainError,
} from "../../client/inputErrors.js";
import { NotConfirmedError } from "../../packages/hardhat/src/tasks/input.js";
import { defaultSessionFile, loadSessionFile } from "../../client/node.js";
import { NATIVE_ASSET, OPERATIONS_ASSET, SPONSORED_FEE_ASSET, SPONSORED_GAS_ASSET } from "../../client/session.js";
import { parseSessionFile } from "../../client/sessionFile.js";
import type { GrantPlanJson } from "../../packages/hardhat/src/tasks/summary.js";
import { runGrant, type GrantTaskArguments } from "../../packages/hardhat/src/tasks/session/grant.js";
import { ModularAccount__factory } from "../../typechain-types/index.js";
import {
  agentPaysUsdc,
  deployForTasks,
  deployOwnerAccount,
  expectRefusal,
  ledgerConnection,
  ownerApproves,
  taskLedger,
  taskOwner,
  testEnv,
} from "../helpers/tasks.js";

const connection = await ledgerConnection();
const readFileSyncUtf8 = (file: string) => readFileSync(file, "utf8");
const { ethers, networkHelpers } = connection;

async function grantFixture() {
  const f = await deployForTasks(connection);
  const account = await deployOwnerAccount(connection, f);
  return { ...f, account };
}
type Fixture = Awaited<ReturnType<typeof grantFixture>>;

function grantArgs(f: Fixture, overrides: Partial<GrantTaskArguments> = {}): GrantTaskArguments {
  return {
    account: f.account,
    agent: f.agent.address,
    ttl: "24h",
    allow: `${f.addresses.tokens.USDC}:transfer(address,uint256)`,
    budget: "100 USDC/day,0.05 ETH/day",
    signatureOnly: false,
    byTransaction: true,
    yes: true,
    addresses: f.addressesFile,
    json: false,
    ...overrides,
  };
}

/** The session config and budgets inside the owner transaction the device signed. */
function decodeDeviceGrant(tx: Transaction) {
  const account = ModularAccount__factory.createInterface();
  const outer = account.parseTransaction({ data: tx.data });
  if (outer?.name !== "executeWithRuntimeValidation") throw new Error(`device signed ${outer?.name}`);
  const inner = account.parseTransaction({ data: outer.args[0] as string });
  if (inner?.name !== "installValidation") throw new Error(`device signed ${inner?.name}`);
  const coder = AbiCoder.defaultAbiCoder();
  const [config] = coder.decode(
    ["tuple(uint32,address,uint48,uint48,uint128,bool,address[],bytes4[],uint256[])"],
    inner.args[2] as string,
  );
  const hook = (inner.args[3] as string[])[0]!;
  const budgets = coder.decode(
    ["uint32", "uint48", "address[]", "uint256[]", "uint48[]", "uint256[]", "address[]"],
    dataSlice(hook, 25),
  );
  const [sessionId, agent, validAfter, validUntil, valueCapPerCall, canSign, targets, selectors, rules] =
    config as unknown as [bigint, string, bigint, bigint, bigint, boolean, string[], string[], bigint[]];
  return {
    to: tx.to,
    chainId: tx.chainId,
    sessionId: Number(sessionId),
    agent,
    validAfter: validAfter.toString(),
    validUntil: validUntil.toString(),
    valueCapPerCall: valueCapPerCall.toString(),
    canSignMessages: canSign,
    scope: targets.map((target, i) => ({ target, selector: selectors[i] })),
    argumentRules: rules.map((rule) => rule.toString()),
    budgets: (budgets[2] as string[]).map((asset, i) => ({
      asset,
      limit: (budgets[3] as bigint[])[i]!.toString(),
      period: (budgets[4] as bigint[])[i]!.toString(),
      perCallCap: (budgets[5] as bigint[])[i]!.toString(),
    })),
    paymasters: [...(budgets[6] as string[])],
  };
}

describe("session grant", function () {
  before(function () {
    taskLedger.install();
  });

  after(function () {
    taskLedger.uninstall();
  });

  describe("the agent's session file (--agent)", function () {
    it("writes the session the chain holds, with its coordinates and budgets, and no key, where --json says", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env, io } = testEnv(connection, f.dir);
      const { plan } = await runGrant(grantArgs(f, { json: true }), env);
      const printed = JSON.parse(io.lines.join("\n")) as { sessionFile: string };
      expect(printed.sessionFile).to.equal(
        path.join(f.dir, "sessions", plan.chainId.toString(), `${f.account}-${plan.session.sessionId}.json`),
      );
      const text = await readFile(printed.sessionFile, "utf8");
      expect(text).to.not.match(/privateKey/);
      const file = await loadSessionFile(printed.sessionFile);
      const onChain = await f.sessionModule.getSession(f.account, file.sessionId);
      expect([file.account, file.agent, file.validAfter, file.validUntil, file.valueCapPerCall]).to.deep.equal([
        f.account,
        onChain.agent,
        onChain.validAfter,
        onChain.validUntil,
        onChain.valueCapPerCall,
      ]);
      expect([file.entryPoint, file.sessionModule, file.spendLimitHook]).to.deep.equal([
        f.addresses.entryPoint,
        f.addresses.sessionModule,
        f.addresses.spendLimitHook,
      ]);
      expect(file.scope).to.deep.equal([
        { target: f.addresses.tokens.USDC, selector: "0xa9059cbb", function: "transfer(address,uint256)", rules: [] },
      ]);
      expect(file.canSignMessages).to.equal(onChain.canSignMessages);
      const usdc = file.budgets.find((budget) => budget.symbol === "USDC")!;
      const [limit, , , period] = await f.spendLimitHook.getBudget(f.account, file.sessionId, f.addresses.tokens.USDC!);
      expect([usdc.asset, usdc.decimals, usdc.limit, usdc.period]).to.deep.equal([
        f.addresses.tokens.USDC,
        6,
        limit,
        period,
      ]);
    });

    it("writes none with --generate-agent-key (the key file carries the session), and reads no file with a key as one", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env } = testEnv(connection, f.dir);
      const keyFile = path.join(f.dir, "agent-key.json");
      // The fixture's folder outlives chain snapshots: start without another test's session files.
      rmSync(path.join(f.dir, "sessions"), { recursive: true, force: true });
      const result = await runGrant(grantArgs(f, { agent: undefined, generateAgentKey: keyFile }), env);
      expect(result.sessionFile).to.equal(undefined);
      const { chainId, session } = result.plan;
      expect(existsSync(defaultSessionFile(f.dir, chainId, session.account, session.sessionId))).to.equal(false);
      expect(() => parseSessionFile(readFileSyncUtf8(keyFile), keyFile)).to.throw(/not a Leash session file/);
      const forged = JSON.stringify({ kind: "leash.session", version: 1, privateKey: "0x01" });
      expect(() => parseSessionFile(forged, "forged.json")).to.throw(/holds "privateKey", which a session file never/);
    });

    it("never writes over a file that is not this session's file, and refuses before the device is asked", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env } = testEnv(connection, f.dir);
      const other = path.join(f.dir, "signed-grant.json");
      await writeFile(other, '{"kind":"leash.session-grant"}\n');
      const asked = taskLedger.requests.length;
      await expectRefusal(runGrant(grantArgs(f, { sessionOut: other }), env), InvalidAddressError, /--session-out/);
      expect(taskLedger.requests.length).to.equal(asked);
      expect(await readFile(other, "utf8")).to.equal('{"kind":"leash.session-grant"}\n');
      expect((await f.sessionModule.getSession(f.account, 1)).agent).to.equal(
        "0x0000000000000000000000000000000000000000",
      );
      await expectRefusal(
        runGrant(
          grantArgs(f, { agent: undefined, generateAgentKey: path.join(f.dir, "k.json"), sessionOut: other }),
          env,
        ),
        InvalidAddressError,
        /--session-out goes with --agent/,
      );
    });

    it("reads a session file strictly: its argument rules kept, a malformed selector or another chain refused", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env } = testEnv(connection, f.dir);
      const allow = `${f.addresses.tokens.USDC}:transfer(address to,uint256 amount) to=${f.recipient}`;
      const { plan } = await runGrant(grantArgs(f, { allow }), env);
      const file = defaultSessionFile(f.dir, plan.chainId, plan.session.account, plan.session.sessionId);
      const loaded = await loadSessionFile(file, plan.chainId);
      expect(loaded.scope[0]!.rules).to.deep.equal([{ argument: 0, op: "eq", value: BigInt(f.recipient) }]);
      const text = await readFile(file, "utf8");
      expect(() => parseSessionFile(text.replace('"0xa9059cbb"', '"0xa9059c"'), file)).to.throw(/4-byte selector/);
      expect(() => parseSessionFile(text, file, plan.chainId + 1n)).to.throw(/not on this chain/);
    });
  });

  describe("by transaction", function () {
    it("installs exactly what it printed: device bytes, --json summary and chain state agree (THREATS 18)", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env, io } = testEnv(connection, f.dir);
      const before = taskLedger.requests.length;
      await runGrant(grantArgs(f, { json: true }), env);
      const printed = JSON.parse(io.lines.join("\n")) as Record<string, unknown> & { transactionHash: string };
      const requests = taskLedger.requests.slice(before);
      expect(requests.map((r) => r.kind)).to.deep.equal(["transaction"]);
      const request = requests[0]!;
      if (request.kind !== "transaction") throw new Error("unreachable");
      const device = decodeDeviceGrant(request.transaction);
      const { to, chainId, ...signed } = device;
      expect([to, chainId.toString()]).to.deep.equal([f.account, printed.chainId]);
      expect(signed).to.deep.equal({
        sessionId: printed.sessionId,
        agent: printed.agent,
        validAfter: printed.validAfter,
        validUntil: printed.validUntil,
        valueCapPerCall: printed.valueCapPerCall,
        canSignMessages: printed.canSignMessages,
        scope: (printed.scope as { target: string; selector: string }[]).map(({ target, selector }) => ({
          target,
          selector,
        })),
        argumentRules: [],
        budgets: (printed.budgets as { asset: string; limit: string; period: string; perCallCap: string }[]).map(
          ({ asset, limit, period, perCallCap }) => ({ asset, limit, period, perCallCap }),
        ),
        paymasters: printed.paymasters,
      });
      // The device's transaction is the one mined, and the chain holds what it says.
      const receipt = await ethers.provider.getTransactionReceipt(printed.transactionHash);
      expect(receipt?.status).to.equal(1);
      const session = await f.sessionModule.getSession(f.account, device.sessionId);
      expect([session.agent, session.validAfter.toString(), session.validUntil.toString()]).to.deep.equal([
        device.agent,
        device.validAfter,
        device.validUntil,
      ]);
      expect(
        await f.sessionModule.isInScope(f.account, device.sessionId, device.scope[0]!.target, "0xa9059cbb"),
      ).to.equal(true);
      const usdcBudget = await f.spendLimitHook.getBudget(f.account, device.sessionId, f.addresses.tokens.USDC!);
      const ethBudget = await f.spendLimitHook.getBudget(f.account, device.sessionId, NATIVE_ASSET);
      expect([usdcBudget.limit, usdcBudget.periodLength, ethBudget.limit]).to.deep.equal([
        parseUnits("100", 6),
        86_400n,
        parseUnits("0.05", 18),
      ]);
    });

    it("prints the agent, UTC and local times, the function by name and budgets with decimals", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env, io } = testEnv(connection, f.dir);
      const { plan } = await runGrant(grantArgs(f), env);
      const text = io.text;
      const utc = new Date(Number(plan.session.validUntil) * 1000).toISOString().replace("T", " ").slice(0, 19);
      expect(text).to.include(`agent            ${f.agent.address}`);
      expect(text).to.include(`valid until      ${utc} UTC (local: `);
      expect(text).to.include(`${f.addresses.tokens.USDC} (USDC): transfer(address,uint256) [0xa9059cbb]`);
      expect(text).to.include("100.0 USDC per day");
      expect(text).to.include("0.05 ETH per day (native, 18 decimals)");
      expect(io.lines.at(-1)).to.match(new RegExp(`^Session 1 granted to ${f.agent.address} in 0x[0-9a-f]{64}$`));
    });

    it("bounds what a paymaster pays by default: a sponsored-gas budget and a fee cap, printed and installed (THREATS 22)", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env, io } = testEnv(connection, f.dir);
      const paymaster = f.recipient;
      const { plan } = await runGrant(grantArgs(f, { paymaster }), env);
      expect(io.text).to.include(
        "sponsored gas    at most 0.01 ETH per day of gas paymasters pay (each op counted at its maximum cost), " +
          "at most 100.0 gwei per gas",
      );
      const id = plan.session.sessionId;
      const gas = await f.spendLimitHook.getBudget(f.account, id, SPONSORED_GAS_ASSET);
      const fee = await f.spendLimitHook.getBudget(f.account, id, SPONSORED_FEE_ASSET);
      expect([gas.limit, gas.periodLength, fee.limit, fee.periodLength]).to.deep.equal([
        parseUnits("0.01", 18),
        86_400n,
        100_000_000_000n,
        0n,
      ]);
      expect(await f.spendLimitHook.isPaymasterAllowed(f.account, id, paymaster)).to.equal(true);
    });

    it("takes the owner's sponsored-gas budget and fee cap when given", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env } = testEnv(connection, f.dir);
      const { plan } = await runGrant(
        grantArgs(f, { paymaster: f.recipient, sponsoredGas: "0.002 ETH/hour", maxFee: "25 gwei" }),
        env,
      );
      const id = plan.session.sessionId;
      const gas = await f.spendLimitHook.getBudget(f.account, id, SPONSORED_GAS_ASSET);
      const fee = await f.spendLimitHook.getBudget(f.account, id, SPONSORED_FEE_ASSET);
      expect([gas.limit, gas.periodLength, fee.limit]).to.deep.equal([
        parseUnits("0.002", 18),
        3_600n,
        25_000_000_000n,
      ]);
    });

    it("grants a rate limit written as a budget of ops, printed as an op count", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env, io } = testEnv(connection, f.dir);
      const { plan } = await runGrant(grantArgs(f, { budget: "100 USDC/day,0.05 ETH/day,20 ops/day" }), env);
      expect(io.text).to.include("20 ops per day (op count)");
      const ops = await f.spendLimitHook.getBudget(f.account, plan.session.sessionId, OPERATIONS_ASSET);
      expect([ops.limit, ops.periodLength]).to.deep.equal([20n, 86_400n]);
    });

    it("pins a transfer's recipient and bounds its amount, printed by name and scaled, enforced on chain (THREATS 27)", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env, io } = testEnv(connection, f.dir);
      const usdc = f.addresses.tokens.USDC!;
      const allow = `${usdc}:transfer(address to,uint256 amount) to=${f.recipient} amount<=50`;
      const { plan } = await runGrant(grantArgs(f, { allow, budget: "1000 USDC/day,0.05 ETH/day" }), env);
      expect(io.text).to.include(
        `${usdc} (USDC): transfer(address to,uint256 amount) where to = ${f.recipient}, amount ≤ 50.0 USDC [0xa9059cbb]`,
      );
      const id = plan.session.sessionId;
      const paid = await agentPaysUsdc(connection, f, f.account, id, f.recipient, 50_000_000n);
      expect(paid.success).to.equal(true);
      const overBound = await agentPaysUsdc(connection, f, f.account, id, f.recipient, 50_000_001n).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(String(overBound)).to.match(/breaks the owner's rule on its argument 1/);
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(50_000_000n);
    });

    it("lets the agent pay within its budget with the granted session", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env } = testEnv(connection, f.dir);
      const { plan } = await runGrant(grantArgs(f), env);
      const result = await agentPaysUsdc(connection, f, f.account, plan.session.sessionId, f.recipient, 25_000_000n);
      expect(result.success).to.equal(true);
      expect(await f.usdc.balanceOf(f.recipient)).to.equal(25_000_000n);
    });

    it("signs nothing and changes nothing when the owner declines the summary", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env, io } = testEnv(connection, f.dir);
      io.answer = false;
      const before = taskLedger.requests.length;
      const block = await ethers.provider.getBlockNumber();
      await expectRefusal(runGrant(grantArgs(f, { yes: false }), env), NotConfirmedError, /nothing was signed/);
      expect(io.questions).to.deep.equal(["Sign this grant on your Ledger?"]);
      expect([taskLedger.requests.length, await ethers.provider.getBlockNumber()]).to.deep.equal([before, block]);
    });

    it("shows a token's own symbol only if it is printable: newlines and escapes cannot rewrite the summary (THREATS 18)", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const hostile = await ethers.deployContract("TestToken", [
        "Spoof",
        "USDC\n  agent            0xdead\u001b[2K",
        6,
      ]);
      const { env, io } = testEnv(connection, f.dir);
      const { plan } = await runGrant(grantArgs(f, { budget: `5 ${hostile.target}/day,0.05 ETH/day` }), env);
      expect(io.text).to.not.include("0xdead");
      expect(io.text).to.not.include("\u001b");
      expect(io.text).to.include(`token ${hostile.target} (its symbol() is not printable)`);
      expect(plan.session.budgets.map((b) => b.asset)).to.include(hostile.target);
    });

    it("leaves no agent key behind when the owner declines the grant (THREATS 20)", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env, io } = testEnv(connection, f.dir);
      io.answer = false;
      const file = path.join(f.dir, `declined-agent-${Date.now()}.json`);
      await expectRefusal(
        runGrant(grantArgs(f, { agent: undefined, generateAgentKey: file, yes: false }), env),
        NotConfirmedError,
        /nothing was signed/,
      );
      expect(existsSync(file)).to.equal(false);
    });

    it("writes a generated agent key only to a new 0600 file and never prints it (THREATS 20)", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env, io } = testEnv(connection, f.dir);
      const file = path.join(f.dir, `agent-${Date.now()}.json`);
      const { plan } = await runGrant(grantArgs(f, { agent: undefined, generateAgentKey: file, json: true }), env);
      const saved = JSON.parse(await readFile(file, "utf8")) as {
        address: string;
        privateKey: string;
        sessionId: number;
      };
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      expect([saved.address, saved.sessionId]).to.deep.equal([plan.session.agent, plan.session.sessionId]);
      expect(io.text).to.not.include(saved.privateKey.slice(2));
    });
  });

  describe("when the account already gave allowances (THREATS 21)", function () {
    const WARNING = "  standing allowances (the session's targets may pull these when the agent calls them):";

    /** A vault (any contract) the owner approved from the account, and a scope that lets the agent call it. */
    async function vaultInScope(f: Fixture, amount: bigint) {
      const vault = await ethers.deployContract("TestToken", ["Vault Shares", "vUSDC", 6]);
      const address = await vault.getAddress();
      await ownerApproves(connection, f, f.account, address, amount);
      const allow = `${f.addresses.tokens.USDC}:transfer(address,uint256),${address}:deposit(uint256,address)`;
      return { vault: address, allow };
    }

    it("warns that a target in scope may pull the account's USDC, scaled and named, in the summary and --json", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { vault, allow } = await vaultInScope(f, parseUnits("1000", 6));
      const { env, io } = testEnv(connection, f.dir);
      await runGrant(grantArgs(f, { allow, json: true }), env);
      const usdc = f.addresses.tokens.USDC!;
      expect(io.progressLines).to.include(WARNING);
      expect(io.progressLines).to.include(`    ! ${vault} may pull 1000.0 USDC (${usdc}, 6 decimals) from the account`);
      const printed = JSON.parse(io.lines.join("\n")) as GrantPlanJson & { transactionHash: string | null };
      expect(printed.standingAllowances.found).to.deep.equal([
        { spender: vault, token: usdc, symbol: "USDC", decimals: 6, amount: "1000000000", unlimited: false },
      ]);
      expect(printed.standingAllowances.unreadable).to.deep.equal([]);
      expect(printed.transactionHash, "the warning blocked the grant").to.match(/^0x[0-9a-f]{64}$/);
    });

    it("shows a max uint256 allowance as unlimited, before the Ledger is asked anything", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { vault, allow } = await vaultInScope(f, MaxUint256);
      const { env, io } = testEnv(connection, f.dir);
      io.answer = false;
      const before = taskLedger.requests.length;
      await expectRefusal(runGrant(grantArgs(f, { allow, yes: false }), env), NotConfirmedError, /nothing was signed/);
      const usdc = f.addresses.tokens.USDC!;
      expect(io.progressLines).to.include(
        `    ! ${vault} may pull unlimited USDC (${usdc}, 6 decimals) from the account`,
      );
      expect(taskLedger.requests.length, "the device was asked").to.equal(before);
    });

    it("says none were found among the tokens checked when no target holds an allowance", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env, io } = testEnv(connection, f.dir);
      const { plan } = await runGrant(grantArgs(f), env);
      expect(io.text).to.not.include(WARNING);
      expect(io.progressLines).to.include(
        "  standing allowances: none found among the 1 token checked (address book and budgets), to 1 target in scope",
      );
      expect(plan.standingAllowances).to.deep.equal({
        tokens: [f.addresses.tokens.USDC],
        spenders: [f.addresses.tokens.USDC],
        found: [],
        unreadable: [],
      });
    });

    it("says which allowances it could not read and still grants when an address book token has no code", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const file = path.join(f.dir, "codeless-token.json");
      const book = JSON.parse(await readFile(f.addressesFile, "utf8")) as { tokens: Record<string, string> };
      await writeFile(file, JSON.stringify({ ...book, tokens: { ...book.tokens, DAI: f.recipient } }));
      const { env, io } = testEnv(connection, f.dir);
      const result = await runGrant(grantArgs(f, { addresses: file }), env);
      const usdc = f.addresses.tokens.USDC!;
      expect(io.progressLines).to.include(
        "  standing allowances: none found among the 2 tokens checked (address book and budgets), to 1 target in scope",
      );
      expect(io.text).to.include(
        `    ? ${usdc} (USDC) from DAI (${f.recipient}): address book token DAI: no contract at ${f.recipient}`,
      );
      expect(result.transactionHash).to.match(/^0x[0-9a-f]{64}$/);
    });
  });

  describe("when the input is bad (THREATS 19)", function () {
    const cases: {
      title: string;
      args: (f: Fixture) => Partial<GrantTaskArguments> | Promise<Partial<GrantTaskArguments>>;
      error: new (...args: never[]) => LeashInputError;
      message: RegExp;
    }[] = [
      {
        title: "a malformed agent address",
        args: () => ({ agent: "0x12345" }),
        error: InvalidAddressError,
        message: /--agent: "0x12345" is not an address/,
      },
      {
        title: "an agent address with a wrong checksum",
        args: (f) => ({ agent: f.agent.address.slice(0, 2) + swapCase(f.agent.address.slice(2)) }),
        error: InvalidAddressError,
        message: /wrong EIP-55 checksum/,
      },
      {
        title: "an unknown token symbol",
        args: () => ({ budget: "5 DAI/day,0.05 ETH/day" }),
        error: UnknownTokenError,
        message: /unknown token symbol "DAI".*known: ETH, USDC/,
      },
      {
        title: "a token address without decimals",
        args: (f) => ({ budget: `5 ${f.recipient}/day,0.05 ETH/day` }),
        error: TokenDecimalsError,
        message: /no contract at/,
      },
      {
        title: "a budget of 0",
        args: () => ({ budget: "0 USDC/day,0.05 ETH/day" }),
        error: InvalidAmountError,
        message: /above zero/,
      },
      {
        title: "a negative budget",
        args: () => ({ budget: "-5 USDC/day,0.05 ETH/day" }),
        error: InvalidAmountError,
        message: /negative/,
      },
      {
        title: "an absurd budget beyond 2^96 base units",
        args: () => ({ budget: "100000000000000000000000 USDC/day,0.05 ETH/day" }),
        error: InvalidAmountError,
        message: /more than the session can hold/,
      },
      {
        title: "more decimals than the token has",
        args: () => ({ budget: "1.0000001 USDC/day,0.05 ETH/day" }),
        error: InvalidAmountError,
        message: /only 6/,
      },
      {
        title: "a budget period beyond the packing's 97 days",
        args: () => ({ budget: "5 USDC/98d,0.05 ETH/day" }),
        error: InvalidPeriodError,
        message: /97 days/,
      },
      {
        title: "an expiry in the past",
        args: () => ({ ttl: undefined, validUntil: "2020-01-01" }),
        error: InvalidTimeError,
        message: /not after the chain's current time/,
      },
      {
        title: "an expiry beyond the uint48 range",
        args: () => ({ ttl: "99999999999w" }),
        error: InvalidTimeError,
        message: /beyond what a session can hold/,
      },
      {
        title: "no expiry at all",
        args: () => ({ ttl: undefined }),
        error: InvalidTimeError,
        message: /exactly one of --ttl/,
      },
      {
        title: "the account itself as a target",
        args: (f) => ({ allow: `${f.account}:*` }),
        error: InvalidScopeError,
        message: /is the account itself/,
      },
      {
        title: "an ERC-6900 module as a target, installed on the account or not (it reports IModule through ERC-165)",
        args: async () => {
          const module = await ethers.deployContract("GreeterExecutionModule");
          return { allow: `${module.target as string}:greet(string)` };
        },
        error: InvalidScopeError,
        message: /is an ERC-6900 module \(it reports IModule through ERC-165\); a session may never call a module/,
      },
      {
        title: "an EntryPoint as a target, another than Leash's own (it reports IStakeManager through ERC-165)",
        args: async () => {
          const { deployEntryPoint } = await import("../helpers/fixture.js");
          const other = await deployEntryPoint(ethers, "0.7");
          return { allow: `${other.target as string}:withdrawTo(address,uint256)` };
        },
        error: InvalidScopeError,
        message: /is an EntryPoint \(it reports IStakeManager through ERC-165\)/,
      },
      {
        title: "signing for a token the session has a budget for (it could sign that token's permits)",
        args: (f) => ({
          allow: `${f.addresses.tokens.USDC}:transfer(address,uint256),${f.addresses.tokens.USDC}:sign`,
        }),
        error: InvalidScopeError,
        message: /lets the session sign that token's permits/,
      },
      {
        title: "a multicall on a target whose function has argument rules (it would reach it unchecked)",
        args: (f) => ({
          allow:
            `${f.addresses.tokens.USDC}:transfer(address to,uint256 amount) to=${f.recipient},` +
            `${f.addresses.tokens.USDC}:multicall(bytes[])`,
        }),
        error: InvalidScopeError,
        message: /has argument rules, but its batch function 0xac9650d8 would reach the ruled function/,
      },
      {
        title: "a wildcard on a target whose function has argument rules",
        args: (f) => ({
          allow:
            `${f.addresses.tokens.USDC}:transfer(address to,uint256 amount) to=${f.recipient},` +
            `${f.addresses.tokens.USDC}:*`,
        }),
        error: InvalidScopeError,
        message: /has argument rules, but the wildcard would reach the ruled function/,
      },
      {
        title: "signing for Permit2 in a session with a token budget (it could sign transfers of the budgeted token)",
        args: (f) => ({
          allow: `${f.addresses.tokens.USDC}:transfer(address,uint256),0x000000000022D473030F116dDEE9F6B43aC78BA3:sign`,
        }),
        error: InvalidScopeError,
        message: /Permit2.*sign/,
      },
      {
        title: "no ETH budget for gas and no paymaster",
        args: () => ({ budget: "100 USDC/day" }),
        error: InvalidAmountError,
        message: /pays the agent's gas from an ETH budget/,
      },
      {
        title: "a sponsored-gas budget without a paymaster",
        args: () => ({ sponsoredGas: "0.01 ETH/day" }),
        error: InvalidAmountError,
        message: /give --paymaster too/,
      },
      {
        title: "a sponsored-gas budget in a token",
        args: (f) => ({ paymaster: f.recipient, sponsoredGas: "10 USDC/day" }),
        error: InvalidAmountError,
        message: /must be "<amount> ETH\/<period>"/,
      },
      {
        title: "a fee cap that is not in gwei",
        args: (f) => ({ paymaster: f.recipient, maxFee: "0.1 ETH" }),
        error: InvalidAmountError,
        message: /is not "<n> gwei"/,
      },
      {
        title: "a budget period shorter than an hour (THREATS 24)",
        args: () => ({ budget: "100 USDC/30m,0.05 ETH/day" }),
        error: InvalidPeriodError,
        message: /shorter than an hour/,
      },
      {
        title: "an address book of another chain",
        args: async (f) => {
          const file = path.join(f.dir, "mainnet.json");
          await writeFile(
            file,
            (await readFile(f.addressesFile, "utf8")).replace(/"chainId": "\d+"/, '"chainId": "1"'),
          );
          return { addresses: file };
        },
        error: WrongChainError,
        message: /for chain 1 but the network is chain 31337/,
      },
      {
        title: "an expiry beyond what a date can show (--ttl 99999999w)",
        args: () => ({ ttl: "99999999w" }),
        error: InvalidTimeError,
        message: /beyond what a session can hold/,
      },
      {
        title: "an account the configured Ledger does not own",
        args: async (f) => {
          const [stranger] = await ethers.getSigners();
          await (await f.factory.createAccount(stranger!.address, 0n)).wait();
          return { account: await f.factory.getAccountAddress(stranger!.address, 0n) };
        },
        error: NotAccountOwnerError,
        message: new RegExp(`${taskOwner.address} does not own account`),
      },
      {
        title: "an account that is not deployed",
        args: async (f) => ({ account: await f.factory.getAccountAddress(taskOwner.address, 9n) }),
        error: NotAccountOwnerError,
        message: /no account is deployed/,
      },
    ];

    for (const { title, args, error, message } of cases) {
      it(`refuses ${title} before asking the Ledger`, async function () {
        const f = await networkHelpers.loadFixture(grantFixture);
        const overrides = await args(f);
        const { env } = testEnv(connection, f.dir);
        const before = taskLedger.requests.length;
        const block = await ethers.provider.getBlockNumber();
        await expectRefusal(runGrant(grantArgs(f, overrides), env), error, message);
        expect(taskLedger.requests.length, "the device was asked to sign").to.equal(before);
        expect(await ethers.provider.getBlockNumber(), "the chain changed").to.equal(block);
        expect(await f.sessionModule.grantCountOf(f.account)).to.equal(0n);
      });
    }

    it("refuses a session id the account already has, before asking the Ledger", async function () {
      const f = await networkHelpers.loadFixture(grantFixture);
      const { env } = testEnv(connection, f.dir);
      await runGrant(grantArgs(f, { sessionId: "4" }), env);
      const before = taskLedger.requests.length;
      await expectRefusal(
        runGrant(grantArgs(f, { sessionId: "4" }), env),
        InvalidSessionIdError,
        /already has a session 4/,
      );
      expect(taskLedger.requests.length).to.equal(before);
    });
  });
});

function swapCase(text: string): string {
  return [...text].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join("");
}
