/**
 * An example agent: given a session grant, it works through a list of payments within its budget and reacts to
 * each kind of refusal the way a careful agent should:
 * - over budget: it reads when the budget period resets, waits for it (through `waitUntil`), and tries once more;
 * - out of scope or a bad signature: it skips that payment (retrying cannot help) and goes on;
 * - revoked or expired: it stops, since nothing it signs will validate again.
 * It never sees the owner's key, and it logs no key. Run it against your own grant the way
 * test/examples/agent.ts does.
 */
import { Interface, type Signer, type Wallet } from "ethers";

import {
  EntryPoint__factory,
  getSessionStatus,
  SessionExpiredError,
  SessionKeyValidationModule__factory,
  SessionRevokedError,
  sendSessionUserOp,
  SpendLimitExceededError,
  SpendLimitHook__factory,
  UserOpRefusedError,
  type SendVia,
  type UserOpGas,
} from "../client/index.js";

/** One payment the agent was asked to make. */
export interface Payment {
  token: string;
  to: string;
  amount: bigint;
}

/** What happened to one payment. */
export type PaymentOutcome = "paid" | "reverted" | "paid after the period reset" | "skipped" | "stopped";

/** What {@link runAgent} needs. */
export interface RunAgentParameters {
  grant: { entryPoint: string; account: string; sessionModule: string; spendLimitHook: string; sessionId: number };
  agentKey: Wallet;
  /** Reads the chain (and sends handleOps when `via` is a submitter). */
  runner: Signer;
  via: SendVia;
  gas: UserOpGas;
  payments: Payment[];
  /** Resolves once the chain's time has reached `timestamp` (a real agent sleeps; a test moves the chain's clock). */
  waitUntil: (timestamp: bigint) => Promise<void>;
  log: (line: string) => void;
}

const erc20 = new Interface(["function transfer(address to, uint256 amount)"]);

/** Runs the payments in order; returns each one's outcome. */
export async function runAgent(parameters: RunAgentParameters): Promise<PaymentOutcome[]> {
  const { grant, runner, log } = parameters;
  const session = {
    entryPoint: EntryPoint__factory.connect(grant.entryPoint, runner),
    account: grant.account,
    sessionModule: grant.sessionModule,
    sessionId: grant.sessionId,
    signingKey: parameters.agentKey.signingKey,
  };
  const payOnce = async (payment: Payment) => {
    const data = erc20.encodeFunctionData("transfer", [payment.to, payment.amount]);
    const result = await sendSessionUserOp({
      session,
      calls: [{ target: payment.token, value: 0n, data }],
      gas: parameters.gas,
      via: parameters.via,
    });
    return result.success;
  };
  const outcomes: PaymentOutcome[] = [];
  for (const payment of parameters.payments) {
    if (outcomes.at(-1) === "stopped") {
      outcomes.push("stopped");
      continue;
    }
    try {
      outcomes.push((await payOnce(payment)) ? "paid" : "reverted");
    } catch (error) {
      if (!(error instanceof UserOpRefusedError)) throw error;
      if (error instanceof SpendLimitExceededError) {
        const status = await getSessionStatus({
          sessionModule: SessionKeyValidationModule__factory.connect(grant.sessionModule, runner),
          spendLimitHook: SpendLimitHook__factory.connect(grant.spendLimitHook, runner),
          account: grant.account,
          sessionId: grant.sessionId,
          assets: [error.asset],
        });
        const budget = status.budgets[0];
        if (budget === undefined || budget.resetsAt === 0n || error.requested > budget.limit) {
          log(`skipping: no period reset would make room (${error.message})`);
          outcomes.push("skipped");
          continue;
        }
        log(
          `over budget: waiting for the period to reset at ${new Date(Number(budget.resetsAt) * 1000).toISOString()}`,
        );
        await parameters.waitUntil(budget.resetsAt);
        try {
          outcomes.push((await payOnce(payment)) ? "paid after the period reset" : "reverted");
        } catch (retryError) {
          if (!(retryError instanceof UserOpRefusedError)) throw retryError;
          log(`skipping after the reset too: ${retryError.message}`);
          outcomes.push("skipped");
        }
      } else if (error instanceof SessionRevokedError || error instanceof SessionExpiredError) {
        log(`stopping: ${error.message}`);
        outcomes.push("stopped");
      } else {
        log(`skipping a payment the session cannot make: ${error.message}`);
        outcomes.push("skipped");
      }
    }
  }
  return outcomes;
}
