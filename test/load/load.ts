/**
 * `npm run test:load` (issue 17): many agents at once through a real bundler (Alto), then the invariants checked
 * from chain state and events. N accounts, M sessions each, every session's agent sending K ops at once in parallel
 * nonce lanes: payments, batches, ops over budget, ops out of scope and, for every third session, ops after its
 * owner revoked it mid-run (and one more once the revocation is mined). Each session's USDC budget is two thirds of
 * what its payments and batches ask for, so that some of them must be refused in every configuration.
 *
 * Configuration (environment): LEASH_LOAD_ACCOUNTS (N, default 4), LEASH_LOAD_SESSIONS (M, default 2),
 * LEASH_LOAD_OPS (K, default 6); LEASH_LOAD_REPORT=<file> writes the figures as JSON. CI runs the default; the full
 * configuration (docs/RELIABILITY.md) is `npm run load:full` (10 × 3 × 10).
 */
import { writeFileSync } from "node:fs";

import { expect } from "chai";
import { Interface, parseUnits, Wallet } from "ethers";

import type { SessionCall } from "../../client/agent.js";
import { EntryPoint__factory, SessionKeyValidationModule__factory } from "../../client/contracts.js";
import { UserOpOutcomeUnknownError, UserOpRefusedError, UserOpTimeoutError } from "../../client/errors.js";
import { sessionNonceLane } from "../../client/session.js";
import {
  agentHandle,
  fundedAccount,
  grantLoadSession,
  revoke,
  startLoadChain,
  type LoadChain,
  type LoadSession,
} from "../helpers/loadChain.js";

const RUN = process.env.LEASH_LOAD_TESTS === "1";
const N = Number(process.env.LEASH_LOAD_ACCOUNTS ?? 4);
const M = Number(process.env.LEASH_LOAD_SESSIONS ?? 2);
const K = Number(process.env.LEASH_LOAD_OPS ?? 6);
const erc20 = new Interface(["function transfer(address to, uint256 amount)"]);

type Kind = "payment" | "batch" | "over_budget" | "out_of_scope" | "after_revocation";

/** What the client reported for one op. */
interface Outcome {
  session: number;
  kind: Kind;
  /** "included" (success or reverted), or the refusal's class, "timeout", "unknown" (outcome unreadable), "error". */
  result: string;
  userOpHash?: string;
  success?: boolean;
  message?: string;
  sentAt: number;
  doneAt: number;
}

/** The op `index` of a session's burst: the mix cycles payments, batches, over-budget and out-of-scope ops. */
function opOf(chain: LoadChain, session: LoadSession, index: number): { kind: Kind; calls: SessionCall[] } {
  const usdc = chain.addresses.tokens.USDC!;
  const to = session.recipients[index % 2]!;
  const transfer = (target: string, recipient: string, amount: bigint) => ({
    target,
    value: 0n,
    data: erc20.encodeFunctionData("transfer", [recipient, amount]),
  });
  switch (index % 5) {
    case 0:
    case 2:
      return { kind: "payment", calls: [transfer(usdc, to, parseUnits(index % 5 === 0 ? "4" : "3", 6))] };
    case 1:
      return {
        kind: "batch",
        calls: [
          transfer(usdc, session.recipients[0]!, parseUnits("2", 6)),
          transfer(usdc, session.recipients[1]!, parseUnits("2", 6)),
        ],
      };
    case 3:
      return { kind: "over_budget", calls: [transfer(usdc, to, session.usdcLimit + 1n)] };
    default:
      // Every other op out of scope is a token the grant does not name, else a recipient it does not pin.
      return index % 2 === 0
        ? { kind: "out_of_scope", calls: [transfer(chain.other.target as string, to, 1n)] }
        : { kind: "out_of_scope", calls: [transfer(usdc, Wallet.createRandom().address, 1n)] };
  }
}

