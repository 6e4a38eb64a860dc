/**
 * Sessions across ERC-6900 accounts, measured the way ../shared/GAS.md measures Leash (issue #14, item 5): gasUsed of
 * one `EntryPoint.handleOps` transaction carrying one op, EntryPoint v0.8, Hardhat's in-process network, steady
 * state (one warm-up op of each kind before the measured one), fixed keys, fixed recipient, fixed block times.
 *
 * On each account of test/compat/accounts.ts (Leash's own, the ERC-6900 reference v0.8.0-rc.6, Alchemy MAv2 14afcd8
 * semi-modular and with a SingleSigner owner): the owner's own op, then a Leash session (typicalSession: 1 ETH and
 * 100 USDC a day). On the reference and on MAv2 semi-modular, also that implementation's own session setup built
 * from its permission modules (deployed from the compiled fixtures, test data only), with equivalent limits.
 *
 * Every figure comes from an op whose UserOperationEvent says success; anything else throws with the revert named.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import {
  AbiCoder,
  concat,
  getBytes,
  hashMessage,
  parseEther,
  parseUnits,
  type ContractTransactionReceipt,
} from "ethers";

import { withExecuteUserOp } from "../../client/agent.js";
import {
  encodeExecutionHook,
  encodeHookInstall,
  encodeModuleEntity,
  encodeValidationConfig,
  encodeValidationHook,
  encodeValidationSignature,
  type ModuleFunction,
} from "../../client/encoding.js";
import { SESSION_SELECTORS, sessionInstallArgs } from "../../client/session.js";
import { buildUserOp, packUserOp, type UserOperation } from "../../client/userOp.js";
import {
  artifact,
  compatFixture,
  deploy,
  describeRevert,
  MAV2,
  REFERENCE,
  type AccountKind,
  type CompatFixture,
} from "../../test/compat/accounts.js";
import { DAY, executeCall, sessionOp, typicalSession, usdcTransfer } from "../../test/helpers/sessions.js";
import { opRevertData, opSucceeded, sendOp, TEST_GAS } from "../../test/helpers/userOps.js";

/** First measured block time of the first account (2027-01-01T00:00:00Z); each account starts 10 days later. */
const T0 = 1_798_761_600n;
const PAY = parseEther("0.01");
const TOKEN_AMOUNT = parseUnits("1", 6);
const NATIVE_LIMIT = parseEther("1");
const USDC_LIMIT = parseUnits("100", 6);
/** Entity id of the agent's validation in the third-party setups (the owner's is 0). */
const AGENT_ENTITY_ID = 1;
/** MAv2's SingleSigner signature type byte for an EOA. */
const MAV2_EOA = "0x00";

export const COMPAT_KINDS: readonly AccountKind[] = ["leash", "reference", "mav2-semi", "mav2-single"];

const ACCOUNT_NAMES: Record<AccountKind, string> = {
  leash: "Leash account",
  reference: "reference account (v0.8.0-rc.6)",
  "mav2-semi": "MAv2 semi-modular (14afcd8)",
  "mav2-single": "MAv2 with SingleSigner owner (14afcd8)",
};

/** One row of the table: a setup's two transfers, and the owner's on the same account (null for owner rows). */
export interface CompatRow {
  setup: string;
  native: bigint;
  erc20: bigint;
  owner: { native: bigint; erc20: bigint } | null;
}

export interface CompatReport {
  rows: CompatRow[];
  /** What was found besides the figures (e.g. whether a setup's allowlist stopped a payment out of scope). */
  notes: string[];
}

function describeError(error: unknown): string {
  const e = error as { data?: unknown; info?: { error?: { data?: unknown } }; message?: unknown };
  let data = e.data ?? e.info?.error?.data;
  if (typeof data === "object" && data !== null) data = (data as { data?: unknown }).data;
  if (typeof data === "string" && data.startsWith("0x")) return describeRevert(data);
  return typeof e.message === "string" ? e.message : String(error);
}

// ───────────────────────────────────────── the benchmark ─────────────────────────────────────────

/** A session validation of a third-party implementation: how its agent signs. */
interface ForeignSession {
  validation: ModuleFunction;
  /** The validation's own segment of the op's signature, for the EntryPoint's user op hash. */
  sign(hash: string): string;
}

