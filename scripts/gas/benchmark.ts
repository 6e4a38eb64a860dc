/**
 * The gas benchmark of ../shared/GAS.md as a function, shared by `npm run bench:gas` (scripts/bench-gas.ts) and the
 * regression guard in `npm test` (test/gas/regression.ts): every scenario through the real EntryPoint v0.8 on
 * Hardhat's in-process network, one op per `handleOps` bundle, on one account with fixed keys and fixed block
 * times, so two runs give the same numbers. It throws if a scenario reverts or a figure is missing.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import { concat, parseEther, parseUnits, toBeHex, zeroPadValue, type ContractTransactionReceipt } from "ethers";

import { encodeValidationSignature } from "../../client/encoding.js";
import {
  encodeDeferredGrant,
  sessionInstallArgs,
  SPONSORED_FEE_ASSET,
  SPONSORED_GAS_ASSET,
  type SessionDescription,
} from "../../client/session.js";
import { OWNER_ENTITY_ID } from "../../test/helpers/fixture.js";
import {
  DAY,
  executeCall,
  ownerAuthorization,
  sessionFixture,
  sessionOp,
  signGrant,
  typicalSession,
  usdcTransfer,
  type SessionFixture,
} from "../../test/helpers/sessions.js";
import { buildSignedOp, opSucceeded, sendOp } from "../../test/helpers/userOps.js";

/** The scenarios of ../shared/GAS.md, in its order, then Leash's own diagnostics. */
export const SCENARIOS = [
  "owner.native",
  "session.native",
  "owner.erc20",
  "session.erc20",
  "session.erc20.batch3",
  "session.native.newPeriod",
  "session.grant.tx",
  "session.grant.signed",
  "session.revoke",
  "session.revokeAll",
  "session.runtime.native",
  "session.erc20.pinnedRecipient",
  "session.sponsored",
] as const;
export const DIAGNOSTICS = [
  "session.native.noHook",
  "session.erc20.noHook",
  "session.revoke.ownerTx",
  "session.revokeAll.ownerTx",
] as const;
type Scenario = (typeof SCENARIOS)[number] | (typeof DIAGNOSTICS)[number];

/** What a scenario's overhead is measured against (GAS.md: same account, same call). */
const OWNER_BASELINE: Partial<Record<Scenario, Scenario>> = {
  "session.native": "owner.native",
  "session.erc20": "owner.erc20",
  "session.erc20.pinnedRecipient": "owner.erc20",
  "session.native.noHook": "owner.native",
  "session.erc20.noHook": "owner.erc20",
};

/** Fixed block time of the first measured block (2027-01-01T00:00:00Z), so periods and figures are repeatable. */
const T0 = 1_798_761_600n;
const PAY = parseEther("0.01");
const TOKEN_AMOUNT = parseUnits("1", 6);

/** One figure of the report (GAS.md's format). */
export interface GasReportRow {
  scenario: string;
  gasUsed: number;
  overheadVsOwner: number | null;
}

/** The measured transactions, for tracing them (scripts/gas/profile.ts): hash per scenario, names of addresses. */
export interface MeasuredTransactions {
  hashes: Map<string, string>;
  labels: Record<string, string>;
}

/**
 * Runs every scenario on a fresh network connection and returns the report rows, GAS.md's scenarios first. If
 * `measured` is given, it receives each scenario's transaction hash and the names of the contracts involved.
 */
