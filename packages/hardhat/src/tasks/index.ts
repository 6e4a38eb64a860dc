/**
 * The Leash owner tasks, registered in hardhat.config.ts (`tasks: leashTasks`). Each action module is loaded lazily
 * and holds only option handling and printing; the logic is in client/.
 *
 * Lists (`--allow`, `--budget`, `--paymaster`) are comma-separated in one option: Hardhat 3 refuses a repeated
 * option (CANNOT_REPEAT_OPTIONS). Commas inside a function signature's parentheses do not split.
 */
import { emptyTask, task } from "hardhat/config";
import { ArgumentType } from "hardhat/types/arguments";

const ADDRESSES = {
  name: "addresses",
  description: "Leash address book (default: deployments/<chainId>.json)",
  defaultValue: "",
} as const;
const JSON_FLAG = { name: "json", description: "Print one JSON document (bigints as decimal strings)" } as const;
const OPTIONAL = ArgumentType.STRING_WITHOUT_DEFAULT;
const ACCOUNT = {
  name: "account",
  description: "Your account (Leash's, or another ERC-6900 account: see --owner-validation)",
  type: OPTIONAL,
  defaultValue: undefined,
} as const;
const SIGN_REVOCATION_ONLY = {
  name: "signatureOnly",
  description: "Only write the signed revocation to a file for a watchtower (the default without --relayer)",
} as const;
const RELAYER = {
  name: "relayer",
  description: "Account of the network that submits the signed revocation now (a hot key, the agent; not the Ledger)",
  type: OPTIONAL,
  defaultValue: undefined,
} as const;
const BY_TRANSACTION = {
  name: "byTransaction",
  description: "Send a transaction to the account instead (a real Ledger needs blind signing for it)",
} as const;
const REVOCATION_OUT = {
  name: "out",
  description: "Revocation file (when not submitted by --relayer)",
  type: OPTIONAL,
  defaultValue: undefined,
} as const;
const YES = { name: "yes", description: "Do not ask for confirmation" } as const;
const OWNER_VALIDATION = {
  name: "ownerValidation",
  description:
    "On an ERC-6900 account Leash did not deploy: the validation authorizing your calls, <module>:<entityId> or " +
    "built-in (default: from the account's accountId(); Alchemy semi-modular accounts use their built-in signer)",
  type: OPTIONAL,
  defaultValue: undefined,
} as const;

