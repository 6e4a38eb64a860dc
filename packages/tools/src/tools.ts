/**
 * The agent's tools for one session, framework-free: their definitions (name, description, JSON Schema input) are
 * generated from the session's policy, so the model sees only the targets, functions and assets it may use; running
 * one checks the call against the on-chain policy before anything is signed, and answers JSON-safe values only.
 * The MCP server (mcp.ts) and the Vercel AI SDK tools are thin adapters over {@link createLeashTools}.
 */
import {
  GasCapExceededError,
  NATIVE_ASSET,
  OPERATIONS_ASSET,
  type CheckAnswer,
  type SessionCall,
  type SessionHandle,
  type SessionRefusal,
  NonceConflictError,
  UserOpOutcomeUnknownError,
  UserOpRefusedError,
} from "@leashkit/client";
import { formatUnits, FunctionFragment, getAddress, Interface, isAddress, parseUnits, type Provider } from "ethers";

import { sessionHistory } from "./history.js";

import { describeRule, type AgentPolicy, type PolicyFunction } from "./policy.js";

/** A tool as every framework describes one: a name, what it does, and a JSON Schema of its input object. */
export interface ToolDefinition {
  name: ToolName;
  description: string;
  inputSchema: JsonSchemaObject;
}

/** A JSON Schema for an object (the subset the tools use). */
export interface JsonSchemaObject {
  type: "object";
  properties: Record<string, JsonSchema>;
  required: string[];
  additionalProperties: false;
}

/** A JSON Schema value (the subset the tools use). */
export type JsonSchema = { [key: string]: JsonValue };

/** A JSON value. Every tool result is one. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type ToolName = "session_status" | "pay" | "call" | "simulate" | "history";

/** What a tool returns: JSON only (amounts as decimal strings, times as ISO strings). */
export type ToolResult = { [key: string]: JsonValue };

/** A log line: every request and result (never the key). */
export type ToolLogger = (entry: { [key: string]: JsonValue }) => void;

/** Input the tools refuse before reading the chain (an unknown symbol, a bad address, a negative amount). */
export class ToolInputError extends Error {
  override name = "ToolInputError";
}

/** The tools of one session. */
export interface LeashTools {
  definitions: ToolDefinition[];
  /** Runs a tool; a malformed input or a refusal is a result (`{ error }` / `{ refused }`), never a throw. */
  run(name: string, input: unknown): Promise<ToolResult>;
}

const ERC20 = new Interface(["function transfer(address to, uint256 amount)"]);