/** What a session's payments and batches ask for in all, in USDC: opOf's 4 and 3 USDC payments and 2 + 2 batches. */
function inScopeDemand(): bigint {
  let total = 0n;
  for (let index = 0; index < K; index += 1) total += [4n, 4n, 3n, 0n, 0n][index % 5]!;
  return total;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

(RUN ? describe : describe.skip)(
  `under load: ${N} accounts × ${M} sessions × ${K} ops at once, through Alto`,
  function () {
    this.timeout(30 * 60_000);
    let chain: LoadChain;
    const sessions: LoadSession[] = [];
    const revoked = new Map<number, { blockNumber: number; transactionHash: string }>();
    const outcomes: Outcome[] = [];
    let started = 0;
    let finished = 0;

    before(async function () {
      chain = await startLoadChain();
      for (let a = 0; a < N; a += 1) {
        const account = await fundedAccount(chain, BigInt(a));
        for (let s = 0; s < M; s += 1) {
          // Two thirds of what the payments and batches ask for, in whole USDC: some of them must be refused.
          const usdc = ((inScopeDemand() * 2n) / 3n).toString();
          sessions.push(await grantLoadSession(chain, account, { usdc, eth: "0.1" }));
        }
      }
      started = Date.now();
      await Promise.all(
        sessions.map(async (session, index) => {
          const handle = agentHandle(chain, session);
          // Every third session: its owner revokes it once its first op is included, while the rest are in flight.
          const revokes = index % 3 === 2;
          let revocation: Promise<void> | undefined;
          await Promise.all(
            Array.from({ length: K }, async (_, op) => {
              const { kind, calls } = opOf(chain, session, op);
              const sentAt = Date.now();
              const outcome: Outcome = { session: index, kind, result: "", sentAt, doneAt: 0 };
              try {
                const result = await handle.call(calls);
                Object.assign(outcome, { result: "included", userOpHash: result.userOpHash, success: result.success });
                if (revokes && revocation === undefined) {
                  revocation = revoke(chain, session).then((mined) => void revoked.set(index, mined));
                }
              } catch (error) {
                record(outcome, error);
              }
              outcome.doneAt = Date.now();
              outcomes.push(outcome);
            }),
          );
          await revocation;
          if (revokes) {
            // Once the revocation is mined, one more payment: it must be refused as revoked.
            const { calls } = opOf(chain, session, 0);
            const outcome: Outcome = {
              session: index,
              kind: "after_revocation",
              result: "",
              sentAt: Date.now(),
              doneAt: 0,
            };
            try {
              const result = await handle.call(calls);
              Object.assign(outcome, { result: "included", userOpHash: result.userOpHash, success: result.success });
            } catch (error) {
              record(outcome, error);
            }
            outcome.doneAt = Date.now();
            outcomes.push(outcome);
          }
          handle.provider.destroy();
        }),
      );
      finished = Date.now();
    });

    after(async function () {
      await chain?.stop();
    });

    /** Records a refusal by its class, an op whose outcome is unknown with its hash. */
    function record(outcome: Outcome, error: unknown) {
      outcome.result =
        error instanceof UserOpRefusedError
          ? error.name
          : error instanceof UserOpTimeoutError
            ? "timeout"
            : error instanceof UserOpOutcomeUnknownError
              ? "unknown"
              : "error";
      outcome.message = (error as Error).message.slice(0, 300);
      if (error instanceof UserOpOutcomeUnknownError) outcome.userOpHash = error.userOpHash;
    }

    it("reports every op as included or as refused with a reason: none timed out or failed without one", function () {
      expect(outcomes).to.have.length(N * M * K + revoked.size);
      const unexplained = outcomes.filter((outcome) => ["error", "timeout", "unknown"].includes(outcome.result));
      expect(unexplained, JSON.stringify(unexplained.slice(0, 3))).to.deep.equal([]);
    });

    it("includes every op the client reported included exactly once, with the success it reported", async function () {
      const entryPoint = EntryPoint__factory.connect(chain.addresses.entryPoint, chain.connection.ethers.provider);
      const events = await entryPoint.queryFilter(entryPoint.filters.UserOperationEvent());
      const byHash = new Map<string, number>();
      for (const event of events) byHash.set(event.args.userOpHash, (byHash.get(event.args.userOpHash) ?? 0) + 1);
      for (const outcome of outcomes.filter((item) => item.result === "included")) {
        expect(byHash.get(outcome.userOpHash!), outcome.userOpHash).to.equal(1);
        const event = events.find((item) => item.args.userOpHash === outcome.userOpHash)!;
        expect(event.args.success).to.equal(outcome.success);
      }
      // And nothing else of the sessions was included: an op the client reported refused never was.
      const reported = outcomes.filter((item) => item.result === "included").length;
      expect(events.length).to.equal(reported);
    });

    it("lets no session's outflow exceed its budget, per asset, from the chain's transfers and gas", async function () {
      const provider = chain.connection.ethers.provider;
      const entryPoint = EntryPoint__factory.connect(chain.addresses.entryPoint, provider);
      const usdc = chain.usdc;
      for (const [index, session] of sessions.entries()) {
        let usdcOut = 0n;
        for (const recipient of session.recipients) {
          const transfers = await usdc.queryFilter(usdc.filters.Transfer!(session.file.account, recipient));
          for (const transfer of transfers)
            usdcOut += (transfer as unknown as { args: [string, string, bigint] }).args[2];
        }
        expect(usdcOut, `session ${index} USDC`).to.be.at.most(session.usdcLimit);
        const ops = (
          await entryPoint.queryFilter(entryPoint.filters.UserOperationEvent(undefined, session.file.account))
        ).filter(
          (event) =>
            sessionNonceLane(event.args.nonce >> 64n, session.file.sessionModule, session.file.sessionId) !== undefined,
        );
        const gas = ops.reduce((sum, event) => sum + event.args.actualGasCost, 0n);
        expect(gas, `session ${index} ETH (gas; the ops send no value)`).to.be.at.most(session.nativeLimit);
      }
      // One budget period: the run is far shorter than the day the budgets last.
      expect(finished - started).to.be.below(86_400_000);
    });

    it("includes no op of a revoked session in a bundle after the one its revocation was mined in", async function () {
      const provider = chain.connection.ethers.provider;
      const entryPoint = EntryPoint__factory.connect(chain.addresses.entryPoint, provider);
      expect(revoked.size).to.equal(sessions.filter((_, index) => index % 3 === 2).length);
      for (const [index, mined] of revoked) {
        const session = sessions[index]!;
        const revocation = await provider.getTransactionReceipt(mined.transactionHash);
        const events = (
          await entryPoint.queryFilter(entryPoint.filters.UserOperationEvent(undefined, session.file.account))
        ).filter(
          (event) =>
            sessionNonceLane(event.args.nonce >> 64n, session.file.sessionModule, session.file.sessionId) !== undefined,
        );
        for (const event of events) {
          const before =
            event.blockNumber < revocation!.blockNumber ||
            (event.blockNumber === revocation!.blockNumber && event.transactionIndex < revocation!.index);
          expect(before, `session ${index}: op ${event.args.userOpHash} after its revocation`).to.equal(true);
        }
        const module = SessionKeyValidationModule__factory.connect(session.file.sessionModule, provider);
        expect((await module.getSession(session.file.account, session.file.sessionId)).revoked).to.equal(true);
      }
    });

    it("refuses, in every session, a payment or batch that would take its USDC past the budget", function () {
      for (const [index] of sessions.entries()) {
        const overBudget = outcomes.filter(
          (item) =>
            item.session === index &&
            (item.kind === "payment" || item.kind === "batch") &&
            item.result === "SpendLimitExceededError",
        );
        // A revoked session may lose its later ops to the revocation first.
        const revokedToo = outcomes.filter(
          (item) => item.session === index && item.kind !== "after_revocation" && item.result === "SessionRevokedError",
        );
        expect(overBudget.length + revokedToo.length, `session ${index}`).to.be.at.least(1);
        if (index % 3 !== 2) expect(overBudget.length, `session ${index}`).to.be.at.least(1);
      }
    });

    it("refuses the op a revoked session's agent sends once the revocation is mined, as revoked", function () {
      const after = outcomes.filter((item) => item.kind === "after_revocation");
      expect(after).to.have.length(sessions.filter((_, index) => index % 3 === 2).length);
      for (const outcome of after) expect(outcome.result, outcome.message).to.equal("SessionRevokedError");
    });

    it("refuses every op over budget or out of scope, and includes some of the payments and batches", function () {
      for (const outcome of outcomes.filter((item) => item.kind === "over_budget" || item.kind === "out_of_scope")) {
        expect(outcome.result, `${outcome.kind}: ${outcome.message ?? ""}`).to.not.equal("included");
      }
      const included = outcomes.filter((item) => item.result === "included");
      expect(included.length).to.be.greaterThan(0);
      const report = figures();
      console.log(`\n${JSON.stringify(report, null, 2)}`);
      if (process.env.LEASH_LOAD_REPORT !== undefined) {
        writeFileSync(process.env.LEASH_LOAD_REPORT, JSON.stringify(report, null, 2) + "\n");
      }
    });

    /** The run's figures: configuration, throughput, latency, outcomes, faults met. */
    function figures() {
      const included = outcomes.filter((item) => item.result === "included");
      const latencies = included.map((item) => item.doneAt - item.sentAt).sort((a, b) => a - b);
      const counts: Record<string, number> = {};
      for (const outcome of outcomes) {
        const key = `${outcome.kind} → ${outcome.result}${outcome.result === "included" && outcome.success === false ? " (reverted)" : ""}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      // The burst: from the first send to the last answer of the N × M × K ops (the ops sent after a revocation
      // was mined wait for it, so they are counted in the outcomes but not in the throughput).
      const burst = outcomes.filter((item) => item.kind !== "after_revocation");
      const seconds = (Math.max(...burst.map((item) => item.doneAt)) - started) / 1000;
      return {
        configuration: { accounts: N, sessionsPerAccount: M, opsPerSession: K, ops: N * M * K },
        seconds,
        secondsWithAfterRevocation: (finished - started) / 1000,
        included: included.length,
        throughputOpsPerSecond: Number((included.length / seconds).toFixed(2)),
        latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: latencies.at(-1) ?? 0 },
        outcomes: Object.fromEntries(Object.entries(counts).sort()),
        faults: { ...chain.counters },
      };
    }
  },
);
