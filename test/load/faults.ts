/**
 * Faults against the real Alto bundler and a real Hardhat node (issue 17, `npm run test:load`): each test injects
 * one fault through the proxies of test/helpers/loadChain.ts (or restarts Alto), then checks from the chain what
 * the client reported: every op included exactly once, or refused with a reason and not included; no intent signed
 * twice; no budget charged twice.
 */
import { expect } from "chai";
import { Interface, parseUnits } from "ethers";

import { EntryPoint__factory, SpendLimitHook__factory } from "../../client/contracts.js";
import { NonceConflictError, SessionRevokedError, UserOpTimeoutError } from "../../client/errors.js";
import type { RpcUserOperation } from "../../client/bundler.js";
import { packUserOp } from "../../client/userOp.js";
import { fromRpcUserOp } from "../helpers/fakeBundler.js";
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
const erc20 = new Interface(["function transfer(address to, uint256 amount)"]);
const USDC = (amount: string) => parseUnits(amount, 6);

(RUN ? describe : describe.skip)(
  "faults: a restarting bundler, a failing node, a lost receipt, racing clients, a revocation mid-burst",
  function () {
    this.timeout(10 * 60_000);
    let chain: LoadChain;
    let salt = 0n;

    before(async function () {
      chain = await startLoadChain();
    });

    afterEach(function () {
      chain.nodeProxy.mode = "forward";
      chain.bundlerProxy.mode = "forward";
      chain.nodeProxy.onRequest = undefined;
      chain.bundlerProxy.onRequest = undefined;
    });

    after(async function () {
      await chain?.stop();
    });

    async function freshSession(): Promise<LoadSession> {
      const account = await fundedAccount(chain, 100n + salt++);
      return grantLoadSession(chain, account, { usdc: "50", eth: "0.1" });
    }

    const pay = (session: LoadSession, amount: bigint, to = session.recipients[0]!) => ({
      target: chain.addresses.tokens.USDC!,
      value: 0n,
      data: erc20.encodeFunctionData("transfer", [to, amount]),
    });

    const paidTo = async (session: LoadSession) => {
      let total = 0n;
      for (const recipient of session.recipients)
        total += (await chain.usdc.getFunction("balanceOf")(recipient)) as bigint;
      return total;
    };

    const includedOf = async (session: LoadSession) => {
      const entryPoint = EntryPoint__factory.connect(chain.addresses.entryPoint, chain.connection.ethers.provider);
      return entryPoint.queryFilter(entryPoint.filters.UserOperationEvent(undefined, session.file.account));
    };

    /** The ops that went through the bundler proxy for `session`'s account, grouped by nonce. */
    const sentByNonce = (session: LoadSession) => {
      const groups = new Map<string, Set<string>>();
      for (const request of chain.bundlerProxy.requests) {
        if (request.method !== "eth_sendUserOperation") continue;
        const op = request.params[0] as RpcUserOperation;
        if (op.sender.toLowerCase() !== session.file.account.toLowerCase()) continue;
        const seen = groups.get(op.nonce) ?? new Set<string>();
        seen.add(JSON.stringify(op));
        groups.set(op.nonce, seen);
      }
      return groups;
    };

    it("the bundler killed and restarted mid-run: the same ops are sent again by hash, each included once, nothing paid twice", async function () {
      const session = await freshSession();
      const handle = agentHandle(chain, session);
      const resubmitsBefore = chain.counters.resubmits;
      let killed: Promise<void> | undefined;
      // Kill Alto as soon as the first op reaches it: ops it held are lost with its mempool.
      chain.bundlerProxy.onRequest = (method) => {
        if (method === "eth_sendUserOperation" && killed === undefined) {
          killed = chain.restartAlto(1_000).then(() => void (restartedAt = chain.bundlerProxy.requests.length));
        }
      };
      let restartedAt = Number.POSITIVE_INFINITY;
      const amounts = [USDC("1"), USDC("2"), USDC("3"), USDC("4")];
      const results = await Promise.all(amounts.map((amount) => handle.call(pay(session, amount))));
      await killed;
      handle.provider.destroy();
      expect(results.every((result) => result.success)).to.equal(true);
      // Alto lost what it held: the client sent those same ops again, to the new Alto.
      expect(chain.counters.resubmits).to.be.greaterThan(resubmitsBefore);
      const sends = chain.bundlerProxy.requests
        .map((request, index) => ({ request, index }))
        .filter(({ request }) => request.method === "eth_sendUserOperation")
        .filter(
          ({ request }) =>
            (request.params[0] as RpcUserOperation).sender.toLowerCase() === session.file.account.toLowerCase(),
        );
      const before = new Set(
        sends.filter(({ index }) => index < restartedAt).map(({ request }) => JSON.stringify(request.params[0])),
      );
      const resentAfter = sends.filter(
        ({ index, request }) => index >= restartedAt && before.has(JSON.stringify(request.params[0])),
      );
      expect(resentAfter.length).to.be.greaterThan(0);
      expect(await paidTo(session)).to.equal(USDC("10"));
      const included = await includedOf(session);
      expect(included.map((event) => event.args.userOpHash).sort()).to.deep.equal(
        results.map((result) => result.userOpHash).sort(),
      );
      // Never a different op for the same intent: every nonce was sent with one content only.
      for (const contents of sentByNonce(session).values()) expect(contents.size).to.equal(1);
    });

    it("the RPC node answering 503 and then timing out for a while: reads are retried, the op is included once", async function () {
      const session = await freshSession();
      const handle = agentHandle(chain, session);
      const retriesBefore = chain.counters.nodeRetries;
      chain.nodeProxy.mode = "unavailable";
      setTimeout(() => (chain.nodeProxy.mode = "hang"), 1_500);
      setTimeout(() => (chain.nodeProxy.mode = "forward"), 7_000);
      const result = await handle.call(pay(session, USDC("5")));
      handle.provider.destroy();
      expect(result.success).to.equal(true);
      expect(chain.counters.nodeRetries).to.be.greaterThan(retriesBefore);
      expect(await paidTo(session)).to.equal(USDC("5"));
      expect(await includedOf(session)).to.have.length(1);
    });

    it("a receipt that never comes: a timeout error carrying the op's hash, and nothing included", async function () {
      const session = await freshSession();
      const handle = agentHandle(chain, session, { timeoutMs: 3_000 });
      chain.bundlerProxy.onRequest = (method) => {
        // Estimates reach Alto; the op itself goes nowhere, and the bundler claims to hold it.
        if (method === "eth_sendUserOperation") chain.bundlerProxy.mode = "blackhole";
      };
      let thrown: unknown;
      try {
        await handle.call(pay(session, USDC("5")));
      } catch (error) {
        thrown = error;
      }
      handle.provider.destroy();
      expect(thrown).to.be.instanceOf(UserOpTimeoutError);
      // The hash is the one of the op that was sent (and resent: always the same op).
      const sent = [...sentByNonce(session).values()].flatMap((contents) => [...contents]);
      expect(sent).to.have.length(1);
      const entryPoint = EntryPoint__factory.connect(chain.addresses.entryPoint, chain.connection.ethers.provider);
      const op = fromRpcUserOp(JSON.parse(sent[0]!) as RpcUserOperation);
      expect((thrown as UserOpTimeoutError).userOpHash).to.equal(
        await entryPoint.getUserOpHash(packUserOp({ ...op, signature: "0x" })),
      );
      expect((thrown as UserOpTimeoutError).message).to.contain((thrown as UserOpTimeoutError).userOpHash);
      expect(await includedOf(session)).to.have.length(0);
      expect(await paidTo(session)).to.equal(0n);
    });

    it("two clients sharing one session key race on one nonce lane: one op wins, the other gets NonceConflictError, the budget is charged once", async function () {
      const session = await freshSession();
      const first = agentHandle(chain, session);
      const second = agentHandle(chain, session);
      const outcomes = await Promise.allSettled([
        first.call(pay(session, USDC("7")), { lane: 0 }),
        second.call(pay(session, USDC("9")), { lane: 0 }),
      ]);
      first.provider.destroy();
      second.provider.destroy();
      const won = outcomes.filter((outcome) => outcome.status === "fulfilled");
      const lost = outcomes.filter((outcome) => outcome.status === "rejected") as PromiseRejectedResult[];
      expect([won.length, lost.length]).to.deep.equal([1, 1]);
      expect(lost[0]!.reason).to.be.instanceOf(NonceConflictError);
      const paid = await paidTo(session);
      expect([USDC("7"), USDC("9")]).to.deep.include(paid);
      expect(await includedOf(session)).to.have.length(1);
      const hook = SpendLimitHook__factory.connect(session.file.spendLimitHook, chain.connection.ethers.provider);
      const [remaining] = await hook.remainingBudget(
        session.file.account,
        session.file.sessionId,
        chain.addresses.tokens.USDC!,
      );
      expect(remaining).to.equal(USDC("50") - paid);
    });

    it("the owner revokes during a burst: every op of a later bundle is refused as revoked, none included after", async function () {
      const session = await freshSession();
      const handle = agentHandle(chain, session);
      let revocation: Promise<{ blockNumber: number; transactionHash: string }> | undefined;
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, async () => {
          const result = await handle.call(pay(session, USDC("1")));
          revocation ??= revoke(chain, session);
          return result;
        }),
      );
      const mined = await revocation!;
      // The burst goes on once the revocation is mined: every op of it is refused.
      const later = await Promise.allSettled([1, 2].map(() => handle.call(pay(session, USDC("1")))));
      handle.provider.destroy();
      for (const outcome of later) {
        expect(outcome.status).to.equal("rejected");
        expect((outcome as PromiseRejectedResult).reason).to.be.instanceOf(SessionRevokedError);
      }
      const receipt = await chain.connection.ethers.provider.getTransactionReceipt(mined.transactionHash);
      const refused = outcomes.filter((outcome) => outcome.status === "rejected") as PromiseRejectedResult[];
      for (const outcome of refused) expect(outcome.reason).to.be.instanceOf(SessionRevokedError);
      const included = await includedOf(session);
      expect(included.length).to.equal(outcomes.length - refused.length);
      for (const event of included) {
        const before =
          event.blockNumber < receipt!.blockNumber ||
          (event.blockNumber === receipt!.blockNumber && event.transactionIndex < receipt!.index);
        expect(before).to.equal(true);
      }
      expect(await paidTo(session)).to.equal(USDC(String(included.length)));
    });
  },
);
