/**
 * Where a transaction's gas goes, measured from Hardhat's opcode trace (`debug_traceTransaction`, default struct
 * logger), not estimated: per call frame, the frame's own execution split into cold / warm SLOADs, SSTOREs, the
 * cost of making calls (account access, memory, value), KECCAK256, LOGs and everything else (stack, memory,
 * arithmetic, copying), plus the transaction's intrinsic cost. `npm run bench:gas` prints it for the session and
 * owner transfers when LEASH_GAS_PROFILE=1.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";

/** Gas of one call frame, its children excluded. */
export interface FrameProfile {
  /** The call path, e.g. `EntryPoint > account > sessionModule`. */
  path: string;
  /** Gas the frame used including its children. */
  inclusive: number;
  coldSload: number;
  warmSload: number;
  sstoreGas: number;
  /** What the frame's CALL / STATICCALL / DELEGATECALL opcodes cost beyond the gas their callee used. */
  callGas: number;
  keccakGas: number;
  logGas: number;
  otherGas: number;
}

/** A transaction's gas: intrinsic (21,000 + calldata) plus each frame's own execution, less refunds. */
export interface GasProfile {
  gasUsed: number;
  intrinsic: number;
  refund: number;
  frames: FrameProfile[];
}

interface StructLog {
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
}

const COLD_SLOAD = 2_100;
const WARM_SLOAD = 100;
const CALLS = new Set(["CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"]);

interface OpenFrame {
  profile: FrameProfile;
  startGas: number;
  /** Gas left and cost of the frame's last step seen so far. */
  lastGas: number;
  lastCost: number;
  /** Gas before this frame's pending call, and the callee's profile if it runs code. */
  pendingCallGas?: number;
  pendingChild?: FrameProfile;
}

/**
 * Profiles a mined transaction. `labels` names addresses (lower-case hex) in the call paths; unnamed addresses show
 * as themselves.
 */
export async function profileTransaction(
  ethers: HardhatEthers,
  hash: string,
  labels: Record<string, string>,
): Promise<GasProfile> {
  const trace = (await ethers.provider.send("debug_traceTransaction", [
    hash,
    { disableStorage: true, disableMemory: true, disableStack: false },
  ])) as { structLogs: StructLog[] };
  const receipt = await ethers.provider.getTransactionReceipt(hash);
  const tx = await ethers.provider.getTransaction(hash);
  if (receipt === null || tx === null) throw new Error(`transaction ${hash} is not mined`);
  const name = (address: string) => labels[address.toLowerCase()] ?? address.toLowerCase();

  const frames: FrameProfile[] = [];
  const newFrame = (path: string): FrameProfile => {
    const profile = {
      path,
      inclusive: 0,
      coldSload: 0,
      warmSload: 0,
      sstoreGas: 0,
      callGas: 0,
      keccakGas: 0,
      logGas: 0,
      otherGas: 0,
    };
    frames.push(profile);
    return profile;
  };

  const logs = trace.structLogs;
  const first = logs[0];
  if (first === undefined) throw new Error(`transaction ${hash} ran no code`);
  const stack: OpenFrame[] = [];
  const top = (): OpenFrame => {
    const frame = stack[stack.length - 1];
    if (frame === undefined) throw new Error(`transaction ${hash}: the trace returned from its outermost frame early`);
    return frame;
  };
  const root = newFrame(name(tx.to ?? "create"));
  stack.push({ profile: root, startGas: first.gas, lastGas: first.gas, lastCost: 0 });
  /** A frame's gas from its first step to the end of its last one. */
  const close = (done: OpenFrame): void => {
    done.profile.inclusive = done.startGas - done.lastGas + done.lastCost;
  };

  for (const step of logs) {
    // Returning from callees: close frames deeper than this step, and charge the caller's call overhead.
    while (stack.length > step.depth) {
      const done = stack.pop() as OpenFrame;
      close(done);
      const caller = top();
      if (caller.pendingCallGas !== undefined) {
        caller.profile.callGas += caller.pendingCallGas - step.gas - done.profile.inclusive;
        caller.pendingCallGas = undefined;
      }
    }
    const frame = top();
    if (stack.length < step.depth) {
      // The pending call entered code: a new frame.
      const child = frame.pendingChild ?? newFrame(`${frame.profile.path} > ?`);
      stack.push({ profile: child, startGas: step.gas, lastGas: step.gas, lastCost: 0 });
    } else if (frame.pendingCallGas !== undefined) {
      // The call returned without running code (an EOA, a precompile): its whole cost is the caller's.
      frame.profile.callGas += frame.pendingCallGas - step.gas;
      frame.pendingCallGas = undefined;
    }
    const current = top();
    current.lastGas = step.gas;
    current.lastCost = step.gasCost;
    current.pendingChild = undefined;

    if (CALLS.has(step.op)) {
      const target = step.stack?.[step.stack.length - 2] ?? "0x0";
      const address = "0x" + BigInt(target).toString(16).padStart(40, "0");
      current.pendingCallGas = step.gas;
      current.pendingChild = newFrame(`${current.profile.path} > ${name(address)}`);
      continue;
    }
    const profile = current.profile;
    if (step.op === "SLOAD") {
      if (step.gasCost >= COLD_SLOAD) profile.coldSload += 1;
      else profile.warmSload += 1;
    } else if (step.op === "SSTORE") profile.sstoreGas += step.gasCost;
    else if (step.op === "KECCAK256") profile.keccakGas += step.gasCost;
    else if (step.op.startsWith("LOG")) profile.logGas += step.gasCost;
    else profile.otherGas += step.gasCost;
  }
  for (let done = stack.pop(); done !== undefined; done = stack.pop()) close(done);

  const gasUsed = Number(receipt.gasUsed);
  const intrinsic = Number(tx.gasLimit) - first.gas;
  const refund = intrinsic + root.inclusive - gasUsed;
  // Frames the trace entered through a call to code-less addresses never opened; keep only frames that ran.
  return { gasUsed, intrinsic, refund, frames: frames.filter((frame) => frame.inclusive > 0) };
}

/** The SLOADs' gas of a frame, cold and warm. */
export function sloadGas(frame: FrameProfile): number {
  return frame.coldSload * COLD_SLOAD + frame.warmSload * WARM_SLOAD;
}

/** A frame's own gas: its children excluded, every category summed. */
export function ownGas(frame: FrameProfile): number {
  return sloadGas(frame) + frame.sstoreGas + frame.callGas + frame.keccakGas + frame.logGas + frame.otherGas;
}

/** A profile as a markdown table. */
export function formatProfile(title: string, profile: GasProfile): string {
  const n = (value: number) => value.toLocaleString("en-US");
  const lines = [
    `${title}: gasUsed ${n(profile.gasUsed)} = intrinsic ${n(profile.intrinsic)} + execution ${n(
      profile.gasUsed - profile.intrinsic + profile.refund,
    )} - refund ${n(profile.refund)}`,
    "",
    "| frame | inclusive | own | SLOAD cold/warm (gas) | SSTORE | calls | KECCAK | LOG | other |",
    "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const frame of profile.frames) {
    lines.push(
      `| ${frame.path} | ${n(frame.inclusive)} | ${n(ownGas(frame))} | ${frame.coldSload}/${frame.warmSload} (${n(
        sloadGas(frame),
      )}) | ${n(frame.sstoreGas)} | ${n(frame.callGas)} | ${n(frame.keccakGas)} | ${n(frame.logGas)} | ${n(
        frame.otherGas,
      )} |`,
    );
  }
  return lines.join("\n");
}
