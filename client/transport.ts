/**
 * JSON-RPC that rides out a node or a bundler restarting, timing out or rate-limiting: {@link ResilientJsonRpcProvider}
 * retries a request that never got an answer (connection refused or reset, a timeout, HTTP 429 / 5xx, a JSON-RPC
 * rate-limit error) with exponential backoff and jitter, until a deadline, then throws {@link RpcUnavailableError}
 * naming the endpoint. Answers are never retried (a revert, a refusal, an invalid request), and only reads are
 * retried ({@link isRetriedMethod}): `eth_sendRawTransaction`, `eth_sendUserOperation` and every other method are
 * sent once, and resent by the code that knows what was sent (the op's hash, see client/bundler.ts), never blindly.
 */
import { FetchRequest, JsonRpcProvider, Network, type JsonRpcPayload, type JsonRpcResult } from "ethers";

/** How long and how often a request that got no answer is tried again. */
export interface RetryPolicy {
  /** Give up this many milliseconds after the first try (default 30,000). */
  deadlineMs: number;
  /** The first wait, doubled after each failure (default 200). */
  baseDelayMs: number;
  /** The longest wait between two tries (default 4,000). */
  maxDelayMs: number;
  /** How long one try may take before it counts as a timeout (default 10,000). */
  requestTimeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  deadlineMs: 30_000,
  baseDelayMs: 200,
  maxDelayMs: 4_000,
  requestTimeoutMs: 10_000,
};

/** A node or bundler that did not answer within the retry policy's deadline. */
export class RpcUnavailableError extends Error {
  override readonly name = "RpcUnavailableError";
  constructor(
    /** The endpoint, e.g. "bundler http://127.0.0.1:4337". */
    readonly endpoint: string,
    readonly method: string,
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    super(
      `${endpoint} did not answer ${method} after ${attempts} tries (${describe(lastError)}): check that it is ` +
        "running and reachable; nothing was sent by this request",
    );
  }
}

/**
 * The methods retried here: reads, whose repetition changes nothing (with every `eth_get…`). Any other method (a
 * send: `eth_sendRawTransaction`, `eth_sendUserOperation`, a bundler's or a node's own) is sent once: its caller
 * knows how to resend it safely.
 */
const READ_METHODS: ReadonlySet<string> = new Set([
  "eth_chainId",
  "net_version",
  "eth_blockNumber",
  "eth_call",
  "eth_estimateGas",
  "eth_gasPrice",
  "eth_maxPriorityFeePerGas",
  "eth_feeHistory",
  "eth_supportedEntryPoints",
  "eth_estimateUserOperationGas",
  "pimlico_getUserOperationGasPrice",
]);

/** Whether {@link ResilientJsonRpcProvider} retries `method` when it gets no answer: reads only. */
export function isRetriedMethod(method: string): boolean {
  // eth_getFilterChanges reads and moves a filter's cursor: a retry after a lost answer would skip what it read.
  return READ_METHODS.has(method) || (/^eth_get[A-Za-z]+$/.test(method) && method !== "eth_getFilterChanges");
}

/** JSON-RPC error codes that mean "try again later" (EIP-1474 -32005 limit exceeded; some nodes' -32603 busy). */
const RATE_LIMITED_CODES = new Set([-32005]);

/**
 * Whether `error` means the request got no answer (so trying it again is safe for a read): a refused, reset or timed
 * out connection, HTTP 429 or 5xx, or a JSON-RPC rate-limit error.
 */