/** Builds the tools of the session `handle` acts under, described from `policy`. */
export function createLeashTools(parameters: {
  handle: SessionHandle;
  policy: AgentPolicy;
  /** The chain the session is on (reads the history). */
  provider: Provider;
  log?: ToolLogger;
}): LeashTools {
  const { handle, policy, provider } = parameters;
  const log = parameters.log ?? (() => {});
  const definitions = toolDefinitions(policy);
  const symbolOf = (asset: string) =>
    asset === NATIVE_ASSET
      ? (policy.session.budgets.find((b) => BigInt(b.asset) === 0n)?.symbol ?? "ETH")
      : asset === OPERATIONS_ASSET
        ? "operations"
        : (policy.session.budgets.find((b) => b.asset.toLowerCase() === asset.toLowerCase())?.symbol ?? asset);
  const decimalsOf = (asset: string) =>
    asset === OPERATIONS_ASSET
      ? 0
      : (policy.session.budgets.find((b) => b.asset.toLowerCase() === asset.toLowerCase())?.decimals ?? 18);

  const refusalResult = (refusal: SessionRefusal): ToolResult => {
    const result: ToolResult = { refused: refusal.refused, reason: refusal.reason, retryable: refusal.retryable };
    if (refusal.asset !== undefined) {
      const decimals = decimalsOf(refusal.asset);
      result.asset = symbolOf(refusal.asset);
      if (refusal.requested !== undefined) result.requested = formatUnits(refusal.requested, decimals);
      if (refusal.remaining !== undefined) result.remaining = formatUnits(refusal.remaining, decimals);
    }
    result.resetsAt = refusal.resetsAt === undefined ? null : new Date(Number(refusal.resetsAt) * 1000).toISOString();
    result.sent = false;
    return result;
  };

  /** The calls a `pay` or `call` input asks for, or a ToolInputError. */
  const callsOf = (
    name: "pay" | "call",
    input: Record<string, unknown>,
  ): { calls: SessionCall[]; summary: ToolResult } => {
    if (name === "pay") {
      const symbol = stringField(input, "asset");
      const asset = policy.assets.find((item) => item.symbol.toUpperCase() === symbol.toUpperCase());
      if (asset === undefined) {
        throw new ToolInputError(
          `unknown asset "${symbol}": this session may pay ${policy.assets.map((item) => item.symbol).join(", ") || "nothing"}`,
        );
      }
      const to = addressField(input, "to");
      const amount = amountField(input, "amount", asset.decimals);
      const call: SessionCall =
        asset.address === NATIVE_ASSET
          ? { target: to, value: amount, data: "0x" }
          : { target: asset.address, value: 0n, data: ERC20.encodeFunctionData("transfer", [to, amount]) };
      return { calls: [call], summary: { asset: asset.symbol, to, amount: formatUnits(amount, asset.decimals) } };
    }
    const id = stringField(input, "function");
    const fn = findFunction(policy.functions, id);
    const args = input.args === undefined ? [] : input.args;
    if (!Array.isArray(args)) throw new ToolInputError(`"args" must be an array of ${fn.signature}'s arguments`);
    if (args.length !== fn.inputs.length) {
      throw new ToolInputError(`${fn.signature} takes ${fn.inputs.length} arguments, ${args.length} given`);
    }
    let data: string;
    try {
      data = new Interface([FunctionFragment.from(fn.signature)]).encodeFunctionData(fn.signature, args);
    } catch (error) {
      throw new ToolInputError(`the arguments do not fit ${fn.signature}: ${(error as Error).message.split(" (")[0]}`);
    }
    // The session file keeps canonical signatures (no mutability): the chain's per-call value cap bounds the value.
    const value = input.value === undefined ? 0n : amountField(input, "value", 18, true);
    return {
      calls: [{ target: fn.target, value, data }],
      summary: { function: fn.id, args: args as JsonValue[], value: formatUnits(value, 18) },
    };
  };

  const spendsOf = (answer: CheckAnswer): ToolResult[] =>
    answer.spends.map((spend) => ({
      asset: symbolOf(spend.asset),
      atMost: formatUnits(spend.requested, decimalsOf(spend.asset)),
      remaining: formatUnits(spend.remaining, decimalsOf(spend.asset)),
    }));

  /** Each budget's remaining amount now, by symbol (base units, with its decimals). */
  const remainingNow = async (): Promise<Map<string, { remaining: bigint; decimals: number }>> => {
    const status = await handle.status();
    return new Map(
      status.budgets.map((budget) => [
        budget.symbol,
        { remaining: BigInt(budget.remaining), decimals: budget.decimals },
      ]),
    );
  };

  const run = async (name: string, rawInput: unknown): Promise<ToolResult> => {
    const input = (rawInput ?? {}) as Record<string, unknown>;
    switch (name) {
      case "session_status":
        return (await handle.status()) as unknown as ToolResult;
      case "history": {
        const limit = input.limit === undefined ? 10 : input.limit;
        if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 50) {
          throw new ToolInputError(`"limit" must be a whole number from 1 to 50, not ${JSON.stringify(limit)}`);
        }
        const ops = await sessionHistory({
          provider,
          session: policy.session,
          fromBlock: policy.grantBlock,
          limit,
        });
        return { ops: ops as unknown as JsonValue[] };
      }
      case "pay":
      case "call":
      case "simulate": {
        if (typeof rawInput !== "object" || rawInput === null || Array.isArray(rawInput)) {
          throw new ToolInputError("the input must be an object");
        }
        const kind = name === "simulate" ? simulateKind(input) : name;
        const inner = name === "simulate" ? objectField(input, kind) : input;
        const { calls, summary } = callsOf(kind, inner);
        const answer = await handle.check(calls);
        if (!answer.ok) return { ...summary, ...refusalResult(answer.refusal!) };
        if (name === "simulate") {
          return {
            ...summary,
            wouldSend: true,
            sent: false,
            maxGasCost: formatUnits(answer.maxGasCost, 18),
            spends: spendsOf(answer),
          };
        }
        const before = await remainingNow();
        let result: Awaited<ReturnType<SessionHandle["call"]>>;
        try {
          result = await handle.call(calls);
        } catch (error) {
          // Refused by the bundler or the EntryPoint's simulation: nothing was included. Anything else (a receipt that
          // never came, a dropped connection) may have been sent: never report it as not sent.
          if (error instanceof UserOpRefusedError) throw error;
          // The bundler's gas estimate is over the agent's caps or what the native budget has left: nothing signed.
          if (error instanceof GasCapExceededError) {
            return {
              ...summary,
              refused: "gas_over_cap",
              reason: error.message,
              retryable: false,
              sent: false,
            };
          }
          // Sent, not seen included in time (or its outcome unreadable): the hash finds it later (history lists it
          // once it is included). Until the chain settles it, the handle pins the next ops to its nonce.
          if (error instanceof UserOpOutcomeUnknownError) {
            return {
              ...summary,
              error:
                `${error.message}. Until it is settled, ops sent through this server take that op's nonce, so a ` +
                "retry of it and the op itself cannot both be included",
              sent: "unknown",
              userOpHash: error.userOpHash,
            };
          }
          return {
            ...summary,
            error: `the op may have been sent: ${(error as Error).message}; read history before trying again`,
            sent: "unknown",
          };
        }
        const after = await remainingNow().catch(() => undefined);
        if (after === undefined) {
          return {
            ...summary,
            sent: true,
            success: result.success,
            transactionHash: result.transactionHash,
            spent: null,
            remaining: null,
          };
        }
        // What the op took of each budget: the budget's drop (the hook's own accounting, gas included).
        const spent: { [symbol: string]: string } = {};
        const remaining: { [symbol: string]: string } = {};
        for (const [symbol, now] of after) {
          const then = before.get(symbol);
          remaining[symbol] = formatUnits(now.remaining, now.decimals);
          if (then !== undefined && then.remaining > now.remaining) {
            spent[symbol] = formatUnits(then.remaining - now.remaining, now.decimals);
          }
        }
        return {
          ...summary,
          sent: true,
          success: result.success,
          transactionHash: result.transactionHash,
          spent,
          remaining,
          ...(result.success ? {} : { revertData: result.revertData ?? null }),
        };
      }
      default:
        throw new ToolInputError(`unknown tool "${name}": the tools are ${definitions.map((d) => d.name).join(", ")}`);
    }
  };

  // One tool call at a time: two sends in flight would take the same nonce and both pass a budget check that only
  // one of them fits.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = (name: string, input: unknown): Promise<ToolResult> => {
    const next = queue.then(() => run(name, input));
    queue = next.catch(() => undefined);
    return next;
  };

  return {
    definitions,
    async run(name, input) {
      log({ event: "request", tool: name, input: toJson(input) });
      let result: ToolResult;
      try {
        result = await serialized(name, input);
      } catch (error) {
        if (error instanceof ToolInputError) result = { error: error.message, sent: false };
        else if (error instanceof NonceConflictError) {
          // Another op took this op's nonce: this one was not included. If the winner is an op this server answered
          // `sent: "unknown"` (same hash), that earlier try went through: sending the intent again would pay twice.
          result = {
            refused: "nonce_taken",
            reason: error.message,
            retryable: false,
            sent: false,
            winnerUserOpHash: error.winnerUserOpHash ?? null,
          };
        } else if (error instanceof UserOpRefusedError) {
          result = { refused: "chain_refused", reason: error.message, retryable: error.retryable, sent: false };
        } else result = { error: `the tool failed: ${(error as Error).message}`, sent: false };
      }
      log({ event: "result", tool: name, result });
      return result;
    },
  };
}

