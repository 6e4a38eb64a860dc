/**
 * `session grant` on Ledger's real Ethereum app, blind signing off (issue #13, THREATS 29): the owner clear-signs the
 * EIP-712 SessionGrant designed for the device, and a relayer, not the owner's Ledger, submits it.
 *
 * The chain, under a chain id the app knows, and the stand-in services are test/device/grantChain.ts's.
 *
 * Every field shown must equal the task's printed summary and a value derived here from the grant plan alone; the
 * chain must then hold that plan.
 */
import { existsSync } from "node:fs";

import { expect } from "chai";
import { ZeroAddress } from "ethers";
import type { NetworkConnection } from "hardhat/types/network";

import { MAX_FILTER_LABEL_LENGTH } from "../../packages/hardhat/src/ledger/ledgerFilters.js";
import { deviceAmount, deviceDate, LedgerRejectedError } from "../../packages/hardhat/src/ledger/ledgerTypedData.js";
import { runCancel } from "../../packages/hardhat/src/tasks/session/cancel.js";
import {
  runGrant,
  type GrantTaskArguments,
  type GrantTaskResult,
} from "../../packages/hardhat/src/tasks/session/grant.js";
import { runSubmit } from "../../packages/hardhat/src/tasks/session/submit.js";
import { taskOwner, testEnv } from "../helpers/tasks.js";
import { DEVICE_CHAIN_ID, DEVICE_NETWORK_NAME, startGrantChain, type GrantChain } from "./grantChain.js";
import { describeOnDevices, reviewFields, reviewOnDevice, transcript } from "./harness.js";
import type { Screen } from "./speculos.js";
import { useSpeculosForHardhatLedger, type SpeculosLedgerSeam } from "./speculosTransport.js";

/** The labels a grant review may show: the app's own ("Contract", "Network") and the descriptor's. */
const LABELS = [
  "Contract",
  "Network",
  "Account",
  "Agent (session key)",
  "Session id",
  "Valid from",
  "Valid until",
  "Budget",
  "Budget period",
  "Budget per op",
  "Value per call",
  "Target",
  "Function",
  "Rule on target",
  "Rule on function",
  "Argument no.",
  "Condition",
  "Value",
  "Can sign messages",
  "Paymaster",
  "Nonce",
  "Nonce to cancel",
  "Signed for account",
  "Chain id",
];

