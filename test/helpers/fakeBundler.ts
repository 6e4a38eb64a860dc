/**
 * A scripted ERC-4337 bundler for tests (issue 17): JSON-RPC over HTTP in the test's process, including ops on the
 * in-process chain with `handleOps` one at a time, and told to misbehave: lose ops, forget receipts, answer 503,
 * rate-limit, hold ops, or never include. It answers as Alto does where that matters to the client: a sent op is
 * validated (simulated) before it is called "Already known"; `eth_getUserOperationByHash` shows included ops only; a
 * second op of the same sender and nonce is refused "AA25 … already present in mempool" while the first is pending.
 * Tests of the real Alto bundler under faults are in test/load.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { concat, toBeHex, zeroPadValue } from "ethers";
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";

import type { RpcUserOperation } from "../../client/bundler.js";
import { packUserOp, type UserOperation } from "../../client/userOp.js";
import type { SessionFixture } from "./sessions.js";

/** What the scripted bundler does. */
export interface Script {
  /** Answer HTTP 503 to this many requests first (a bundler restarting or overloaded). */
  unavailable?: number;
  /** Answer JSON-RPC -32005 (rate limited) to this many requests first. */
  rateLimited?: number;
  /** Accept this many sends without keeping them (lost on a restart); later sends are kept and included. */
  lose?: number;
  /** Include kept ops on chain but answer no receipt for them (a bundler that forgot). */
  forgetReceipts?: boolean;
  /** Keep ops but never include them. */
  neverInclude?: boolean;
  /** Refuse this many sends as over the bundler's per-sender limit (Alto's AA25 "Maximum number of parallel …"). */
  full?: number;
  /** Keep each op pending this long before including it (default: include at once). */
  includeAfterMs?: number;
  /**
   * Keep each op pending until it is sent again; then include it, call this (e.g. the owner revokes the session),
   * and only then validate the resent op, as a bundler does that learns of the inclusion between two sends.
   */
  includeOnResend?: () => Promise<void>;
  /** Answer receipts the client cannot read (a bundler with a bug, or a proxy that mangles them). */
  badReceipt?: boolean;
  /** Answer a receipt of success for every op it keeps, included or not (a bundler that lies). */
  lyingReceipts?: boolean;
  /** Called when an op it holds pending is sent again, before validating it (e.g. the owner revokes meanwhile). */
  beforeResend?: () => Promise<void>;
  /** Refuse an op it holds pending, when sent again, with this message, and keep holding it (e.g. a fee floor). */
  refuseResends?: string;
  /** The verification gas limit it estimates (default 400,000; an op installing its grant needs more). */
  verificationGas?: bigint;
}

export interface FakeBundler {
  url: string;
  /** Every op sent, as received. */
  sends: RpcUserOperation[];
  /** Every request's method, in order. */
  methods: string[];
  /** Every inclusion: the op's hash and when its transaction was mined (Date.now()). */
  inclusions: { userOpHash: string; at: number }[];
  /** Includes every op kept pending now (`neverInclude`, `includeAfterMs`, `includeOnResend`). */
  includePending(): Promise<void>;
  close(): Promise<void>;
}

/** The op a bundler received, unpacked (the inverse of the client's toRpcUserOp). */
export function fromRpcUserOp(op: RpcUserOperation): UserOperation {
  const paymaster =
    op.paymaster === undefined
      ? "0x"
      : concat([
          op.paymaster,
          zeroPadValue(toBeHex(BigInt(op.paymasterVerificationGasLimit!)), 16),
          zeroPadValue(toBeHex(BigInt(op.paymasterPostOpGasLimit!)), 16),
          op.paymasterData ?? "0x",
        ]);
  return {
    sender: op.sender,
    nonce: BigInt(op.nonce),
    initCode: op.factory === undefined ? "0x" : concat([op.factory, op.factoryData ?? "0x"]),
    callData: op.callData,
    callGasLimit: BigInt(op.callGasLimit),
    verificationGasLimit: BigInt(op.verificationGasLimit),
    preVerificationGas: BigInt(op.preVerificationGas),
    maxFeePerGas: BigInt(op.maxFeePerGas),
    maxPriorityFeePerGas: BigInt(op.maxPriorityFeePerGas),
    paymasterAndData: paymaster,
    signature: op.signature,
  };
}