export function isTransientRpcError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const item = queue.shift();
    if (item === null || typeof item !== "object" || seen.has(item)) continue;
    seen.add(item);
    const record = item as Record<string, unknown>;
    const code = record.code;
    // A revert is an answer, whatever its reason says (even "rate limit").
    if (code === "CALL_EXCEPTION") return false;
    if (code === "TIMEOUT" || code === "NETWORK_ERROR") return true;
    if (typeof code === "string" && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EAI_AGAIN|UND_ERR_\w+)$/.test(code)) {
      return true;
    }
    if (typeof code === "number" && RATE_LIMITED_CODES.has(code)) return true;
    const status = (record.response as { statusCode?: unknown } | undefined)?.statusCode ?? record.status;
    if (typeof status === "number" && (status === 429 || status >= 500)) return true;
    const message = typeof record.message === "string" ? record.message : "";
    if (/fetch failed|socket hang up|rate limit|too many requests|request timeout|missing response/i.test(message)) {
      return true;
    }
    for (const key of ["error", "cause", "info", "errors"]) {
      const inner = record[key];
      if (Array.isArray(inner)) queue.push(...(inner as unknown[]));
      else if (inner !== undefined) queue.push(inner);
    }
  }
  return false;
}

/** The wait before try `attempt + 1` (attempt counts from 1): exponential, capped, with ±50 % jitter. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exponential * (0.5 + random()));
}

/**
 * Runs `request` until it answers, retrying what {@link isTransientRpcError} calls transient with
 * {@link backoffDelay} until the policy's deadline; then throws {@link RpcUnavailableError}. Any other error is
 * thrown as is, at once.
 */
export async function withRetries<T>(
  request: () => Promise<T>,
  what: { endpoint: string; method: string },
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void,
): Promise<T> {
  const deadline = Date.now() + policy.deadlineMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await request();
    } catch (error) {
      if (!isTransientRpcError(error)) throw error;
      const delay = backoffDelay(attempt, policy);
      if (Date.now() + delay > deadline) throw new RpcUnavailableError(what.endpoint, what.method, attempt, error);
      onRetry?.(attempt, error, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * An ethers JsonRpcProvider for one endpoint that retries reads that got no answer (see the module's comment).
 * `network` fixes the chain (no detection request at start, so a node that is down at start is retried like any
 * other request); requests are sent one by one (no batches: some bundlers refuse them).
 */
export class ResilientJsonRpcProvider extends JsonRpcProvider {
  readonly policy: RetryPolicy;
  readonly endpoint: string;
  /** Called before each retry (e.g. to count or log them). */
  onRetry?: (method: string, attempt: number, error: unknown, delayMs: number) => void;

  constructor(
    url: string,
    options: { network?: Network | bigint; label?: string; policy?: Partial<RetryPolicy> } = {},
  ) {
    const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
    const request = new FetchRequest(url);
    request.timeout = policy.requestTimeoutMs;
    // 429s are retried here, with the same deadline as every other transient failure.
    request.setThrottleParams({ maxAttempts: 1 });
    const network =
      options.network === undefined
        ? undefined
        : options.network instanceof Network
          ? options.network
          : Network.from(options.network);
    // No result cache: a retried or repeated read (a nonce, a receipt) must see the chain now.
    super(request, network, { staticNetwork: network ?? true, batchMaxCount: 1, cacheTimeout: -1 });
    this.policy = policy;
    this.endpoint = options.label ?? url;
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const payloads = Array.isArray(payload) ? payload : [payload];
    const method = payloads.map((item) => item.method).join(",");
    if (!payloads.every((item) => isRetriedMethod(item.method))) return super._send(payload);
    return withRetries(
      async () => {
        const results = await super._send(payload);
        // A rate-limit answer is an answer ethers would turn into a thrown error: retry it instead.
        const limited = (results as (JsonRpcResult & { error?: { code?: unknown } })[]).find(
          (result) => typeof result.error?.code === "number" && RATE_LIMITED_CODES.has(result.error.code),
        );
        if (limited !== undefined) throw Object.assign(new Error("rate limited"), { code: -32005, info: limited });
        return results;
      },
      { endpoint: this.endpoint, method },
      this.policy,
      (attempt, error, delay) => this.onRetry?.(method, attempt, error, delay),
    );
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0]!.slice(0, 200);
  return String(error).slice(0, 200);
}
