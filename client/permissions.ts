/**
 * Permission requests in ERC-7715's shape (`wallet_grantPermissions`), in and out:
 * - {@link grantInputFromPermissionRequest} maps an agent's request to the owner's grant input (the same strings
 *   `session grant` takes), so the owner reviews the usual summary and signs on the Ledger; anything Leash cannot
 *   enforce is refused, each with its reason, before anything is signed;
 * - {@link permissionResponse} is what the grant answers: the request with a `context` that carries the session file
 *   (no secret in it), which `parseSessionFile`, `fromGrantFile` and `leash-mcp --grant` accept directly;
 * - {@link sessionOfPermissionContext} reads a context back, e.g. for `wallet_revokePermissions`.
 * docs/INTEGRATORS.md documents the mapping field by field.
 */
import {
  formatUnits,
  getAddress,
  hexlify,
  isAddress,
  isHexString,
  toUtf8Bytes,
  toUtf8String,
  type Provider,
} from "ethers";

import { readTokenLabel, type GrantInput } from "./grant.js";
import { LeashInputError } from "./inputErrors.js";
import { MIN_BUDGET_PERIOD } from "./parse.js";
import { parseSessionFile, sessionFileToJson, type SessionFile } from "./sessionFile.js";

/** One ERC-7715 permission request (the current draft: one `permission` and its `policies`). */
export interface PermissionRequest {
  chainId: string | number;
  /** The account the permission is asked of (optional in ERC-7715: the owner then names it). */
  address?: string;
  /** Unix seconds: the session ends then. */
  expiry: number;
  signer: { type: string; data: Record<string, unknown> };
  permission: { type: string; data: Record<string, unknown> };
  policies?: { type: string; data: Record<string, unknown> }[];
}

/** One ERC-7715 response item: the request as granted, with the context that identifies the session. */
export type PermissionResponse = PermissionRequest & { context: string };

/** A request Leash cannot grant as asked; `reasons` says why, item by item. Nothing was signed. */
export class UnsupportedPermissionError extends LeashInputError {
  override readonly name = "UnsupportedPermissionError";
  constructor(readonly reasons: string[]) {
    super(
      `the permission request asks for what Leash cannot enforce, so nothing was signed:\n- ${reasons.join("\n- ")}`,
      "--request",
    );
  }
}

/** The permission types Leash maps, and the policies. */
export const SUPPORTED_PERMISSION_TYPES = [
  "native-token-periodic",
  "native-token-allowance",
  "native-token-transfer",
  "erc20-token-periodic",
  "erc20-token-allowance",
  "erc20-token-transfer",
  "contract-call",
] as const;
export const SUPPORTED_POLICY_TYPES = ["call-limit", "rate-limit"] as const;

/** Why a type Leash knows of is refused. */
const REFUSED_TYPES: Record<string, string> = {
  "native-token-stream": "streamed allowances are not enforced by Leash's spend-limit hook; ask for a periodic one",
  "erc20-token-stream": "streamed allowances are not enforced by Leash's spend-limit hook; ask for a periodic one",
  "erc721-token-transfer":
    "Leash budgets native and ERC-20 amounts only; name the NFT contract's functions in a contract-call",
  "erc1155-token-transfer":
    "Leash budgets native and ERC-20 amounts only; name the contract's functions in a contract-call",
  "erc20-token-revocation": "a session never needs to reset allowances under Leash; ask for the transfers themselves",
  "gas-limit": "Leash bounds gas by its cost in the native budget, not in gas units; ask for a native-token permission",
};

/**
 * Maps `requests` (an ERC-7715 `params` array, or one request) to a grant input: every request must be for the same
 * chain, account, expiry and signer, which become one Leash session. Reads token decimals from the chain to turn
 * base-unit amounts into the amounts a grant names. Throws {@link UnsupportedPermissionError} listing every item
 * Leash cannot enforce, and a {@link LeashInputError} for a malformed request.
 */