/** Runs every setup on `ethers`' network (one network, one run) and returns the rows and notes. */
export async function runCompatBenchmark(
  ethers: HardhatEthers,
  networkHelpers: NetworkHelpers,
  kinds: readonly AccountKind[] = COMPAT_KINDS,
): Promise<CompatReport> {
  const rows: CompatRow[] = [];
  const notes: string[] = [];
  const coder = AbiCoder.defaultAbiCoder();
  let clock = 0n;

  /** Mines the next transaction at a fixed, increasing time; returns that time. */
  async function atNextTime(): Promise<bigint> {
    clock += 12n;
    await networkHelpers.time.setNextBlockTimestamp(clock);
    return clock;
  }

  /** Sends one op in one handleOps; returns its receipt if the op succeeded, throws with the revert named if not. */
  async function send(f: CompatFixture, op: UserOperation, label: string): Promise<ContractTransactionReceipt> {
    let receipt: ContractTransactionReceipt;
    try {
      receipt = await sendOp(ethers, f.entryPoint, op);
    } catch (error) {
      throw new Error(`${label}: handleOps reverted: ${describeError(error)}`);
    }
    if (receipt.status !== 1) throw new Error(`${label}: handleOps reverted`);
    if (!opSucceeded(f.entryPoint, receipt)) {
      throw new Error(`${label}: the op failed: ${describeRevert(opRevertData(f.entryPoint, receipt) ?? "0x")}`);
    }
    return receipt;
  }

  async function ownerOp(f: CompatFixture, callData: string, label: string): Promise<bigint> {
    await atNextTime();
    const op = await buildUserOp({
      entryPoint: f.entryPoint,
      sender: f.accountAddress,
      callData,
      nonceKey: 0n,
      gas: TEST_GAS,
    });
    const hash = await f.entryPoint.getUserOpHash(packUserOp(op));
    const signature = encodeValidationSignature(
      { validation: f.scheme.validation, isGlobal: true },
      f.scheme.signUserOpHash(hash),
    );
    return (await send(f, { ...op, signature }, label)).gasUsed;
  }

  async function leashSessionOp(f: CompatFixture, callData: string, label: string): Promise<bigint> {
    const time = await atNextTime();
    const { op } = await sessionOp(f, callData, { timeHint: time });
    return (await send(f, op, label)).gasUsed;
  }

  /** The agent's op on a third-party session validation (behind executeUserOp: the validation has exec hooks). */
  async function foreignOp(f: CompatFixture, session: ForeignSession, callData: string): Promise<UserOperation> {
    const op = await buildUserOp({
      entryPoint: f.entryPoint,
      sender: f.accountAddress,
      callData: withExecuteUserOp(callData),
      // Same convention as Leash's sessions: the validation's ModuleEntity as the nonce key.
      nonceKey: BigInt(encodeModuleEntity(session.validation)),
      gas: TEST_GAS,
    });
    const hash = await f.entryPoint.getUserOpHash(packUserOp(op));
    const signature = encodeValidationSignature(
      { validation: session.validation, isGlobal: false },
      session.sign(hash),
    );
    return { ...op, signature };
  }

  async function foreignSessionOp(f: CompatFixture, session: ForeignSession, callData: string, label: string) {
    await atNextTime();
    return (await send(f, await foreignOp(f, session, callData), label)).gasUsed;
  }

  /** Warm-up of each transfer, then the measured one of each (GAS.md's steady state). */
  async function measurePair(
    run: (callData: string, label: string) => Promise<bigint>,
    f: CompatFixture,
    setup: string,
  ) {
    const nativeCall = executeCall(f, f.recipient, PAY);
    const tokenCall = executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, f.recipient, TOKEN_AMOUNT));
    await run(nativeCall, `${setup}: native warm-up`);
    await run(tokenCall, `${setup}: ERC-20 warm-up`);
    const native = await run(nativeCall, `${setup}: native`);
    const erc20 = await run(tokenCall, `${setup}: ERC-20`);
    return { native, erc20 };
  }

  /**
   * Installs a third-party session validation for the agent (entity AGENT_ENTITY_ID, user ops only, `execute` /
   * `executeBatch`, install data `(entityId, agent)`) with `hooks`, measures its native and ERC-20 ops against the
   * account's `owner` figures, then probes its scope.
   */
  async function installForeignSession(
    f: CompatFixture,
    setup: string,
    validation: ModuleFunction,
    hooks: string[],
    owner: { native: bigint; erc20: bigint },
    sign: (hash: string) => string,
  ): Promise<void> {
    const config = encodeValidationConfig(validation, {
      isGlobal: false,
      isSignatureValidation: false,
      isUserOpValidation: true,
    });
    const installData = coder.encode(["uint32", "address"], [AGENT_ENTITY_ID, f.agent.address]);
    const install = f.account.interface.encodeFunctionData("installValidation", [
      config,
      [...SESSION_SELECTORS],
      installData,
      hooks,
    ]);
    await ownerOp(f, install, `${setup}: install`);
    const session: ForeignSession = { validation, sign };
    const own = await measurePair((data, label) => foreignSessionOp(f, session, data, label), f, setup);
    rows.push({ setup, ...own, owner });
    await probeScope(f, session, setup);
  }

  /**
   * Probes whether a third-party session's allowlist stops a payment to an address it does not list (the stranger):
   * simulated first; sent only if the simulation passes validation (after every figure, so it changes none).
   */
  async function probeScope(f: CompatFixture, session: ForeignSession, setup: string): Promise<void> {
    await atNextTime();
    const op = await foreignOp(f, session, executeCall(f, f.stranger.address, PAY));
    const [, , , bundler] = await ethers.getSigners();
    try {
      await f.entryPoint.connect(bundler!).handleOps.staticCall([packUserOp(op)], await bundler!.getAddress());
    } catch (error) {
      notes.push(`${setup}: a payment to an address not on its allowlist is refused: ${describeError(error)}`);
      return;
    }
    const before = await ethers.provider.getBalance(f.stranger.address);
    const receipt = await sendOp(ethers, f.entryPoint, op);
    const paid = (await ethers.provider.getBalance(f.stranger.address)) - before;
    notes.push(
      opSucceeded(f.entryPoint, receipt)
        ? `${setup}: a payment of ${paid} wei to an address NOT on its allowlist succeeded (op through executeUserOp: ` +
            `the AllowlistModule's validation hook checks only callData starting with execute/executeBatch)`
        : `${setup}: a payment to an address not on its allowlist failed in execution: ` +
            describeRevert(opRevertData(f.entryPoint, receipt) ?? "0x"),
    );
  }

  for (const [index, kind] of kinds.entries()) {
    const start = T0 + BigInt(index) * 10n * DAY;
    // The fixture's deployments are mined a day before this account's fixed times.
    await networkHelpers.time.setNextBlockTimestamp(start - DAY);
    const f = await compatFixture(kind, ethers, networkHelpers, "0.8");
    clock = start;
    const name = ACCOUNT_NAMES[kind];

    // ── the owner's own ops ──
    const owner = await measurePair((data, label) => ownerOp(f, data, label), f, `${name}: owner`);
    rows.push({ setup: `${name}: owner's op`, ...owner, owner: null });

    // ── a Leash session: typicalSession (pay the recipient, USDC transfer; 1 ETH and 100 USDC a day) ──
    {
      const session = typicalSession(f, { validAfter: start, validUntil: start + 30n * DAY });
      const install = f.account.interface.encodeFunctionData(
        "installValidation",
        sessionInstallArgs(session, f.addresses),
      );
      await ownerOp(f, install, `${name}: Leash session grant`);
      const leash = await measurePair((data, label) => leashSessionOp(f, data, label), f, `${name}: Leash session`);
      rows.push({ setup: `Leash session on ${name}`, ...leash, owner });
    }

    const transfer = f.usdc.interface.getFunction("transfer").selector;
    const usdc = f.usdc.target as string;

    // ── the reference's own session: SingleSigner for the agent + Allowlist + NativeTokenLimit + ERC20TokenLimit ──
    if (kind === "reference") {
      const setup = "reference's own session modules on reference";
      // The reference SingleSigner the owner's validation already uses (entity 0); the agent gets entity 1.
      const signer = f.scheme.validation.module;
      const allowlist = (await deploy(ethers, artifact(REFERENCE, "AllowlistModule"))).target as string;
      const nativeLimit = (await deploy(ethers, artifact(REFERENCE, "NativeTokenLimitModule"))).target as string;
      const erc20Limit = (await deploy(ethers, artifact(REFERENCE, "ERC20TokenLimitModule"))).target as string;
      const validation = { module: signer, entityId: AGENT_ENTITY_ID };
      const hook = (module: string) => ({ module, entityId: AGENT_ENTITY_ID });
      const hooks = [
        // Validation hook: allowlist (recipient: any call; USDC: transfer only). onInstall(uint32, AllowlistInit[]).
        encodeHookInstall(
          encodeValidationHook(hook(allowlist)),
          coder.encode(
            ["uint32", "tuple(address target, bool hasSelectorAllowlist, bytes4[] selectors)[]"],
            [
              AGENT_ENTITY_ID,
              [
                [f.recipient, false, []],
                [usdc, true, [transfer]],
              ],
            ],
          ),
        ),
        // Validation hook: charges the op's maximum gas cost to the native limit. No install data here: the module
        // does not declare IValidationHookModule in ERC-165, so the account would refuse its onInstall.
        encodeHookInstall(encodeValidationHook(hook(nativeLimit))),
        // Execution hook (pre): charges the value sent. onInstall(uint32 startEntityId, uint256[] limits).
        encodeHookInstall(
          encodeExecutionHook(hook(nativeLimit), { pre: true, post: false }),
          coder.encode(["uint32", "uint256[]"], [AGENT_ENTITY_ID, [NATIVE_LIMIT]]),
        ),
        // Execution hook (pre): charges transfer/approve amounts of USDC. onInstall(uint32, ERC20SpendLimit[]).
        encodeHookInstall(
          encodeExecutionHook(hook(erc20Limit), { pre: true, post: false }),
          coder.encode(["uint32", "tuple(address token, uint256 limit)[]"], [AGENT_ENTITY_ID, [[usdc, USDC_LIMIT]]]),
        ),
      ];
      await installForeignSession(
        f,
        setup,
        validation,
        hooks,
        owner,
        (hash) => f.agent.signingKey.sign(hashMessage(getBytes(hash))).serialized,
      );
    }

    // ── MAv2's own session: SingleSigner for the agent + Allowlist (with its ERC-20 limit) + NativeTokenLimit +
    // TimeRange ──
    if (kind === "mav2-semi") {
      const setup = "MAv2's own session modules on MAv2 semi-modular";
      const signer = (await deploy(ethers, artifact(MAV2, "SingleSignerValidationModule"))).target as string;
      const allowlist = (await deploy(ethers, artifact(MAV2, "AllowlistModule"))).target as string;
      const nativeLimit = (await deploy(ethers, artifact(MAV2, "NativeTokenLimitModule"))).target as string;
      const timeRange = (await deploy(ethers, artifact(MAV2, "TimeRangeModule"))).target as string;
      const validation = { module: signer, entityId: AGENT_ENTITY_ID };
      const hook = (module: string) => ({ module, entityId: AGENT_ENTITY_ID });
      const hooks = [
        // Validation hook: allowlist; USDC also carries the ERC-20 spend limit (100 USDC, enforced by this module's
        // execution hook below). onInstall(uint32, AllowlistInput[]).
        encodeHookInstall(
          encodeValidationHook(hook(allowlist)),
          coder.encode(
            [
              "uint32",
              "tuple(address target, bool hasSelectorAllowlist, bool hasERC20SpendLimit, uint256 erc20SpendLimit, bytes4[] selectors)[]",
            ],
            [
              AGENT_ENTITY_ID,
              [
                [f.recipient, false, false, 0n, []],
                [usdc, true, true, USDC_LIMIT, [transfer]],
              ],
            ],
          ),
        ),
        // Validation hook: charges the op's maximum gas cost to the native limit (install data with the exec hook:
        // the module does not declare IValidationHookModule in ERC-165).
        encodeHookInstall(encodeValidationHook(hook(nativeLimit))),
        // Validation hook: the session's time range. onInstall(uint32, uint48 validUntil, uint48 validAfter).
        encodeHookInstall(
          encodeValidationHook(hook(timeRange)),
          coder.encode(["uint32", "uint48", "uint48"], [AGENT_ENTITY_ID, start + 30n * DAY, start]),
        ),
        // Execution hook (pre): charges the value sent. onInstall(uint32, uint256 limit).
        encodeHookInstall(
          encodeExecutionHook(hook(nativeLimit), { pre: true, post: false }),
          coder.encode(["uint32", "uint256"], [AGENT_ENTITY_ID, NATIVE_LIMIT]),
        ),
        // Execution hook (pre): the allowlist module's ERC-20 spend limit (transfer/approve amounts).
        encodeHookInstall(encodeExecutionHook(hook(allowlist), { pre: true, post: false })),
      ];
      await installForeignSession(f, setup, validation, hooks, owner, (hash) =>
        concat([MAV2_EOA, f.agent.signingKey.sign(hashMessage(getBytes(hash))).serialized]),
      );
    }
  }
  return { rows, notes };
}

function formatGas(value: bigint): string {
  return Number(value).toLocaleString("en-US");
}

function formatOverhead(value: bigint, baseline: bigint | undefined): string {
  if (baseline === undefined) return "—";
  const overhead = value - baseline;
  return `${overhead >= 0n ? "+" : "−"}${formatGas(overhead >= 0n ? overhead : -overhead)}`;
}

/** The rows as a markdown table: gasUsed and overhead over the same account's owner op, per transfer. */
export function formatCompatTable(rows: readonly CompatRow[]): string {
  const lines = [
    "| setup | native gasUsed | native overhead vs owner | ERC-20 gasUsed | ERC-20 overhead vs owner |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.setup} | ${formatGas(row.native)} | ${formatOverhead(row.native, row.owner?.native)} | ` +
        `${formatGas(row.erc20)} | ${formatOverhead(row.erc20, row.owner?.erc20)} |`,
    );
  }
  return lines.join("\n");
}
