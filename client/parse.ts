/**
 * Parsing and validation of the owner's input (task options or an integrator's strings) into plain values, with the
 * bounds the contracts enforce checked first, so that bad input is refused before anything is signed (THREATS 19).
 *
 * Syntax (documented in tasks/README.md):
 * - address: 0x + 40 hex digits; mixed case must be a valid EIP-55 checksum; all-lowercase is accepted (it carries
 *   no checksum) and shown checksummed in the summary.
 * - duration (`--ttl`): `<n>s|<n>m|<n>h|<n>d|<n>w`, e.g. 30m, 24h, 7d.
 * - time (`--valid-until`, `--valid-after`): ISO 8601 with a time zone (`2026-12-01T18:00:00Z`,
 *   `2026-12-01T18:00+02:00`) or a date alone (`2026-12-01`, midnight UTC); or `now`.
 * - period: `hour|day|week|lifetime|<n>s|<n>m|<n>h|<n>d`, from an hour to 8,388,607 s (97 days).
 * - scope entry (`--allow`): `<target>:<function signature>` (`0x…:transfer(address,uint256)`), `<target>:<selector>`
 *   (`0x…:0xa9059cbb`), `<target>:receive` (plain native transfers, empty calldata) or `<target>:*` (any call).
 * - budget (`--budget`): `<amount> <ETH|token address|symbol>/<period>[ cap <amount>]`, e.g. `50 USDC/day`,
 *   `0.1 ETH/day cap 0.02`.
 * - lists: Hardhat 3 options cannot be repeated, so `--allow`, `--budget` and `--paymaster` take comma-separated
 *   lists (commas inside a function signature's parentheses do not split).
 */
import { getAddress, id, isHexString } from "ethers";

import {
  InvalidAddressError,
  InvalidAmountError,
  InvalidPeriodError,
  InvalidScopeError,
  InvalidSessionIdError,
  InvalidTimeError,
} from "./inputErrors.js";
import { SELECTOR_ANY, SELECTOR_NO_CALLDATA, SELECTOR_SIGN } from "./session.js";

/** Largest budget limit the spend-limit hook stores (uint96, BudgetPacking.MAX_LIMIT). */
export const MAX_BUDGET_LIMIT = (1n << 96n) - 1n;
/** Shortest budget period in seconds (SpendLimitHook.MIN_PERIOD): an hour (0, lifetime, is also allowed). */
export const MIN_BUDGET_PERIOD = 3_600n;
/** Longest budget period in seconds (uint23, BudgetPacking.MAX_PERIOD): 97 days. */
export const MAX_BUDGET_PERIOD = (1n << 23n) - 1n;
/** Latest validAfter: budget periods are anchored at it and their start is a uint40 (BudgetPacking.MAX_TIME). */
export const MAX_VALID_AFTER = (1n << 40n) - 1n;
/** Latest validUntil: a uint48 (SessionPacking, ERC-4337 validation data). */
export const MAX_VALID_UNTIL = (1n << 48n) - 1n;
/** Largest native value cap per call (uint128 in the session's state slot). */
export const MAX_VALUE_CAP = (1n << 128n) - 1n;
/** Most scope entries in one session (SessionKeyValidationModule.MAX_SCOPE_ENTRIES). */
export const MAX_SCOPE_ENTRIES = 64;
/** Most budgets in one session (SpendLimitHook.MAX_BUDGETS). */
export const MAX_BUDGETS = 16;
/** Most paymasters in one session (SpendLimitHook.MAX_PAYMASTERS). */
export const MAX_PAYMASTERS = 8;
/** The entity id ERC-6900 reserves for direct-call validation; never a session id. */
export const RESERVED_SESSION_ID = 0xffffffff;

const UNIT_SECONDS: Record<string, bigint> = { s: 1n, m: 60n, h: 3_600n, d: 86_400n, w: 604_800n };
const NAMED_PERIODS: Record<string, bigint> = { hour: 3_600n, day: 86_400n, week: 604_800n, lifetime: 0n };

/**
 * Parses an address. Throws {@link InvalidAddressError} naming `field` if it is malformed or mixed-case with a wrong
 * EIP-55 checksum. Returns the checksummed address.
 */