const accountTasks = [
  emptyTask("account", "Leash smart accounts owned by your Ledger").build(),
  task(["account", "create"], "Deploy your account through the Leash factory, the Ledger address as owner")
    .addOption({ name: "salt", description: "Account number (CREATE2 salt)", defaultValue: "0" })
    .addOption({
      name: "relayer",
      description: "Account of the network that sends the factory call (default: the first that is not the Ledger)",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addFlag({
      name: "byTransaction",
      description: "Have the Ledger send the factory call (a real Ledger needs blind signing for it)",
    })
    .addOption(ADDRESSES)
    .addFlag(JSON_FLAG)
    .setAction(() => import("./account/create.js"))
    .build(),
];

const sessionTasks = [
  emptyTask("session", "Session keys for agents: grant, revoke, inspect (signed on your Ledger)").build(),
  task(["session", "grant"], "Grant an agent a scoped, expiring, budgeted session key")
    .addOption(ACCOUNT)
    .addOption(OWNER_VALIDATION)
    .addOption({
      name: "request",
      description:
        "An agent's ERC-7715 permission request (JSON): gives the agent, expiry, scope and budgets (docs/INTEGRATORS.md)",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "responseOut",
      description:
        "With --request: where to write the ERC-7715 response for the agent (default: permission-response-<account>-<id>.json)",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "agent",
      description: "The agent's session key address",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "generateAgentKey",
      description: "Generate the agent's key here and write it to this new file (mode 0600) instead of --agent",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "ttl",
      description: "Lifetime from the start: 30m, 24h, 7d",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "validUntil",
      description: "Expiry, ISO 8601 with zone (2026-12-01T18:00:00Z) or a date",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "validAfter",
      description: "Start (default: 60 s before the chain's time, for bundlers whose clocks lag)",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "allow",
      description: "Comma-separated <target>:<signature|selector|receive|*>, e.g. 0x…:transfer(address,uint256)",
      defaultValue: "",
    })
    .addOption({
      name: "budget",
      description:
        'Comma-separated "<amount> <ETH|token|symbol>/<period>[ cap <amount>]", e.g. "50 USDC/day,0.05 ETH/day"',
      defaultValue: "",
    })
    .addOption({
      name: "perCallCap",
      description: "Most ETH one call may send (default: the ETH budget)",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "paymaster",
      description: "Comma-separated allowed paymasters",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "sponsoredGas",
      description:
        'With --paymaster: most the sponsored ops may cost, "<amount> ETH/<period>" (default "0.01 ETH/day")',
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "maxFee",
      description: 'With --paymaster: most maxFeePerGas of a sponsored op, "<n> gwei" (default "100 gwei")',
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "sessionId",
      description: "Session id (default: next free)",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addFlag({
      name: "signatureOnly",
      description: "Only write the signed grant to a file (the default without --relayer)",
    })
    .addOption({
      name: "relayer",
      description: "Account of the network that submits the signed grant now (a hot key, the agent; not the Ledger)",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addFlag({
      name: "byTransaction",
      description: "Send the install transaction instead (a real Ledger needs blind signing for it)",
    })
    .addOption({
      name: "out",
      description: "Grant file (when not submitted by --relayer)",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "sessionOut",
      description:
        "With --agent: the agent's session file, no key in it (default: sessions/<chainId>/<account>-<id>.json)",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addFlag({ name: "yes", description: "Do not ask for confirmation (the summary is still printed)" })
    .addOption(ADDRESSES)
    .addFlag(JSON_FLAG)
    .setAction(() => import("./session/grant.js"))
    .build(),
  task(["session", "revoke"], "Revoke one session")
    .addOption(ACCOUNT)
    .addOption(OWNER_VALIDATION)
    .addOption({ name: "session", description: "The session id", type: OPTIONAL, defaultValue: undefined })
    .addOption({
      name: "request",
      description: "An ERC-7715 wallet_revokePermissions request (JSON with permissionContext) naming the session",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addFlag(SIGN_REVOCATION_ONLY)
    .addOption(RELAYER)
    .addFlag(BY_TRANSACTION)
    .addOption(REVOCATION_OUT)
    .addFlag(YES)
    .addOption(ADDRESSES)
    .addFlag(JSON_FLAG)
    .setAction(() => import("./session/revoke.js"))
    .build(),
  task(["session", "revoke-all"], "Kill switch: revoke every session of the account")
    .addOption(ACCOUNT)
    .addOption(OWNER_VALIDATION)
    .addFlag(SIGN_REVOCATION_ONLY)
    .addOption(RELAYER)
    .addFlag(BY_TRANSACTION)
    .addOption(REVOCATION_OUT)
    .addFlag(YES)
    .addOption(ADDRESSES)
    .addFlag(JSON_FLAG)
    .setAction(() => import("./session/revokeAll.js"))
    .build(),
  task(["session", "cancel"], "Void a signed grant or revocation nobody submitted yet, by its nonce")
    .addOption(ACCOUNT)
    .addOption(OWNER_VALIDATION)
    .addOption({
      name: "nonce",
      description: "The nonce of the signed grant or revocation",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "relayer",
      description: "Account of the network that submits the signed cancellation now (a hot key; not the Ledger)",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption({
      name: "out",
      description: "Cancellation file (when not submitted by --relayer)",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addFlag(BY_TRANSACTION)
    .addFlag(YES)
    .addOption(ADDRESSES)
    .addFlag(JSON_FLAG)
    .setAction(() => import("./session/cancel.js"))
    .build(),
  task(["session", "submit"], "Submit a signed grant or revocation file")
    .addPositionalArgument({ name: "file", description: "The grant or revocation file" })
    .addOption({
      name: "from",
      description: "Submitting account (default: first account)",
      type: OPTIONAL,
      defaultValue: undefined,
    })
    .addOption(ADDRESSES)
    .addFlag(JSON_FLAG)
    .setAction(() => import("./session/submit.js"))
    .build(),
  task(["session", "list"], "List the sessions of an account")
    .addOption({ name: "account", description: "The Leash account", type: OPTIONAL, defaultValue: undefined })
    .addOption(ADDRESSES)
    .addFlag(JSON_FLAG)
    .setAction(() => import("./session/list.js"))
    .build(),
  task(["session", "status"], "Show a session's state, time left and remaining budgets")
    .addOption({ name: "account", description: "The Leash account", type: OPTIONAL, defaultValue: undefined })
    .addOption({ name: "session", description: "The session id", type: OPTIONAL, defaultValue: undefined })
    .addOption(ADDRESSES)
    .addFlag(JSON_FLAG)
    .setAction(() => import("./session/status.js"))
    .build(),
];

/** Every Leash task definition. */
export const leashTasks = [...accountTasks, ...sessionTasks];