/** The tools' definitions, generated from the policy. */
export function toolDefinitions(policy: AgentPolicy): ToolDefinition[] {
  const { session } = policy;
  const assets = policy.assets;
  const payDescription = [
    `Pay from account ${session.account} under session ${session.sessionId}.`,
    ...assets.map(
      (asset) =>
        `- ${asset.symbol} (${asset.decimals} decimals${asset.address === NATIVE_ASSET ? ", the chain's currency" : `, token ${asset.address}`})` +
        (asset.recipients === undefined ? ": to any recipient" : `: only to ${asset.recipients.join(", ")}`),
    ),
    'Amounts are decimal strings in whole units ("1.5"). Every payment is checked against the session\'s budgets ' +
      "(gas included) before anything is signed; a refusal says why and when the budget resets.",
  ].join("\n");
  const payProperties = {
    asset: { type: "string", enum: assets.map((asset) => asset.symbol), description: "The asset to pay." },
    to: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$", description: "The recipient's address." },
    amount: { type: "string", pattern: "^[0-9]+(\\.[0-9]+)?$", description: 'The amount in whole units, e.g. "2.5".' },
  };
  const callDescription = [
    `Call a contract function the session allows, from account ${session.account}. The functions:`,
    ...policy.functions.map((fn) => {
      const params = fn.inputs.map((input) => `${input.type}${input.name ? ` ${input.name}` : ""}`).join(", ");
      const rules = fn.rules.map((rule) => describeRule(fn, rule));
      return `- ${fn.id}: ${fn.signature.split("(")[0]}(${params}) on ${fn.targetLabel}${rules.length ? `; ${rules.join("; ")}` : ""}`;
    }),
    ...(policy.notOffered.length ? ["Not offered by this tool: " + policy.notOffered.join("; ") + "."] : []),
    "Arguments are JSON: numbers in base units as decimal strings, addresses as strings.",
  ].join("\n");
  const callProperties = {
    function: { type: "string", enum: policy.functions.map((fn) => fn.id), description: "signature@target" },
    args: { type: "array", description: "The function's arguments, in order." },
    value: {
      type: "string",
      pattern: "^[0-9]+(\\.[0-9]+)?$",
      description: "Native value to send, in whole units (payable functions only).",
    },
  };
  const definitions: ToolDefinition[] = [
    {
      name: "session_status",
      description:
        `The session's state now (live, not-yet-valid, expired, revoked, killed or removed), its window, scope, and ` +
        `each budget (${session.budgets.map((b) => b.symbol).join(", ")}) with what remains and when it resets.`,
      inputSchema: { type: "object", properties: {}, required: [], additionalProperties: false },
    },
  ];
  if (assets.length !== 0) {
    definitions.push({
      name: "pay",
      description: payDescription,
      inputSchema: {
        type: "object",
        properties: payProperties,
        required: ["asset", "to", "amount"],
        additionalProperties: false,
      },
    });
  }
  if (policy.functions.length !== 0) {
    definitions.push({
      name: "call",
      description: callDescription,
      inputSchema: {
        type: "object",
        properties: callProperties,
        required: ["function", "args"],
        additionalProperties: false,
      },
    });
  }
  const simulateProperties: Record<string, JsonSchema> = {};
  if (assets.length !== 0) {
    simulateProperties.pay = {
      type: "object",
      properties: payProperties,
      required: ["asset", "to", "amount"],
      additionalProperties: false,
    };
  }
  if (policy.functions.length !== 0) {
    simulateProperties.call = {
      type: "object",
      properties: callProperties,
      required: ["function", "args"],
      additionalProperties: false,
    };
  }
  if (Object.keys(simulateProperties).length !== 0) {
    definitions.push({
      name: "simulate",
      description:
        "Check a payment or a call against the session's policy and budgets (gas included) without signing or " +
        "sending anything: give exactly one of `pay` or `call`, with the input of that tool.",
      inputSchema: { type: "object", properties: simulateProperties, required: [], additionalProperties: false },
    });
  }
  definitions.push({
    name: "history",
    description: "This session's recent ops: when, the transaction, whether it succeeded, and what each spent.",
    inputSchema: {
      type: "object",
      properties: { limit: { type: "integer", minimum: 1, maximum: 50, description: "How many ops (default 10)." } },
      required: [],
      additionalProperties: false,
    },
  });
  return definitions;
}