export function parseAddress(value: string, field: string): string {
  const text = value.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) {
    throw new InvalidAddressError(
      `${field}: "${value}" is not an address; give 0x followed by 40 hex digits (checksummed, as a wallet shows it)`,
      field,
    );
  }
  const body = text.slice(2);
  const mixedCase = body !== body.toLowerCase() && body !== body.toUpperCase();
  const checksummed = getAddress(text.toLowerCase());
  if (mixedCase && checksummed !== text) {
    throw new InvalidAddressError(
      `${field}: "${value}" has a wrong EIP-55 checksum (a typo?); the checksummed form of what you typed is ` +
        `${checksummed}: check every character against the source before using it`,
      field,
    );
  }
  if (!mixedCase && body !== body.toLowerCase()) {
    throw new InvalidAddressError(
      `${field}: "${value}" is all upper case; give it checksummed or all lower case`,
      field,
    );
  }
  return checksummed;
}

/** Parses a duration such as `30m`, `24h`, `7d` into seconds (> 0). Throws {@link InvalidTimeError}. */
export function parseDuration(value: string, field: string): bigint {
  const match = /^(\d+)\s*([smhdw])$/.exec(value.trim());
  const seconds = match === null ? 0n : BigInt(match[1]!) * UNIT_SECONDS[match[2]!]!;
  if (seconds === 0n) {
    throw new InvalidTimeError(
      `${field}: "${value}" is not a duration; use a positive number and a unit: 90s, 30m, 24h, 7d or 2w`,
      field,
    );
  }
  return seconds;
}

/** The last hour of a day in ISO 8601 times (24:00 is refused: write the next day's 00:00). */
const MAX_HOUR = 23;

/**
 * Parses an absolute time into unix seconds: ISO 8601 with a time zone (Z or ±hh:mm), a date alone (midnight UTC),
 * or `now` (returns `now`). A date-time without a zone is refused: it would depend on this machine's zone.
 */
export function parseTime(value: string, field: string, now: bigint): bigint {
  const text = value.trim();
  if (text === "now") return now;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const zoned = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text);
  const millis = dateOnly || zoned ? Date.parse(dateOnly ? `${text}T00:00:00Z` : text) : Number.NaN;
  if (Number.isNaN(millis)) {
    throw new InvalidTimeError(
      `${field}: "${value}" is not a time; use ISO 8601 with a time zone, e.g. 2026-12-01T18:00:00Z or ` +
        "2026-12-01T18:00+02:00, or a date alone (midnight UTC)",
      field,
    );
  }
  if (millis < 0) throw new InvalidTimeError(`${field}: "${value}" is before 1970`, field);
  // Date.parse rolls impossible dates over (2026-02-31 becomes March 3rd, T24:00 the next day): refuse them.
  const [year, month, day] = text.slice(0, 10).split("-").map(Number);
  const hour = dateOnly ? 0 : Number(text.slice(11, 13));
  const calendar = new Date(Date.UTC(year!, month! - 1, day!));
  if (
    calendar.getUTCFullYear() !== year ||
    calendar.getUTCMonth() !== month! - 1 ||
    calendar.getUTCDate() !== day ||
    hour > MAX_HOUR
  ) {
    throw new InvalidTimeError(`${field}: "${value}" is not a date that exists; check the day and the hour`, field);
  }
  return BigInt(Math.floor(millis / 1000));
}

/** Parses a budget period (`hour|day|week|lifetime|<n>s|<n>m|<n>h|<n>d`) into seconds (0 = lifetime). */
export function parsePeriod(value: string, field: string): bigint {
  const text = value.trim().toLowerCase();
  let seconds: bigint | undefined = NAMED_PERIODS[text];
  if (seconds === undefined) {
    const match = /^(\d+)\s*([smhd])$/.exec(text);
    if (match !== null) seconds = BigInt(match[1]!) * UNIT_SECONDS[match[2]!]!;
  }
  if (seconds === undefined || (seconds === 0n && text !== "lifetime")) {
    throw new InvalidPeriodError(
      `${field}: "${value}" is not a period; use hour, day, week, lifetime, or a length such as 30d, 12h, 3600s`,
      field,
    );
  }
  if (seconds !== 0n && seconds < MIN_BUDGET_PERIOD) {
    throw new InvalidPeriodError(
      `${field}: a period of ${value} (${seconds} s) is shorter than an hour, the shortest the spend-limit hook ` +
        `takes (${MIN_BUDGET_PERIOD} s): a per-second or per-minute limit means little; use hour or longer`,
      field,
    );
  }
  if (seconds > MAX_BUDGET_PERIOD) {
    throw new InvalidPeriodError(
      `${field}: a period of ${value} (${seconds} s) is longer than the spend-limit hook stores ` +
        `(${MAX_BUDGET_PERIOD} s, 97 days); use a shorter period or lifetime`,
      field,
    );
  }
  return seconds;
}