export async function grantInputFromPermissionRequest(parameters: {
  requests: unknown;
  provider: Provider;
  /** The chain the grant is for (the node's): a request for another chain is refused. */
  chainId: bigint;
  /** The account, when the request does not name one (`--account`). */
  account?: string;
}): Promise<{ input: GrantInput; requests: PermissionRequest[] }> {
  const { provider, chainId } = parameters;
  const requests = (Array.isArray(parameters.requests) ? parameters.requests : [parameters.requests]).map(
    (item, index) => requestShape(item, `request ${index}`),
  );
  if (requests.length === 0) throw new LeashInputError("--request: the file holds no permission request", "--request");
  const first = requests[0]!;
  const reasons: string[] = [];
  const same = (field: string, value: (request: PermissionRequest) => string) => {
    if (requests.some((request) => value(request) !== value(first))) {
      reasons.push(`every request of one file must have the same ${field}: Leash grants them as one session`);
    }
  };
  same("chainId", (request) => BigInt(request.chainId).toString());
  same("address", (request) => (request.address ?? "").toLowerCase());
  same("expiry", (request) => String(request.expiry));
  same("signer", (request) => JSON.stringify(request.signer).toLowerCase());
  if (BigInt(first.chainId) !== chainId) {
    reasons.push(`the request is for chain ${BigInt(first.chainId)}, the network is chain ${chainId}`);
  }
  const agent = signerAddress(first.signer, reasons);
  const account = first.address ?? parameters.account;
  if (account === undefined) {
    throw new LeashInputError("--request names no account (`address`): give --account", "--account");
  }
  if (
    first.address !== undefined &&
    parameters.account !== undefined &&
    getAddress(first.address) !== getAddress(parameters.account)
  ) {
    reasons.push(`the request is for account ${first.address}, --account is ${parameters.account}`);
  }

  const allow: string[] = [];
  const budgets: string[] = [];
  const seenAssets = new Set<string>();
  const addBudget = (asset: string, amount: string, period: string, item: string) => {
    if (seenAssets.has(asset.toLowerCase())) {
      reasons.push(
        `${item}: a second budget for ${asset}; Leash keeps one budget per asset, so ask for one permission`,
      );
      return;
    }
    seenAssets.add(asset.toLowerCase());
    budgets.push(`${amount} ${asset}/${period}`);
  };
  for (const [index, request] of requests.entries()) {
    const item = `request ${index} (${request.permission.type})`;
    const data = request.permission.data;
    const type = request.permission.type;
    if (REFUSED_TYPES[type] !== undefined) {
      reasons.push(`${item}: ${REFUSED_TYPES[type]}`);
      continue;
    }
    if (!(SUPPORTED_PERMISSION_TYPES as readonly string[]).includes(type)) {
      reasons.push(`${item}: unknown permission type; Leash maps ${SUPPORTED_PERMISSION_TYPES.join(", ")}`);
      continue;
    }
    if (type === "contract-call") {
      const target = addressOf(data.address, `${item} data.address`, reasons);
      const functions = data.functions;
      if (!Array.isArray(functions) || functions.length === 0 || !functions.every((fn) => typeof fn === "string")) {
        reasons.push(
          `${item}: data.functions must list the function signatures the agent may call, e.g. "swap(uint256)"`,
        );
        continue;
      }
      // Function signatures only (with optional argument rules): never the wildcard, plain transfers or signing,
      // which a request must ask for by their own permission types.
      const notSignatures = (functions as string[]).filter((fn) => !/^\s*[A-Za-z_$][A-Za-z0-9_$]*\s*\(/.test(fn));
      if (notSignatures.length !== 0) {
        reasons.push(
          `${item}: data.functions must be function signatures such as "deposit()", not ${notSignatures.map((fn) => JSON.stringify(fn)).join(", ")}`,
        );
        continue;
      }
      if (target !== undefined) for (const fn of functions as string[]) allow.push(`${target}:${fn.trim()}`);
      continue;
    }
    const periodic = type.endsWith("-periodic");
    const period = periodic ? periodOf(data.periodDuration, `${item} data.periodDuration`, reasons) : "lifetime";
    const amountField = periodic ? "periodAmount" : type.endsWith("-allowance") ? "allowanceAmount" : "allowance";
    const amount = baseUnits(data[amountField], `${item} data.${amountField}`, reasons);
    if (data.startTime !== undefined) {
      reasons.push(`${item}: data.startTime is not supported per permission; a session has one start (its grant)`);
    }
    const recipients =
      data.recipients === undefined ? undefined : recipientList(data.recipients, `${item} data.recipients`, reasons);
    if (type.startsWith("native-token")) {
      if (amount !== undefined && period !== undefined) addBudget("ETH", formatUnits(amount, 18), period, item);
      for (const recipient of recipients ?? []) allow.push(`${recipient}:receive`);
      continue;
    }
    const token = addressOf(data.tokenAddress ?? data.address, `${item} data.tokenAddress`, reasons);
    if (token === undefined || amount === undefined || period === undefined) continue;
    let decimals: number;
    try {
      decimals = (await readTokenLabel({ provider, token, field: `${item} data.tokenAddress` })).decimals;
    } catch (error) {
      reasons.push((error as Error).message);
      continue;
    }
    addBudget(token, formatUnits(amount, decimals), period, item);
    allow.push(
      recipients === undefined
        ? `${token}:transfer(address,uint256)`
        : `${token}:transfer(address to,uint256 amount) to=${recipients.join("|")}`,
    );
  }
  const samePolicies = requests.every(
    (request) => JSON.stringify(request.policies ?? []) === JSON.stringify(first.policies ?? []),
  );
  if (!samePolicies) {
    reasons.push("every request of one file must have the same policies: Leash enforces them on the whole session");
  }
  for (const policy of samePolicies ? (first.policies ?? []) : []) {
    const item = `policy ${policy.type}`;
    if (REFUSED_TYPES[policy.type] !== undefined) {
      reasons.push(`${item}: ${REFUSED_TYPES[policy.type]}`);
    } else if (policy.type === "call-limit") {
      const count = wholeNumber(policy.data.count, `${item} data.count`, reasons);
      if (count !== undefined) addBudget("ops", String(count), "lifetime", item);
    } else if (policy.type === "rate-limit") {
      const count = wholeNumber(policy.data.count, `${item} data.count`, reasons);
      const period = periodOf(policy.data.interval, `${item} data.interval`, reasons);
      if (count !== undefined && period !== undefined) addBudget("ops", String(count), period, item);
    } else {
      reasons.push(`${item}: unknown policy type; Leash maps ${SUPPORTED_POLICY_TYPES.join(", ")}`);
    }
  }
  if (reasons.length !== 0) throw new UnsupportedPermissionError(reasons);
  return {
    input: {
      account,
      agent: agent!,
      validUntil: new Date(first.expiry * 1000).toISOString().replace(".000Z", "Z"),
      allow,
      budgets,
    },
    requests,
  };
}

/** The ERC-7715 response to `requests` once granted: each request, with the context carrying `session`. */
export function permissionResponse(requests: PermissionRequest[], session: SessionFile): PermissionResponse[] {
  const context = permissionContextOf(session);
  return requests.map((request) => ({
    ...request,
    address: session.account,
    expiry: Number(session.validUntil),
    context,
  }));
}

/** A session's ERC-7715 context: its session file, as hex of its JSON (public data only). */
export function permissionContextOf(session: SessionFile): string {
  return hexlify(toUtf8Bytes(sessionFileToJson(session)));
}

/** The session a context carries; throws a LeashInputError if it is not one. */
export function sessionOfPermissionContext(context: string, chainId?: bigint): SessionFile {
  if (!isHexString(context) || context.length < 4) {
    throw new LeashInputError("the permission context is not hex: pass the context a Leash grant answered", "context");
  }
  let text: string;
  try {
    text = toUtf8String(context);
  } catch {
    throw new LeashInputError("the permission context is not a Leash context (not UTF-8 JSON)", "context");
  }
  return parseSessionFile(text, "the permission context", chainId);
}

function requestShape(value: unknown, item: string): PermissionRequest {
  const record = value as Partial<PermissionRequest> & { permissions?: unknown };
  if (typeof value !== "object" || value === null)
    throw new LeashInputError(`--request: ${item} is not an object`, "--request");
  if (record.permissions !== undefined && record.permission === undefined) {
    throw new LeashInputError(
      `--request: ${item} uses the older "permissions" list; write one request per permission ("permission": {…})`,
      "--request",
    );
  }
  const object = (field: string, v: unknown) => {
    if (typeof v !== "object" || v === null || typeof (v as { type?: unknown }).type !== "string") {
      throw new LeashInputError(`--request: ${item}.${field} must be { "type": …, "data": {…} }`, "--request");
    }
  };
  if (record.chainId === undefined || (typeof record.chainId !== "number" && typeof record.chainId !== "string")) {
    throw new LeashInputError(`--request: ${item}.chainId is missing`, "--request");
  }
  if (typeof record.expiry !== "number" || !Number.isInteger(record.expiry) || record.expiry <= 0) {
    throw new LeashInputError(`--request: ${item}.expiry must be a unix time in seconds`, "--request");
  }
  object("signer", record.signer);
  object("permission", record.permission);
  if (record.policies !== undefined && !Array.isArray(record.policies)) {
    throw new LeashInputError(`--request: ${item}.policies must be a list of { "type": …, "data": {…} }`, "--request");
  }
  (record.policies ?? []).forEach((policy, index) => object(`policies[${index}]`, policy));
  const data = (v: { data?: unknown }) => (typeof v.data === "object" && v.data !== null ? v.data : {});
  return {
    ...(record as PermissionRequest),
    signer: { type: record.signer!.type, data: data(record.signer!) as Record<string, unknown> },
    permission: { type: record.permission!.type, data: data(record.permission!) as Record<string, unknown> },
    policies: (record.policies ?? []).map((policy) => ({
      type: policy.type,
      data: data(policy) as Record<string, unknown>,
    })),
  };
}

function signerAddress(signer: PermissionRequest["signer"], reasons: string[]): string | undefined {
  if (signer.type === "account") return addressOf(signer.data.address, "signer.data.address", reasons);
  if (signer.type === "key") {
    const id = typeof signer.data.id === "string" ? signer.data.id : "";
    const pkh = /^did:pkh:eip155:\d+:(0x[0-9a-fA-F]{40})$/.exec(id);
    if (pkh !== null) return getAddress(pkh[1]!.toLowerCase());
    reasons.push(
      `signer: a "key" signer must be a did:pkh:eip155 id naming the agent's address (the session key is an Ethereum key)`,
    );
    return undefined;
  }
  reasons.push(
    signer.type === "wallet"
      ? 'signer: "wallet" asks the wallet to hold the session; under Leash the agent holds its own key: use "account"'
      : signer.type === "keys"
        ? 'signer: "keys" (a multisig of keys) is not a Leash session key; use one "account"'
        : `signer: unknown type "${signer.type}"; use "account" with the agent's address`,
  );
  return undefined;
}

function addressOf(value: unknown, field: string, reasons: string[]): string | undefined {
  if (typeof value !== "string" || !isAddress(value)) {
    reasons.push(`${field} must be an address, not ${JSON.stringify(value)}`);
    return undefined;
  }
  return getAddress(value.toLowerCase());
}

function recipientList(value: unknown, field: string, reasons: string[]): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    reasons.push(`${field} must be a non-empty list of addresses`);
    return undefined;
  }
  const addresses = value.map((item) => addressOf(item, field, reasons));
  return addresses.every((item) => item !== undefined) ? (addresses as string[]) : undefined;
}

/** A base-unit amount: hex (ERC-7715's "0x…") or a decimal string / number. */
function baseUnits(value: unknown, field: string, reasons: string[]): bigint | undefined {
  try {
    if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return BigInt(value);
    if (typeof value === "string" && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(value) && BigInt(value) > 0n)
      return BigInt(value);
  } catch {
    // falls through
  }
  reasons.push(`${field} must be a positive amount in base units ("0x…" or decimal), not ${JSON.stringify(value)}`);
  return undefined;
}

function wholeNumber(value: unknown, field: string, reasons: string[]): number | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value;
  reasons.push(`${field} must be a positive whole number, not ${JSON.stringify(value)}`);
  return undefined;
}

/** A period in seconds as a grant names it (`3600s`), refused below the hook's shortest. */
function periodOf(value: unknown, field: string, reasons: string[]): string | undefined {
  const seconds =
    typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    reasons.push(`${field} must be a positive number of seconds, not ${JSON.stringify(value)}`);
    return undefined;
  }
  if (BigInt(seconds) < MIN_BUDGET_PERIOD) {
    reasons.push(`${field}: ${seconds} s is shorter than an hour, the shortest period the spend-limit hook takes`);
    return undefined;
  }
  return `${seconds}s`;
}
