/**
 * The session's recent ops, read from the chain: the EntryPoint's `UserOperationEvent`s of the account whose nonce
 * carries the session's key, each with what it took: its gas (when the account paid it), the native value its calls
 * sent (decoded from the bundle's `handleOps` calldata) and the ERC-20 transfers out of the account it caused.
 */
import { EntryPoint__factory, ModularAccount__factory, sessionNonceLane, type SessionFile } from "@leashkit/client";
import { formatUnits, getAddress, id, Interface, type Log, type Provider, ZeroAddress } from "ethers";

/** One op of the session, JSON-safe. */
export interface HistoryEntry {
  userOpHash: string;
  transactionHash: string;
  blockNumber: number;
  time: string;
  success: boolean;
  /** Who paid the gas: the account (charged to the session's native budget) or a paymaster. */
  gasPaidBy: "account" | "paymaster";
  /** The gas the op cost, in the chain's currency. */
  gasCost: string;
  /** What left the account: native value sent by the op's calls, and ERC-20 transfers from the account. */
  outflows: { asset: string; to: string; amount: string }[];
}

const TRANSFER_TOPIC = id("Transfer(address,address,uint256)");
const BEFORE_EXECUTION_TOPIC = id("BeforeExecution()");
const ACCOUNT = new Interface(ModularAccount__factory.abi);
const ENTRY_POINT = EntryPoint__factory.createInterface();
const USER_OPERATION_EVENT_TOPIC = ENTRY_POINT.getEvent("UserOperationEvent")!.topicHash;

/** A bundled op's fields history reads. */
interface BundledOp {
  sender: string;
  nonce: bigint;
  callData: string;
}

/**
 * The ops of a bundle sent straight to the EntryPoint (`handleOps`, or `handleAggregatedOps` flattened); none for a
 * bundle sent through another contract, whose calldata this does not read (the op's value is then not listed).
 */
export function bundledOps(data: string): BundledOp[] {
  let parsed;
  try {
    parsed = ENTRY_POINT.parseTransaction({ data });
  } catch {
    return [];
  }
  if (parsed?.name === "handleOps") return parsed.args[0] as BundledOp[];
  if (parsed?.name === "handleAggregatedOps") {
    return (parsed.args[0] as { userOps: BundledOp[] }[]).flatMap((group) => [...group.userOps]);
  }
  return [];
}

/** The session's last `limit` ops, newest first. */
export async function sessionHistory(parameters: {
  provider: Provider;
  session: SessionFile;
  fromBlock: number;
  limit: number;
}): Promise<HistoryEntry[]> {
  const { provider, session, fromBlock, limit } = parameters;
  const entryPoint = EntryPoint__factory.connect(session.entryPoint, provider);
  const events = await entryPoint.queryFilter(
    entryPoint.filters.UserOperationEvent(undefined, session.account),
    fromBlock,
  );
  const ours = events
    // Every nonce lane of the session (sessionNonceKey).
    .filter(
      (event) => sessionNonceLane(event.args.nonce >> 64n, session.sessionModule, session.sessionId) !== undefined,
    )
    .slice(-limit)
    .reverse();
  const label = (asset: string) =>
    session.budgets.find((budget) => budget.asset.toLowerCase() === asset.toLowerCase()) ?? {
      symbol: asset,
      decimals: 18,
    };
  const native = label(ZeroAddress);
  return Promise.all(
    ours.map(async (event) => {
      const [receipt, transaction, block] = await Promise.all([
        provider.getTransactionReceipt(event.transactionHash),
        provider.getTransaction(event.transactionHash),
        provider.getBlock(event.blockNumber),
      ]);
      const outflows: HistoryEntry["outflows"] = [];
      // Native value: the op's calls, from the bundle's calldata. A failed op's calls reverted: nothing left.
      if (transaction !== null && event.args.success) {
        const op = bundledOps(transaction.data).find(
          (item) => getAddress(item.sender) === getAddress(session.account) && item.nonce === event.args.nonce,
        );
        for (const call of op === undefined ? [] : callsOf(op.callData)) {
          if (call.value !== 0n) {
            outflows.push({ asset: native.symbol, to: call.target, amount: formatUnits(call.value, native.decimals) });
          }
        }
      }
      // ERC-20 transfers out of the account, between the previous op's event (or BeforeExecution) and this one's.
      const logs = receipt?.logs ?? [];
      const own = logs.findIndex((log) => log.index === event.index);
      let start = own;
      while (start > 0 && !isBoundary(logs[start - 1]!, session.entryPoint)) start -= 1;
      for (const log of logs.slice(start, own)) {
        if (
          log.topics[0] === TRANSFER_TOPIC &&
          log.topics.length === 3 &&
          topicAddress(log.topics[1]!) === getAddress(session.account)
        ) {
          const token = label(log.address);
          outflows.push({
            asset: token.symbol,
            to: topicAddress(log.topics[2]!),
            amount: formatUnits(BigInt(log.data), token.decimals),
          });
        }
      }
      const paymaster = event.args.paymaster;
      return {
        userOpHash: event.args.userOpHash,
        transactionHash: event.transactionHash,
        blockNumber: event.blockNumber,
        time: new Date((block?.timestamp ?? 0) * 1000).toISOString(),
        success: event.args.success,
        gasPaidBy: paymaster === ZeroAddress ? "account" : "paymaster",
        gasCost: formatUnits(event.args.actualGasCost, 18),
        outflows,
      };
    }),
  );
}

/** The calls of an op's callData (`executeUserOp` ‖ `execute` / `executeBatch`), or none if it is something else. */
function callsOf(callData: string): { target: string; value: bigint }[] {
  const executeUserOp = ACCOUNT.getFunction("executeUserOp")!.selector;
  const inner = callData.startsWith(executeUserOp) ? `0x${callData.slice(10)}` : callData;
  const parsed = (() => {
    try {
      return ACCOUNT.parseTransaction({ data: inner });
    } catch {
      return null;
    }
  })();
  if (parsed?.name === "execute")
    return [{ target: getAddress(parsed.args[0] as string), value: parsed.args[1] as bigint }];
  if (parsed?.name === "executeBatch") {
    return (parsed.args[0] as { target: string; value: bigint }[]).map((call) => ({
      target: getAddress(call.target),
      value: call.value,
    }));
  }
  return [];
}

function isBoundary(log: Log, entryPoint: string): boolean {
  return (
    getAddress(log.address) === getAddress(entryPoint) &&
    (log.topics[0] === BEFORE_EXECUTION_TOPIC || log.topics[0] === USER_OPERATION_EVENT_TOPIC)
  );
}

function topicAddress(topic: string): string {
  return getAddress(`0x${topic.slice(26)}`);
}
