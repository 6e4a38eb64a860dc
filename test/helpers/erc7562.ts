/**
 * ERC-7562 validation-rule checker for tests.
 *
 * It replays an op's account validation (`validateUserOp` called by the EntryPoint, on the state the op will see)
 * under Hardhat's opcode tracer and reports every rule a bundler would drop the op for:
 * - OP-011 banned opcodes (TIMESTAMP, NUMBER, BLOCKHASH, COINBASE, GASPRICE, BASEFEE, ...), and OP-012 GAS
 *   anywhere but right before a CALL-family opcode;
 * - STO-0xx storage access outside the sender's own storage that is not associated with the sender
 *   (slot == sender, or slot == keccak256(sender ‖ x) + n with n <= 128);
 * - OP-041 calls and EXTCODE* accesses to addresses without code (precompiles excepted);
 * - OP-052 calls into the EntryPoint (validation must not call it; the prefund is not exercised here).
 */
import { getAddress, keccak256, toBeHex, zeroPadValue } from "ethers";

/** One rule broken during validation. */
export interface Erc7562Violation {
  rule: string;
  opcode: string;
  /** The contract whose code ran the opcode. */
  code: string;
  detail: string;
}

interface StructLog {
  op: string;
  depth: number;
  stack?: string[];
  memory?: string[];
}

interface Frame {
  storage: string;
  code: string;
}

/** Opcodes ERC-7562 (OP-011) forbids during validation. */
const BANNED = new Set([
  "GASPRICE",
  "GASLIMIT",
  "DIFFICULTY",
  "PREVRANDAO",
  "TIMESTAMP",
  "BASEFEE",
  "BLOCKHASH",
  "NUMBER",
  "SELFBALANCE",
  "BALANCE",
  "ORIGIN",
  "COINBASE",
  "BLOBHASH",
  "BLOBBASEFEE",
  "CREATE",
  "CREATE2",
  "SELFDESTRUCT",
  "INVALID",
]);
const CALLS = new Set(["CALL", "CALLCODE", "DELEGATECALL", "STATICCALL"]);
const EXTCODE = new Set(["EXTCODESIZE", "EXTCODEHASH", "EXTCODECOPY"]);
const STORAGE = new Set(["SLOAD", "SSTORE", "TLOAD", "TSTORE"]);
/** Precompiles (0x01 to 0x11 on Prague) have no code but may be called. */
const LAST_PRECOMPILE = 0x11n;
/** STO-021: a slot keccak256(A ‖ x) + n is A's for n up to 128. */
const ASSOCIATED_OFFSET = 128n;

function stackItem(log: StructLog, fromTop: number): bigint {
  const stack = log.stack ?? [];
  const item = stack[stack.length - 1 - fromTop];
  if (item === undefined) throw new Error(`stack underflow reading ${log.op}`);
  return BigInt(item);
}

function addressOf(word: bigint): string {
  return getAddress(toBeHex(word & ((1n << 160n) - 1n), 20));
}

function memorySlice(log: StructLog, offset: bigint, size: bigint): string {
  const memory = (log.memory ?? []).map((word) => word.replace(/^0x/, "")).join("");
  const start = Number(offset) * 2;
  const end = start + Number(size) * 2;
  return "0x" + memory.slice(start, end).padEnd(end - start, "0");
}

/**
 * Traces `validateUserOp(userOp, userOpHash, 0)` on `sender` as the EntryPoint would call it and returns the
 * ERC-7562 violations found (empty when the validation is clean). `reverted` tells whether the validation reverted.
 */
export async function checkAccountValidation(
  provider: { send(method: string, params: unknown[]): Promise<unknown>; getCode(address: string): Promise<string> },
  entryPoint: string,
  sender: string,
  validateUserOpCalldata: string,
): Promise<{ violations: Erc7562Violation[]; reverted: boolean }> {
  const trace = (await provider.send("debug_traceCall", [
    { from: entryPoint, to: sender, data: validateUserOpCalldata, gas: "0x1000000" },
    "latest",
    { enableMemory: true, disableStorage: true },
  ])) as { failed: boolean; structLogs: StructLog[] };

  const senderAddress = getAddress(sender);
  const senderWord = zeroPadValue(senderAddress, 32).toLowerCase();
  const entryPointAddress = getAddress(entryPoint);
  const violations: Erc7562Violation[] = [];
  const associatedBases: bigint[] = [];
  const calledTargets = new Map<string, string>();
  const frames: Frame[] = [{ storage: senderAddress, code: senderAddress }];
  let pendingFrame: Frame | undefined;
  const logs = trace.structLogs;

  for (let i = 0; i < logs.length; i++) {
    const log = logs[i]!;
    // Frame bookkeeping: depth 1 is the account's own frame.
    while (frames.length > log.depth) frames.pop();
    if (pendingFrame !== undefined && frames.length < log.depth) frames.push(pendingFrame);
    pendingFrame = undefined;
    const frame = frames[frames.length - 1]!;

    if (BANNED.has(log.op)) {
      violations.push({ rule: "OP-011", opcode: log.op, code: frame.code, detail: "banned opcode in validation" });
    } else if (log.op === "GAS") {
      const next = logs[i + 1];
      if (next === undefined || next.depth !== log.depth || !CALLS.has(next.op)) {
        violations.push({ rule: "OP-012", opcode: log.op, code: frame.code, detail: "GAS not followed by a call" });
      }
    } else if (log.op === "KECCAK256" || log.op === "SHA3") {
      const preimage = memorySlice(log, stackItem(log, 0), stackItem(log, 1));
      if (preimage.length >= 66 && preimage.slice(0, 66).toLowerCase() === senderWord) {
        associatedBases.push(BigInt(keccak256(preimage)));
      }
    } else if (STORAGE.has(log.op)) {
      const slot = stackItem(log, 0);
      const isSenderStorage = frame.storage === senderAddress;
      const isAssociated =
        slot === BigInt(senderWord) || associatedBases.some((base) => slot >= base && slot - base <= ASSOCIATED_OFFSET);
      if (!isSenderStorage && !isAssociated) {
        violations.push({
          rule: "STO-021",
          opcode: log.op,
          code: frame.code,
          detail: `slot ${toBeHex(slot, 32)} of ${frame.storage} is not associated with the sender`,
        });
      }
    } else if (CALLS.has(log.op) || EXTCODE.has(log.op)) {
      const target = addressOf(stackItem(log, CALLS.has(log.op) ? 1 : 0));
      if (BigInt(target) > LAST_PRECOMPILE) calledTargets.set(target, log.op);
      if (CALLS.has(log.op)) {
        if (target === entryPointAddress) {
          violations.push({ rule: "OP-052", opcode: log.op, code: frame.code, detail: "call into the EntryPoint" });
        }
        const keepsStorage = log.op === "DELEGATECALL" || log.op === "CALLCODE";
        pendingFrame = { storage: keepsStorage ? frame.storage : target, code: target };
      }
    }
  }

  for (const [target, op] of calledTargets) {
    if ((await provider.getCode(target)) === "0x") {
      violations.push({ rule: "OP-041", opcode: op, code: target, detail: "access to an address without code" });
    }
  }
  return { violations, reverted: trace.failed };
}