function simulateKind(input: Record<string, unknown>): "pay" | "call" {
  const keys = Object.keys(input).filter((key) => input[key] !== undefined);
  if (keys.length !== 1 || (keys[0] !== "pay" && keys[0] !== "call")) {
    throw new ToolInputError('give exactly one of "pay" or "call" to simulate');
  }
  return keys[0];
}

function objectField(input: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = input[field];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ToolInputError(`"${field}" must be an object`);
  }
  return value as Record<string, unknown>;
}

function stringField(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== "string" || value.trim() === "")
    throw new ToolInputError(`"${field}" must be a non-empty string`);
  return value.trim();
}

function addressField(input: Record<string, unknown>, field: string): string {
  const value = stringField(input, field);
  if (!isAddress(value)) throw new ToolInputError(`"${field}" is not an address: "${value}"`);
  return getAddress(value.toLowerCase());
}

function amountField(input: Record<string, unknown>, field: string, decimals: number, zeroAllowed = false): bigint {
  const value = input[field];
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string" || !/^[0-9]+(\.[0-9]+)?$/.test(text.trim())) {
    throw new ToolInputError(
      `"${field}" must be a non-negative decimal amount such as "1.5", not ${JSON.stringify(value)}`,
    );
  }
  let amount: bigint;
  try {
    amount = parseUnits(text.trim(), decimals);
  } catch {
    throw new ToolInputError(`"${field}" has more than ${decimals} decimals: ${text}`);
  }
  if (amount === 0n && !zeroAllowed) throw new ToolInputError(`"${field}" must be more than 0`);
  return amount;
}

function findFunction(functions: PolicyFunction[], id: string): PolicyFunction {
  const exact = functions.find((fn) => fn.id.toLowerCase() === id.toLowerCase());
  if (exact !== undefined) return exact;
  const bySignature = functions.filter((fn) => fn.signature === id.replace(/\s/g, ""));
  if (bySignature.length === 1) return bySignature[0]!;
  throw new ToolInputError(
    `"${id}" is not a function this session may call; the functions are: ${functions.map((fn) => fn.id).join(", ")}`,
  );
}

/** A JSON-safe copy of a tool input for the log (bigints as strings). */
function toJson(value: unknown): JsonValue {
  return JSON.parse(
    JSON.stringify(value ?? null, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
  ) as JsonValue;
}