/**
 * Parses a decimal amount (`1.5`) into base units of a token with `decimals`. Refuses zero, negative amounts,
 * more fraction digits than the token has, and anything above `max` (the packing bound by default).
 */
export function parseAmount(value: string, decimals: number, field: string, max = MAX_BUDGET_LIMIT): bigint {
  const text = value.trim();
  if (/^-/.test(text)) {
    throw new InvalidAmountError(`${field}: "${value}" is negative; give a positive amount`, field);
  }
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (match === null) {
    throw new InvalidAmountError(
      `${field}: "${value}" is not an amount; give a plain decimal number such as 50 or 0.25 (no exponent, no ` +
        "thousands separators)",
      field,
    );
  }
  const fraction = match[2] ?? "";
  if (fraction.length > decimals) {
    throw new InvalidAmountError(
      `${field}: "${value}" has ${fraction.length} decimals but the asset has only ${decimals}; round it`,
      field,
    );
  }
  const units = BigInt(match[1]! + fraction.padEnd(decimals, "0"));
  if (units === 0n) {
    throw new InvalidAmountError(`${field}: an amount of ${value} allows nothing; give an amount above zero`, field);
  }
  if (units > max) {
    throw new InvalidAmountError(
      `${field}: ${value} is ${units} base units, more than the session can hold (${max}); this is almost ` +
        "certainly a mistake (wrong token or decimals): give a realistic amount",
      field,
    );
  }
  return units;
}

/** A rule on an argument as the owner wrote it (`to=0xA|0xB`, `amount<=50`), parsed; values are scaled later. */
export interface ParsedArgumentRule {
  /** The rule as written, for messages and the summary. */
  text: string;
  /** The argument's name, position and canonical type. */
  name: string;
  argument: number;
  type: string;
  op: "eq" | "le" | "ge";
  /** One value for `le` / `ge`, one or more for `eq` (one of them). */
  values: string[];
}

/** A scope entry as the owner wrote it, parsed: the selector, how to name it, and its argument rules. */
export interface ParsedScopeEntry {
  target: string;
  selector: string;
  /** The function signature, `receive` (plain transfers), `*` (any call), `sign`, or undefined for a bare selector. */
  signature?: string;
  /** The signature as written, with its parameter names (when rules name them). */
  namedSignature?: string;
  rules?: ParsedArgumentRule[];
}

/** A parameter of a signature typed by hand: its canonical type and its name, if given. */
interface ParsedParam {
  type: string;
  name?: string;
}

/** Splits a parameter list at its top-level commas. */
function splitParams(list: string): string[] {
  const params: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of list) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      params.push(current.trim());
      current = "";
    } else {
      current += char;
    }
  }
  if (current.trim() !== "" || params.length > 0) params.push(current.trim());
  return params;
}

/** Static ABI types an argument rule can compare as one 32-byte word. */
const RULE_TYPES =
  /^(address|bool|uint(8|16|24|32|40|48|56|64|72|80|88|96|104|112|120|128|136|144|152|160|168|176|184|192|200|208|216|224|232|240|248|256)|bytes([1-9]|[12][0-9]|3[0-2]))$/;

/** Canonical spellings of Solidity elementary types, for signatures typed by hand. */
const TYPE_ALIASES: Record<string, string> = { uint: "uint256", int: "int256" };

