/**
 * The tasks' own input handling: the errors only a command line has (a missing option, a declined prompt, the
 * network's Ledger account) and the comma-separated lists Hardhat 3 options take. The owner-input rules the client
 * checks for any tool (addresses, amounts, periods, scope entries) stay in `@leashkit/client`.
 */
import { LeashInputError } from "@leashkit/client";

/** The network has no (or several) Ledger accounts configured. */
export class LedgerAccountError extends LeashInputError {
  override readonly name = "LedgerAccountError";
}

/** The user declined the confirmation prompt (nothing was signed). */
export class NotConfirmedError extends LeashInputError {
  override readonly name = "NotConfirmedError";
}

/** A required option was not given. */
export class MissingOptionError extends LeashInputError {
  override readonly name = "MissingOptionError";
}

/** Returns `value`, or throws {@link MissingOptionError} naming `option` if it was not given. */
export function requireOption(value: string | undefined, option: string, example: string): string {
  if (value === undefined || value.trim() === "") {
    throw new MissingOptionError(`${option} is required, e.g. ${option} ${example}`, option);
  }
  return value;
}

/** Splits a comma-separated list, ignoring commas inside parentheses (function signatures); empty items dropped. */
export function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const items: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of value) {
    if (char === "(") depth++;
    if (char === ")") depth = Math.max(0, depth - 1);
    if (char === "," && depth === 0) {
      items.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  items.push(current);
  return items.map((item) => item.trim()).filter((item) => item.length > 0);
}