export async function runGasBenchmark(
  ethers: HardhatEthers,
  networkHelpers: NetworkHelpers,
  measured?: MeasuredTransactions,
): Promise<GasReportRow[]> {
  const f = await sessionFixture(ethers, networkHelpers);
  const results = new Map<Scenario, bigint>();
  if (measured !== undefined) {
    const implementation = await ethers.provider.getStorage(
      f.accountAddress,
      // ERC-1967 implementation slot.
      "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc",
    );
    const named: Record<string, string | { target: unknown }> = {
      EntryPoint: f.entryPoint,
      account: f.accountAddress,
      accountImplementation: "0x" + implementation.slice(26),
      ownerModule: f.ownerModule,
      sessionModule: f.sessionModule,
      spendLimitHook: f.spendLimitHook,
      usdc: f.usdc,
      recipient: f.recipient,
      ecrecover: "0x0000000000000000000000000000000000000001",
    };
    for (const [label, value] of Object.entries(named)) {
      measured.labels[(typeof value === "string" ? value : String(value.target)).toLowerCase()] = label;
    }
  }
  let clock = T0;

  /** Mines the next transaction at a fixed, increasing time. */
  async function atNextTime(seconds = 12n): Promise<bigint> {
    clock += seconds;
    await networkHelpers.time.setNextBlockTimestamp(clock);
    return clock;
  }

  function record(scenario: Scenario, receipt: ContractTransactionReceipt | null, succeeded = true): void {
    if (receipt === null || receipt.status !== 1 || !succeeded) throw new Error(`scenario ${scenario} reverted`);
    results.set(scenario, receipt.gasUsed);
    measured?.hashes.set(scenario, receipt.hash);
  }

  async function ownerOp(callData: string) {
    const { op } = await buildSignedOp(f.entryPoint, {
      sender: f.accountAddress,
      callData,
      selection: { validation: { module: f.ownerModule.target as string, entityId: OWNER_ENTITY_ID }, isGlobal: true },
      signer: f.owner,
    });
    return op;
  }

  async function runOwner(scenario: Scenario | undefined, callData: string): Promise<void> {
    await atNextTime();
    const receipt = await sendOp(ethers, f.entryPoint, await ownerOp(callData));
    if (scenario !== undefined) record(scenario, receipt, opSucceeded(f.entryPoint, receipt));
  }

  async function runSession(
    scenario: Scenario | undefined,
    callData: string,
    sessionId: number,
    hasSpendLimitHook = true,
    paymasterAndData = "0x",
  ): Promise<void> {
    const time = await atNextTime();
    // The spend-limit hook takes the op's expected time as its data; a session without the hook takes none.
    // With the hook the op goes through executeUserOp (its execution hook measures what leaves the account).
    const { op } = await sessionOp(f, callData, {
      sessionId,
      timeHint: hasSpendLimitHook ? time : undefined,
      raw: !hasSpendLimitHook,
      overrides: { paymasterAndData },
    });
    const receipt = await sendOp(ethers, f.entryPoint, op);
    if (scenario !== undefined) record(scenario, receipt, opSucceeded(f.entryPoint, receipt));
  }

  /** The GAS.md session: 1 target with 2 selectors (+ the payee), native and one ERC-20 budget, 24 h TTL. */
  function benchSession(fixture: SessionFixture, overrides: Partial<SessionDescription> = {}): SessionDescription {
    const transfer = fixture.usdc.interface.getFunction("transfer").selector;
    const approve = fixture.usdc.interface.getFunction("approve").selector;
    return typicalSession(fixture, {
      validAfter: T0,
      validUntil: T0 + 30n * DAY,
      scope: [
        { target: fixture.usdc.target as string, selector: transfer, function: "transfer(address,uint256)" },
        { target: fixture.usdc.target as string, selector: approve, function: "approve(address,uint256)" },
        { target: fixture.recipient, selector: "0x00000000" },
      ],
      ...overrides,
    });
  }

  const nativeCall = executeCall(f, f.recipient, PAY);
  const tokenCall = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, TOKEN_AMOUNT));
  const batch3 = f.account.interface.encodeFunctionData("executeBatch", [
    [1, 2, 3].map(() => ({
      target: f.usdc.target as string,
      value: 0n,
      data: usdcTransfer(f, f.recipient, TOKEN_AMOUNT),
    })),
  ]);

  // Steady state: the recipient already holds ETH and USDC, the account's nonce is not zero.
  await networkHelpers.time.setNextBlockTimestamp(clock);
  await (await f.owner.sendTransaction({ to: f.recipient, value: PAY })).wait();
  await runOwner(undefined, tokenCall);

  // ── owner figures ──
  await runOwner("owner.native", nativeCall);
  await runOwner("owner.erc20", tokenCall);

  // ── session.grant.tx: the owner installs the typical session (session 1, with its spend-limit hook) ──
  {
    await atNextTime();
    const [config, selectors, installData, hooks] = sessionInstallArgs(benchSession(f), f.addresses);
    const install = f.account.interface.encodeFunctionData("installValidation", [
      config,
      selectors,
      installData,
      hooks,
    ]);
    const receipt = await sendOp(ethers, f.entryPoint, await ownerOp(install));
    record("session.grant.tx", receipt, opSucceeded(f.entryPoint, receipt));
  }

  // ── session figures (session 1): warm up once in the period, then measure ──
  await runSession(undefined, nativeCall, 1);
  await runSession("session.native", nativeCall, 1);
  await runSession("session.erc20", tokenCall, 1);
  await runSession("session.erc20.batch3", batch3, 1);

  // ── runtime: the agent's EOA calls the account directly ──
  {
    await atNextTime();
    const authorization = encodeValidationSignature(
      { validation: { module: f.sessionModule.target as string, entityId: 1 }, isGlobal: false },
      "0x",
    );
    const tx = await f.account.connect(f.agent).executeWithRuntimeValidation(nativeCall, authorization);
    record("session.runtime.native", await tx.wait());
  }

  // ── first spend of a new period ──
  clock = T0 + DAY;
  await runSession("session.native.newPeriod", nativeCall, 1);

  // ── diagnostics: the same session without a spend-limit hook (session 2) ──
  {
    await atNextTime();
    const noHook = benchSession(f, { sessionId: 2, nonce: 2n });
    const [config, selectors, installData] = sessionInstallArgs(noHook, f.addresses);
    const install = f.account.interface.encodeFunctionData("installValidation", [config, selectors, installData, []]);
    await sendOp(ethers, f.entryPoint, await ownerOp(install));
    await runSession(undefined, nativeCall, 2, false);
    await runSession("session.native.noHook", nativeCall, 2, false);
    await runSession("session.erc20.noHook", tokenCall, 2, false);
  }

  // ── session.erc20.pinnedRecipient: the same transfer under a session whose transfer's `to` is pinned (session 4) ──
  {
    await atNextTime();
    const transfer = f.usdc.interface.getFunction("transfer").selector;
    const pinned = benchSession(f, {
      sessionId: 4,
      nonce: 4n,
      scope: [
        {
          target: f.usdc.target as string,
          selector: transfer,
          function: "transfer(address,uint256)",
          rules: [{ argument: 0, op: "eq", value: BigInt(f.recipient) }],
        },
      ],
    });
    const install = f.account.interface.encodeFunctionData(
      "installValidation",
      sessionInstallArgs(pinned, f.addresses),
    );
    await sendOp(ethers, f.entryPoint, await ownerOp(install));
    await runSession(undefined, tokenCall, 4);
    await runSession("session.erc20.pinnedRecipient", tokenCall, 4);
  }

  // ── session.sponsored: the native transfer, its gas paid by an allowed paymaster (session 5) ──
  {
    await atNextTime();
    const paymaster = await ethers.deployContract("AcceptAllPaymaster", [f.entryPoint.target as string]);
    await (await paymaster.deposit({ value: parseEther("1") })).wait();
    const sponsored = benchSession(f, {
      sessionId: 5,
      nonce: 5n,
      budgets: [
        ...benchSession(f).budgets,
        { asset: SPONSORED_GAS_ASSET, limit: parseEther("1"), period: DAY, perCallCap: 0n },
        { asset: SPONSORED_FEE_ASSET, limit: 100_000_000_000n, period: 0n, perCallCap: 0n },
      ],
      paymasters: [paymaster.target as string],
    });
    await atNextTime();
    const install = f.account.interface.encodeFunctionData(
      "installValidation",
      sessionInstallArgs(sponsored, f.addresses),
    );
    await sendOp(ethers, f.entryPoint, await ownerOp(install));
    const paymasterAndData = concat([
      paymaster.target as string,
      zeroPadValue(toBeHex(100_000n), 16),
      zeroPadValue(toBeHex(50_000n), 16),
    ]);
    await runSession(undefined, nativeCall, 5, true, paymasterAndData);
    await runSession("session.sponsored", nativeCall, 5, true, paymasterAndData);
  }

  // ── session.grant.signed: session 3 enabled by the owner's signature inside the agent's first op ──
  {
    const time = await atNextTime();
    const session = benchSession(f, { sessionId: 3, nonce: 3n, validAfter: T0 });
    const call = encodeDeferredGrant(session, await signGrant(f, session));
    const { op } = await sessionOp(f, nativeCall, {
      sessionId: 3,
      timeHint: time,
      deferredInstall: { installer: f.sessionModule.target as string, data: call },
      overrides: { verificationGasLimit: 1_000_000n },
    });
    const receipt = await sendOp(ethers, f.entryPoint, op);
    record("session.grant.signed", receipt, opSucceeded(f.entryPoint, receipt));
  }

  // ── revocations by the owner: as GAS.md's user ops, and as the owner's own (Ledger) transaction, which is how
  // the tasks send them: executeWithRuntimeValidation through the owner validation ──
  const revoke = (sessionId: number) =>
    executeCall(
      f,
      f.sessionModule.target as string,
      0n,
      f.sessionModule.interface.encodeFunctionData("revoke", [sessionId]),
    );
  const revokeAll = executeCall(
    f,
    f.sessionModule.target as string,
    0n,
    f.sessionModule.interface.encodeFunctionData("revokeAll"),
  );
  async function runOwnerTx(scenario: Scenario, callData: string): Promise<void> {
    await atNextTime();
    const tx = await f.account.connect(f.owner).executeWithRuntimeValidation(callData, ownerAuthorization(f));
    record(scenario, await tx.wait());
  }
  await runOwner("session.revoke", revoke(1));
  await runOwnerTx("session.revoke.ownerTx", revoke(2));
  await runOwner("session.revokeAll", revokeAll);
  await runOwnerTx("session.revokeAll.ownerTx", revokeAll);

  return [...SCENARIOS, ...DIAGNOSTICS].map((scenario) => {
    const gasUsed = results.get(scenario);
    if (gasUsed === undefined) throw new Error(`scenario ${scenario} has no figure`);
    const baseline = OWNER_BASELINE[scenario];
    const overheadVsOwner = baseline === undefined ? null : Number(gasUsed - (results.get(baseline) ?? 0n));
    return { scenario, gasUsed: Number(gasUsed), overheadVsOwner };
  });
}

/** The report as a markdown table. */
export function formatGasTable(rows: GasReportRow[]): string {
  const lines = ["| scenario | gasUsed | overheadVsOwner |", "| --- | ---: | ---: |"];
  for (const row of rows) {
    const diagnostic = (DIAGNOSTICS as readonly string[]).includes(row.scenario) ? " (diagnostic)" : "";
    const overhead = row.overheadVsOwner === null ? "" : row.overheadVsOwner.toLocaleString("en-US");
    lines.push(`| ${row.scenario}${diagnostic} | ${row.gasUsed.toLocaleString("en-US")} | ${overhead} |`);
  }
  return lines.join("\n");
}