/** Starts the scripted bundler for `f`'s EntryPoint. */
export async function fakeBundler(ethers: HardhatEthers, f: SessionFixture, script: Script): Promise<FakeBundler> {
  const [, , , executor] = await ethers.getSigners();
  const kept = new Map<string, { op: UserOperation; transactionHash?: string }>();
  const sends: RpcUserOperation[] = [];
  const methods: string[] = [];
  const inclusions: { userOpHash: string; at: number }[] = [];
  let unavailable = script.unavailable ?? 0;
  let rateLimited = script.rateLimited ?? 0;
  let lose = script.lose ?? 0;
  let full = script.full ?? 0;
  let beforeResend = script.beforeResend;
  const executorAddress = await executor!.getAddress();

  // One send or inclusion at a time, as a bundler's mempool takes them: validate, keep, include.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(task: () => Promise<T>): Promise<T> => {
    const next = queue.then(task);
    queue = next.catch(() => undefined);
    return next;
  };
  const include = async (hash: string) => {
    const entry = kept.get(hash);
    if (entry === undefined || entry.transactionHash !== undefined) return;
    // An op that no longer validates is dropped, not included (its bundle would revert).
    if (!(await validates(entry.op))) {
      kept.delete(hash);
      return;
    }
    const tx = await f.entryPoint.connect(executor!).handleOps([packUserOp(entry.op)], executorAddress);
    entry.transactionHash = (await tx.wait())!.hash;
    inclusions.push({ userOpHash: hash, at: Date.now() });
  };
  const pendingHashes = () => [...kept].filter(([, entry]) => entry.transactionHash === undefined).map(([h]) => h);
  const includePending = () =>
    serially(async () => {
      for (const hash of pendingHashes()) await include(hash);
    });

  const validates = async (op: UserOperation) => {
    try {
      await f.entryPoint.connect(executor!).handleOps.staticCall([packUserOp(op)], executorAddress);
      return true;
    } catch {
      return false;
    }
  };

  const answer = (method: string, params: unknown[]): Promise<unknown> =>
    method === "eth_sendUserOperation" ? serially(() => answerNow(method, params)) : answerNow(method, params);
  const answerNow = async (method: string, params: unknown[]): Promise<unknown> => {
    switch (method) {
      case "eth_chainId":
        return toBeHex((await ethers.provider.getNetwork()).chainId);
      case "eth_estimateUserOperationGas":
        return {
          verificationGasLimit: toBeHex(script.verificationGas ?? 400_000n),
          callGasLimit: "0x30d40",
          preVerificationGas: "0xea60",
        };
      case "eth_sendUserOperation": {
        const rpc = params[0] as RpcUserOperation;
        sends.push(rpc);
        const op = fromRpcUserOp(rpc);
        const hash = await f.entryPoint.getUserOpHash(packUserOp({ ...op, signature: "0x" }));
        const known = kept.get(hash);
        const heldPending = known !== undefined && known.transactionHash === undefined;
        if (heldPending && script.includeOnResend !== undefined) {
          await include(hash);
          await script.includeOnResend();
        }
        if (heldPending && beforeResend !== undefined) {
          const once = beforeResend;
          beforeResend = undefined;
          await once();
        }
        if (heldPending && script.refuseResends !== undefined) throw { code: -32500, message: script.refuseResends };
        if (full > 0) {
          full -= 1;
          throw {
            code: -32602,
            message:
              "AA25 invalid account nonce: Maximum number of parallel user operations for that is allowed for this sender reached",
          };
        }
        if (lose > 0) {
          lose -= 1;
          return hash;
        }
        // Validate as a bundler would, before anything else: simulate handleOps; a refused op is answered with its
        // AA reason (an op already included is refused here, AA25, as Alto does).
        try {
          await f.entryPoint.connect(executor!).handleOps.staticCall([packUserOp(op)], executorAddress);
        } catch (error) {
          const record = error as { data?: string; error?: { data?: string }; message?: string };
          const data = record.data ?? record.error?.data;
          let reason: string | undefined;
          try {
            reason = data === undefined ? undefined : String(f.entryPoint.interface.parseError(data)?.args[1]);
          } catch {
            reason = undefined;
          }
          throw {
            code: -32500,
            message: `UserOperation reverted with reason: ${reason ?? `AA23 reverted (${String(record.message).slice(0, 200)})`}`,
          };
        }
        if (known !== undefined) {
          // The hash leaves the signature out: an op with the same hash whose held copy no longer validates (e.g.
          // the copy carried a grant someone else submitted since) takes its place, as Alto drops the invalid one.
          if (known.transactionHash === undefined && !(await validates(known.op))) {
            known.op = op;
            return hash;
          }
          throw { code: -32602, message: "Already known" };
        }
        let rival = pendingHashes().find((other) => {
          const pending = kept.get(other)!.op;
          return pending.sender.toLowerCase() === op.sender.toLowerCase() && pending.nonce === op.nonce;
        });
        // A held op that no longer passes validation is dropped, as Alto cleans its mempool.
        if (rival !== undefined && !(await validates(kept.get(rival)!.op))) {
          kept.delete(rival);
          rival = undefined;
        }
        if (rival !== undefined) {
          throw {
            code: -32602,
            message:
              "AA25 invalid account nonce: User operation already present in mempool, bump the gas price by minimum 10%",
          };
        }
        kept.set(hash, { op });
        if (script.neverInclude === true || script.includeOnResend !== undefined) return hash;
        if (script.includeAfterMs !== undefined) {
          setTimeout(() => void serially(() => include(hash)), script.includeAfterMs);
          return hash;
        }
        await include(hash);
        return hash;
      }
      case "eth_getUserOperationByHash":
        // Alto's answer: included ops only (a pending op is null, as an unknown one).
        return kept.get(params[0] as string)?.transactionHash === undefined ? null : { userOperation: {} };
      case "eth_getUserOperationReceipt": {
        const entry = kept.get(params[0] as string);
        if (entry !== undefined && script.lyingReceipts === true) {
          return { success: true, actualGasCost: "0x1", actualGasUsed: "0x1", receipt: { transactionHash: "0x" } };
        }
        if (entry?.transactionHash === undefined || script.forgetReceipts === true) return null;
        if (script.badReceipt === true) return { success: true, actualGasCost: "lots", actualGasUsed: "some" };
        const events = await f.entryPoint.queryFilter(f.entryPoint.filters.UserOperationEvent(params[0] as string));
        const event = events[0]!;
        return {
          success: event.args.success,
          actualGasCost: toBeHex(event.args.actualGasCost),
          actualGasUsed: toBeHex(event.args.actualGasUsed),
          receipt: { transactionHash: entry.transactionHash },
        };
      }
      default:
        throw { code: -32601, message: `method ${method} not supported` };
    }
  };

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const payload = JSON.parse(body) as { id: number; method: string; params: unknown[] };
      methods.push(payload.method);
      const reply = (status: number, content: unknown) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(content));
      };
      if (unavailable > 0) {
        unavailable -= 1;
        reply(503, { error: "restarting" });
        return;
      }
      if (rateLimited > 0) {
        rateLimited -= 1;
        reply(200, { jsonrpc: "2.0", id: payload.id, error: { code: -32005, message: "rate limit exceeded" } });
        return;
      }
      answer(payload.method, payload.params).then(
        (result) => reply(200, { jsonrpc: "2.0", id: payload.id, result }),
        (error: { code: number; message: string }) =>
          reply(200, { jsonrpc: "2.0", id: payload.id, error: { code: error.code, message: error.message } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sends,
    methods,
    inclusions,
    includePending,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