function parseSignature(signature: string, field: string): { canonical: string; params: ParsedParam[] } {
  const match = /^\s*([A-Za-z_$][A-Za-z0-9_$]*)\s*\((.*)\)\s*$/.exec(signature);
  if (match === null) {
    throw new InvalidScopeError(
      `${field}: "${signature}" is not a function signature; write it with its parameter types, e.g. ` +
        "transfer(address,uint256), or give the 4-byte selector (0xa9059cbb)",
      field,
    );
  }
  const params = splitParams(match[2]!).map((param): ParsedParam => {
    const named = /^(.*\S)\s+([A-Za-z_$][A-Za-z0-9_$]*)$/.exec(param);
    const rawType = (named === null ? param : named[1]!).replace(/\s+/g, "");
    const type = rawType.replace(/^(u?int)(?=$|\[)/, (base) => TYPE_ALIASES[base] ?? base);
    return named === null ? { type } : { type, name: named[2]! };
  });
  if (params.some((param) => param.type === "" || !/^[A-Za-z0-9_$[\](),]+$/.test(param.type))) {
    throw new InvalidScopeError(`${field}: "${signature}" has a malformed parameter list`, field);
  }
  return { canonical: `${match[1]}(${params.map((param) => param.type).join(",")})`, params };
}

/** Parses the argument rules written after a signature: `name=v1|v2`, `name<=v`, `name>=v`, space-separated. */
function parseRules(text: string, params: ParsedParam[], field: string): ParsedArgumentRule[] {
  if (text.trim() === "") return [];
  return text
    .trim()
    .split(/\s+/)
    .map((token) => {
      const match = /^([A-Za-z_$][A-Za-z0-9_$]*)(<=|>=|=)(.+)$/.exec(token);
      if (match === null) {
        throw new InvalidScopeError(
          `${field}: "${token}" is not an argument rule; write name=value, name=a|b, name<=value or name>=value, ` +
            "naming a parameter of the signature, e.g. transfer(address to,uint256 amount) to=0x… amount<=50",
          field,
        );
      }
      const [, name, opText, valueText] = match as unknown as [string, string, string, string];
      const argument = params.findIndex((param) => param.name === name);
      if (argument < 0) {
        const names = params.map((param) => param.name).filter((n) => n !== undefined);
        throw new InvalidScopeError(
          `${field}: "${token}" names no parameter of the signature` +
            (names.length === 0
              ? "; give the parameters names, e.g. transfer(address to,uint256 amount)"
              : ` (${names.join(", ")})`),
          field,
        );
      }
      const type = params[argument]!.type;
      // The rule reads the argument's word of the ABI head, 4 + 32 × position: every parameter before it must take
      // exactly one head word (an elementary type, or a dynamic one, whose head word is its offset), never a tuple
      // or a fixed-size array, which take several.
      const multiWordBefore = params
        .slice(0, argument)
        .some((param) => param.type.startsWith("(") || /\[\d+\]$/.test(param.type));
      if (!RULE_TYPES.test(type) || multiWordBefore) {
        throw new InvalidScopeError(
          `${field}: "${token}": rules apply to address, bool and uintN parameters with no tuple or fixed-size ` +
            `array before them; ${name} is ${type} at position ${argument}`,
          field,
        );
      }
      const op = opText === "=" ? "eq" : opText === "<=" ? "le" : "ge";
      if (op !== "eq" && !/^uint/.test(type)) {
        throw new InvalidScopeError(`${field}: "${token}": <= and >= apply to uintN parameters only`, field);
      }
      const values = valueText.split("|");
      if (values.length > 1 && op !== "eq") {
        throw new InvalidScopeError(`${field}: "${token}": a|b (one of) goes with = only`, field);
      }
      return { text: token, name, argument, type, op, values };
    });
}

/** Parses one `--allow` entry: `<target>:<signature|selector|receive|*>`. */
export function parseScopeEntry(value: string, field = "--allow"): ParsedScopeEntry {
  const text = value.trim();
  const colon = text.indexOf(":");
  if (colon < 0) {
    throw new InvalidScopeError(
      `${field}: "${value}" needs a target and a function: <address>:<function signature>, e.g. ` +
        "0x…:transfer(address,uint256); <address>:receive for plain transfers, <address>:* for any call",
      field,
    );
  }
  const target = parseAddress(text.slice(0, colon), `${field} target`);
  const fn = text.slice(colon + 1).trim();
  if (fn === "*") return { target, selector: SELECTOR_ANY, signature: "*" };
  if (fn === "receive") return { target, selector: SELECTOR_NO_CALLDATA, signature: "receive" };
  if (fn === "sign") return { target, selector: SELECTOR_SIGN, signature: "sign" };
  if (isHexString(fn)) {
    if (fn.length !== 10) {
      throw new InvalidScopeError(`${field}: "${fn}" is not a 4-byte selector (0x + 8 hex digits)`, field);
    }
    const selector = fn.toLowerCase();
    const pseudo = { [SELECTOR_ANY]: "*", [SELECTOR_NO_CALLDATA]: "receive", [SELECTOR_SIGN]: "sign" }[selector];
    if (pseudo !== undefined) {
      throw new InvalidScopeError(
        `${field}: ${selector} is a pseudo-selector; write ${pseudo} instead so the meaning is explicit`,
        field,
      );
    }
    return { target, selector };
  }
  if (!fn.includes("(")) {
    const known = KNOWN_SIGNATURES.find((signature) => signature.startsWith(`${fn}(`));
    throw new InvalidScopeError(
      `${field}: "${fn}" needs its parameter types so the selector is unambiguous` +
        (known === undefined ? ", e.g. transfer(address,uint256)" : `: did you mean ${known}?`),
      field,
    );
  }
  const close = fn.lastIndexOf(")");
  const { canonical, params } = parseSignature(fn.slice(0, close + 1), field);
  const rules = parseRules(fn.slice(close + 1), params, field);
  const entry: ParsedScopeEntry = { target, selector: id(canonical).slice(0, 10), signature: canonical };
  if (rules.length > 0) {
    entry.rules = rules;
    entry.namedSignature = fn.slice(0, close + 1).trim();
  }
  return entry;
}

/** Function signatures the summary can name when only a selector was given. */
export const KNOWN_SIGNATURES = [
  "transfer(address,uint256)",
  "approve(address,uint256)",
  "transferFrom(address,address,uint256)",
  "increaseAllowance(address,uint256)",
  "decreaseAllowance(address,uint256)",
  "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
  "deposit()",
  "withdraw(uint256)",
  "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
  "swapExactETHForTokens(uint256,address[],address,uint256)",
  "swapExactTokensForETH(uint256,uint256,address[],address,uint256)",
  "exactInputSingle((address,address,uint24,address,uint256,uint256,uint160))",
  "multicall(bytes[])",
] as const;

/** The known signature of `selector`, if any. */
export function knownSignatureOf(selector: string): string | undefined {
  return KNOWN_SIGNATURES.find((signature) => id(signature).slice(0, 10) === selector.toLowerCase());
}

/** A budget as the owner wrote it, parsed (the asset is resolved and the amount scaled later, on chain). */
export interface ParsedBudget {
  amount: string;
  /** `ETH`, a token address (checksummed) or a symbol (upper-cased). */
  asset: string;
  period: bigint;
  /** The per-call cap as written (same asset), if any. */
  cap?: string;
  /** The budget as written, for error messages. */
  text: string;
}

/** Parses one `--budget` entry: `<amount> <ETH|address|symbol>/<period>[ cap <amount>]`. */
export function parseBudget(value: string, field = "--budget"): ParsedBudget {
  const text = value.trim();
  const match = /^(\S+)\s+(\S+?)\s*\/\s*(\S+)(?:\s+cap\s+(\S+))?$/i.exec(text);
  if (match === null) {
    throw new InvalidAmountError(
      `${field}: "${value}" is not a budget; write "<amount> <ETH|token address|symbol>/<period>", e.g. ` +
        `"50 USDC/day" or "0.1 ETH/day cap 0.02"`,
      field,
    );
  }
  const [, amount, assetText, periodText, cap] = match as unknown as [string, string, string, string, string?];
  const asset = assetText.startsWith("0x") ? parseAddress(assetText, `${field} asset`) : assetText.toUpperCase();
  if (!asset.startsWith("0x") && !/^[A-Z0-9.]{1,11}$/.test(asset)) {
    throw new InvalidAmountError(`${field}: "${assetText}" is neither ETH, a token address nor a symbol`, field);
  }
  return { amount, asset, period: parsePeriod(periodText, `${field} period`), cap, text };
}

/** Parses a session id (0 … 2^32 - 2; 2^32 - 1 is reserved by ERC-6900). */
export function parseSessionId(value: string | number, field = "--session"): number {
  const text = String(value).trim();
  const id = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 0 || id >= RESERVED_SESSION_ID) {
    throw new InvalidSessionIdError(
      `${field}: "${value}" is not a session id; give a whole number from 0 to ${RESERVED_SESSION_ID - 1} ` +
        "(session list shows the ids)",
      field,
    );
  }
  return id;
}