describeOnDevices("session grant, clear-signed and relayed", (device, model) => {
  let chain: GrantChain;
  let connection: NetworkConnection;
  let seam: SpeculosLedgerSeam;
  let f: GrantChain["f"];
  const until = model === "nanosp" ? "Sign message" : "Hold to sign";

  before(async function () {
    chain = await startGrantChain();
    ({ connection, f } = chain);
  });

  after(async function () {
    await seam?.restore();
    await chain?.close();
  });

  async function relayer(): Promise<string> {
    return chain.relayer;
  }

  function grantArgs(overrides: Partial<GrantTaskArguments>): GrantTaskArguments {
    return {
      account: f.account,
      agent: f.agent.address,
      ttl: "24h",
      allow: `${f.addresses.tokens.USDC}:transfer(address,uint256)`,
      budget: "100 USDC/day,0.05 ETH/day",
      signatureOnly: false,
      yes: true,
      addresses: f.addressesFile,
      json: false,
      ...overrides,
    };
  }

  async function grantOnDevice(args: GrantTaskArguments, approve: boolean) {
    seam ??= useSpeculosForHardhatLedger(device());
    const { env, io } = testEnv(connection, f.dir);
    const outcome = await reviewOnDevice(device(), runGrant(args, env), { until, approve });
    if (process.env.LEASH_DEVICE_TRANSCRIPTS === "1") console.log(transcript(outcome.review.screens));
    return { ...outcome, io };
  }

  /** The fields the review showed, in order, and each label within the Nano S Plus's width. */
  function shownFields(screens: readonly Screen[]): [string, string][] {
    const shown = reviewFields(screens, LABELS).fields;
    for (const [label] of shown) expect(label.length).to.be.at.most(MAX_FILTER_LABEL_LENGTH);
    // A value wrapped at a space loses it when the screen's lines are joined: compare without whitespace.
    return shown.map(([label, value]) => [label, value.replace(/\s/g, "")]);
  }

  const squeeze = (fields: [string, string][]) =>
    fields.map(([label, value]): [string, string] => [label, value.replace(/\s/g, "")]);

  it("T29: shows the grant as words and scaled amounts, each equal to the summary and the plan, and a relayer grants it", async function () {
    const nonceBefore = await connection.ethers.provider.getTransactionCount(taskOwner.address);
    const { review, result } = await grantOnDevice(grantArgs({ sessionId: "1", relayer: await relayer() }), true);
    if ("error" in result) throw result.error;
    const granted: GrantTaskResult = result.value;
    const { session } = granted.plan;

    // What the device showed is the task's summary…
    const summary: [string, string][] = [
      ...granted.deviceSummary!.slice(0, 1),
      ["Network", DEVICE_NETWORK_NAME],
      ...granted.deviceSummary!.slice(1),
    ];
    expect(shownFields(review.screens), transcript(review.screens)).to.deep.equal(squeeze(summary));
    // …which is the plan, as a person reads it: no wei, no selector, no zero address.
    expect(granted.deviceSummary).to.deep.equal([
      ["Contract", "Grant an agent a session key"],
      ["Account", f.account],
      ["Agent (session key)", f.agent.address],
      ["Session id", "1"],
      ["Valid from", deviceDate(session.validAfter)],
      ["Valid until", deviceDate(session.validUntil)],
      ["Budget", "100 USDC"],
      ["Budget period", "1 day"],
      ["Budget per op", "Unlimited USDC"],
      ["Budget", "0.05 ETH"],
      ["Budget period", "1 day"],
      ["Budget per op", "Unlimited ETH"],
      ["Value per call", deviceAmount(session.valueCapPerCall, { ticker: "ETH", decimals: 18 })],
      ["Target", f.addresses.tokens.USDC!],
      ["Function", "transfer(address,uint256)"],
      ["Can sign messages", "false"],
      ["Nonce", session.nonce.toString()],
      ["Chain id", String(DEVICE_CHAIN_ID)],
      ["Signed for account", f.account],
    ]);

    // The chain holds the plan, and the owner's Ledger sent nothing.
    const stored = await f.sessionModule.getSession(f.account, 1);
    expect([stored.agent, stored.validAfter, stored.validUntil, stored.valueCapPerCall]).to.deep.equal([
      f.agent.address,
      session.validAfter,
      session.validUntil,
      session.valueCapPerCall,
    ]);
    const usdc = await f.spendLimitHook.getBudget(f.account, 1, f.addresses.tokens.USDC!);
    expect([usdc.limit, usdc.periodLength, usdc.perCallCap]).to.deep.equal([100_000_000n, 86_400n, 0n]);
    expect(granted.submittedBy).to.equal(await relayer());
    expect(await connection.ethers.provider.getTransactionCount(taskOwner.address)).to.equal(nonceBefore);
  });

  it("rejected on the device: the task reports it, and nothing is granted or written", async function () {
    const block = await connection.ethers.provider.getBlockNumber();
    const out = `${f.dir}/rejected-grant-${model}.json`;
    const { result } = await grantOnDevice(grantArgs({ sessionId: "2", out }), false);
    if (!("error" in result)) throw new Error("the grant was not rejected");
    expect(result.error).to.be.instanceOf(LedgerRejectedError);
    expect(existsSync(out)).to.equal(false);
    expect(await connection.ethers.provider.getBlockNumber()).to.equal(block);
    expect((await f.sessionModule.getSession(f.account, 2)).agent).to.equal(ZeroAddress);
  });

  it("cancels a pending signed grant: the device shows its nonce, a relayer submits, and the grant then installs nothing", async function () {
    // The owner signs a grant into a file (on the device)…
    const out = `${f.dir}/pending-grant-${model}.json`;
    const signedGrant = await grantOnDevice(grantArgs({ sessionId: "3", out }), true);
    if ("error" in signedGrant.result) throw signedGrant.result.error;
    const pending = signedGrant.result.value.signedFile!;
    if (pending.kind !== "leash.session-grant") throw new Error(pending.kind);
    const nonce = BigInt(String(pending.grant.nonce));

    // …then cancels it on the device, and a relayer carries the cancellation.
    const { env } = testEnv(connection, f.dir);
    const cancel = runCancel(
      {
        account: f.account,
        nonce: nonce.toString(),
        relayer: await relayer(),
        yes: true,
        addresses: f.addressesFile,
        json: false,
      },
      env,
    );
    const { review, result } = await reviewOnDevice(device(), cancel, { until, approve: true });
    if (process.env.LEASH_DEVICE_TRANSCRIPTS === "1") console.log(transcript(review.screens));
    if ("error" in result) throw result.error;
    const cancelled = result.value;
    expect(cancelled.deviceSummary).to.deep.equal([
      ["Contract", "Cancel a signed grant"],
      ["Account", f.account],
      ["Nonce to cancel", nonce.toString()],
      ["Chain id", String(DEVICE_CHAIN_ID)],
      ["Signed for account", f.account],
    ]);
    expect(shownFields(review.screens), transcript(review.screens)).to.deep.equal(
      squeeze([
        ...cancelled.deviceSummary!.slice(0, 1),
        ["Network", DEVICE_NETWORK_NAME],
        ...cancelled.deviceSummary!.slice(1),
      ]),
    );
    expect(await f.sessionModule.isNonceUsed(f.account, nonce)).to.equal(true);
    const submitted = await runSubmit(
      { file: out, addresses: f.addressesFile, json: false },
      testEnv(connection, f.dir).env,
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(String(submitted)).to.match(/refuses this file: SessionNonceUsed/);
    expect((await f.sessionModule.getSession(f.account, 3)).agent).to.equal(ZeroAddress);
  });

  it("T29: shows a grant of 3 targets, 5 functions, 2 budgets and a paymaster whole, each function with its target and each rule's value as what it is", async function () {
    const usdc = f.addresses.tokens.USDC!;
    const vault = (await connection.ethers.getSigners())[8]!.address;
    const paymaster = (await connection.ethers.getSigners())[9]!.address;
    const allow = [
      `${usdc}:transfer(address to,uint256 amount) to=${f.recipient} amount<=5`,
      `${f.recipient}:receive`,
      `${usdc}:approve(address,uint256)`,
      `${vault}:deposit(uint256)`,
      `${vault}:withdraw(uint256 shares,address to) shares<=1000`,
    ].join(",");
    const { review, result } = await grantOnDevice(
      grantArgs({
        sessionId: "4",
        allow,
        budget: "100 USDC/day cap 10,0.05 ETH/week",
        paymaster,
        relayer: await relayer(),
      }),
      true,
    );
    if ("error" in result) throw result.error;
    const granted = result.value;
    const { session } = granted.plan;
    const summary = granted.deviceSummary!;
    expect(shownFields(review.screens), transcript(review.screens)).to.deep.equal(
      squeeze([...summary.slice(0, 1), ["Network", DEVICE_NETWORK_NAME], ...summary.slice(1)]),
    );
    // Each function is shown with its target; each rule names its target and function.
    const scope = summary.filter(([label]) =>
      ["Target", "Function", "Rule on target", "Rule on function", "Argument no.", "Condition", "Value"].includes(
        label,
      ),
    );
    expect(scope).to.deep.equal([
      ["Target", usdc],
      ["Function", "transfer(address,uint256)"],
      ["Target", usdc],
      ["Function", "approve(address,uint256)"],
      ["Target", f.recipient],
      ["Function", "(plain transfer)"],
      ["Target", vault],
      ["Function", "deposit(uint256)"],
      ["Target", vault],
      ["Function", "withdraw(uint256,address)"],
      // An address rule shows the address; a number rule the number (an amount in base units: 5 USDC).
      ["Rule on target", usdc],
      ["Rule on function", "transfer(address,uint256)"],
      ["Argument no.", "1"],
      ["Condition", "equals"],
      ["Value", f.recipient],
      ["Rule on target", usdc],
      ["Rule on function", "transfer(address,uint256)"],
      ["Argument no.", "2"],
      ["Condition", "at most"],
      ["Value", "5000000"],
      ["Rule on target", vault],
      ["Rule on function", "withdraw(uint256,address)"],
      ["Argument no.", "1"],
      ["Condition", "at most"],
      ["Value", "1000"],
    ]);
    // Every budget the plan installs is shown with its period and cap: the two written, and the paymaster's bounds.
    const budgets = summary.filter(([label]) => label.startsWith("Budget"));
    expect(budgets.length).to.equal(3 * session.budgets.length);
    expect(budgets.slice(0, 6)).to.deep.equal([
      ["Budget", "100 USDC"],
      ["Budget period", "1 day"],
      ["Budget per op", "10 USDC"],
      ["Budget", "0.05 ETH"],
      ["Budget period", "1 week"],
      ["Budget per op", "Unlimited ETH"],
    ]);
    expect(summary.filter(([label]) => label === "Paymaster")).to.deep.equal([["Paymaster", paymaster]]);
    // And the chain holds that scope.
    const stored = await f.sessionModule.getSession(f.account, 4);
    expect(stored.agent).to.equal(f.agent.address);
    expect(await f.spendLimitHook.isPaymasterAllowed(f.account, 4, paymaster)).to.equal(true);
    // The rules the chain enforces are the three shown: entry (in the grouped scope above) ‖ argument ‖ op ‖ value.
    const [grantedEvent] = await f.sessionModule.queryFilter(f.sessionModule.filters.SessionGranted(f.account, 4));
    expect(grantedEvent!.args.argumentRules.map((rule) => BigInt(rule))).to.deep.equal([
      (1n << 232n) | BigInt(f.recipient),
      (1n << 240n) | (2n << 232n) | 5_000_000n,
      (4n << 248n) | (2n << 232n) | 1000n,
    ]);
    const cap = await f.spendLimitHook.getBudget(f.account, 4, usdc);
    expect([cap.limit, cap.periodLength, cap.perCallCap]).to.deep.equal([100_000_000n, 86_400n, 10_000_000n]);
  });
});
