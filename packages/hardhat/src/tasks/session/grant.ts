/**
 * `session grant`: parse the options, let the client check them and build the grant plan, print the summary, then
 * have the Ledger clear-sign the EIP-712 SessionGrant (packages/hardhat/src/ledger/ledgerTypedData.ts: the task prints what the device
 * will show and asks before the device does; it refuses, printing the hashes, when the device could not clear-sign
 * it). What was signed is carried on chain by anyone:
 * - `--relayer <address>`: that account of the network (a hot key, the agent; not the Ledger) submits it at once;
 * - otherwise (or with `--signature-only`) it is written to a grant file, for `session submit` or the agent's first
 *   user op.
 * `--by-transaction` keeps the old path, the install transaction, which a real Ledger signs only with blind signing.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { createAgentKey } from "@leashkit/client";
import {
  assertSessionFileWritable,
  defaultSessionFile,
  writeAgentKeyFile,
  writeSessionFile,
} from "@leashkit/client/node";
import { sessionFileOf } from "@leashkit/client";
import { prepareGrant, type GrantPlan } from "@leashkit/client";
import {
  grantInputFromPermissionRequest,
  InvalidAddressError,
  InvalidScopeError,
  permissionResponse,
  SignedActionUnsupportedError,
  UnsupportedPermissionError,
} from "@leashkit/client";
import { NotConfirmedError, requireOption } from "../input.js";
import { grantSession } from "@leashkit/client";
import { signSessionGrant, type SignedFile } from "@leashkit/client";
import { splitList } from "../input.js";
import { grantPlanToJson, summarizeGrant } from "../summary.js";
import {
  ledgerOwner,
  ledgerSigner,
  openLeash,
  printJson,
  progressTo,
  runTask,
  taskEnv,
  type CommonTaskArguments,
  type TaskEnv,
} from "../common.js";
import { deliverSigned, ownerDevice, parseRelayer } from "../ownerDevice.js";

/** The options of `session grant` (undefined: not given). */
export interface GrantTaskArguments extends CommonTaskArguments {
  account?: string;
  /** An ERC-7715 permission request file: the agent, expiry, scope and budgets come from it. */
  request?: string;
  /** With --request: where the ERC-7715 response goes. */
  responseOut?: string;
  /** On an ERC-6900 account Leash did not deploy: the owner's validation, `<module>:<entityId>` or `built-in`. */
  ownerValidation?: string;
  agent?: string;
  generateAgentKey?: string;
  ttl?: string;
  validUntil?: string;
  validAfter?: string;
  allow: string;
  budget: string;
  perCallCap?: string;
  paymaster?: string;
  sponsoredGas?: string;
  maxFee?: string;
  sessionId?: string;
  /** Only write the signed grant to a file (do not submit it, even with --relayer). */
  signatureOnly: boolean;
  /** The account of the network that submits the signed grant (not the Ledger). */
  relayer?: string;
  /** Send the install transaction instead (a real Ledger needs blind signing for it). */
  byTransaction?: boolean;
  out?: string;
  /** With --agent: where to write the agent's session file (default: sessions/<chainId>/<account>-<id>.json). */
  sessionOut?: string;
  yes: boolean;
}

/** What `session grant` did. */
export interface GrantTaskResult {
  plan: GrantPlan;
  transactionHash?: string;
  grantFile?: string;
  signedFile?: SignedFile;
  agentKeyFile?: string;
  /** With --agent: the session file written for the agent (no key in it). */
  sessionFile?: string;
  /** With --request: the ERC-7715 response written for the agent. */
  responseFile?: string;
  /** Who sent the transaction: the Ledger (`--by-transaction`) or the relayer. */
  submittedBy?: string;
  /** What the Ledger showed, label by label, as the task printed it before asking. */
  deviceSummary?: [label: string, value: string][];
}

/** The logic of `session grant`, for the task and for tests. */
export async function runGrant(args: GrantTaskArguments, env: TaskEnv): Promise<GrantTaskResult> {
  const { io } = env;
  const owner = ledgerOwner(env.connection);
  const leash = await openLeash(env, args.addresses);
  const fromRequest = args.request === undefined ? undefined : await requestInput(args, env);
  if (fromRequest !== undefined) {
    args = { ...args, agent: fromRequest.input.agent };
  } else if (args.responseOut !== undefined) {
    throw new InvalidAddressError("--response-out goes with --request", "--response-out");
  }
  if ((args.agent === undefined) === (args.generateAgentKey === undefined)) {
    throw new InvalidAddressError(
      "give exactly one of --agent <address> (the agent generated its key) or --generate-agent-key <file>",
      "--agent",
    );
  }
  if (args.generateAgentKey !== undefined && existsSync(args.generateAgentKey)) {
    throw new InvalidAddressError(`--generate-agent-key: ${args.generateAgentKey} exists; give a new file`, "--agent");
  }
  if (args.generateAgentKey !== undefined && args.sessionOut !== undefined) {
    throw new InvalidAddressError(
      "--session-out goes with --agent: with --generate-agent-key the key file carries the session's coordinates",
      "--session-out",
    );
  }
  const agentKey = args.generateAgentKey === undefined ? undefined : createAgentKey();
  const plan = await prepareGrant({
    provider: env.connection.ethers.provider,
    addresses: leash.addresses,
    owner,
    input: {
      account: fromRequest?.input.account ?? requireOption(args.account, "--account", "0xYourAccount"),
      agent: agentKey?.address ?? args.agent!,
      ttl: args.ttl,
      validUntil: fromRequest?.input.validUntil ?? args.validUntil,
      validAfter: args.validAfter,
      allow: fromRequest?.input.allow ?? splitList(args.allow),
      budgets: fromRequest?.input.budgets ?? splitList(args.budget),
      perCallCap: args.perCallCap,
      paymasters: splitList(args.paymaster),
      sponsoredGas: args.sponsoredGas,
      maxFee: args.maxFee,
      sessionId: args.sessionId,
      ownerValidation: args.ownerValidation,
    },
  });
  const byTransaction = args.byTransaction === true;
  if (!byTransaction && !plan.ownerAccount.signedActions.supported) {
    throw new SignedActionUnsupportedError(
      `${plan.ownerAccount.signedActions.reason}. Nothing was signed`,
      "--by-transaction",
    );
  }
  const relayer = byTransaction || args.signatureOnly ? undefined : parseRelayer(args.relayer, owner);
  for (const line of summarizeGrant(plan, byTransaction ? "transaction" : "signature")) io.progress(line);
  const result: GrantTaskResult = { plan };
  const file = args.out ?? `grant-${plan.session.account}-${plan.session.sessionId}.json`;
  if (!byTransaction && relayer === undefined && existsSync(file)) {
    throw new InvalidAddressError(`--out: ${file} exists; give a new file (nothing was signed)`, "--out");
  }
  const sessionFile =
    agentKey !== undefined
      ? undefined
      : (args.sessionOut ?? defaultSessionFile(env.root, plan.chainId, plan.session.account, plan.session.sessionId));
  if (sessionFile !== undefined) {
    await assertSessionFileWritable(sessionFile, plan.chainId, plan.session.account, plan.session.sessionId);
  }
  const responseFile =
    fromRequest === undefined
      ? undefined
      : (args.responseOut ?? `permission-response-${plan.session.account}-${plan.session.sessionId}.json`);
  if (responseFile !== undefined && existsSync(responseFile)) {
    throw new InvalidAddressError(
      `--response-out: ${responseFile} exists; give a new file (nothing was signed)`,
      "--response-out",
    );
  }
  if (byTransaction) {
    if (!args.yes && !(await io.confirm("Sign this grant on your Ledger?"))) {
      throw new NotConfirmedError("not confirmed: nothing was signed", "--yes");
    }
    const sent = await grantSession({ signer: await ledgerSigner(env.connection), plan, onProgress: progressTo(io) });
    result.transactionHash = sent.transactionHash;
    result.submittedBy = owner;
  } else {
    const signer = ownerDevice(env, owner, {
      yes: args.yes,
      question: "Sign this grant on your Ledger?",
      onSummary: (lines) => (result.deviceSummary = lines),
    });
    const signed = await signSessionGrant({ signer, plan, onProgress: progressTo(io) });
    result.signedFile = signed;
    const delivery = await deliverSigned(env, signed, leash.addresses, relayer, file);
    result.grantFile = delivery.file;
    result.transactionHash = delivery.transactionHash;
    result.submittedBy = delivery.submittedBy;
  }
  if (sessionFile !== undefined) {
    // The agent made its key: it gets the session's coordinates and scope in a file with no secret in it.
    await writeSessionFile(sessionFile, sessionFileOf(plan));
    result.sessionFile = sessionFile;
    io.progress(`session file written to ${sessionFile} (no key in it): hand it to the agent`);
  }
  if (responseFile !== undefined) {
    const response = permissionResponse(fromRequest!.requests, sessionFileOf(plan));
    await writeFile(responseFile, JSON.stringify(response, null, 2) + "\n");
    result.responseFile = responseFile;
    io.progress(`ERC-7715 response written to ${responseFile} (no key in it): hand it to the agent`);
  }
  // The agent's key is written only once the grant is signed (and sent): a declined or failed grant leaves no key.
  if (agentKey !== undefined) {
    const { session, addresses, chainId } = plan;
    await writeAgentKeyFile(args.generateAgentKey!, agentKey, {
      chainId: chainId.toString(),
      account: session.account,
      sessionId: session.sessionId,
      sessionModule: addresses.sessionModule,
      spendLimitHook: addresses.spendLimitHook,
      entryPoint: addresses.entryPoint,
    });
    result.agentKeyFile = args.generateAgentKey;
    io.progress(`agent key written to ${args.generateAgentKey} (mode 0600): hand it to the agent, then delete it`);
  }
  if (args.json) {
    printJson(io, {
      ...grantPlanToJson(plan),
      transactionHash: result.transactionHash ?? null,
      submittedBy: result.submittedBy ?? null,
      grantFile: result.grantFile ?? null,
      agentKeyFile: result.agentKeyFile ?? null,
      sessionFile: result.sessionFile ?? null,
      responseFile: result.responseFile ?? null,
    });
  } else if (result.grantFile !== undefined) {
    io.out(`Signed grant of session ${plan.session.sessionId} written to ${result.grantFile}`);
    io.out(`Submit it with: npx hardhat session submit ${result.grantFile} (or let the agent's first op carry it)`);
  } else {
    const by = result.submittedBy === owner ? "" : ` (submitted by ${result.submittedBy})`;
    io.out(`Session ${plan.session.sessionId} granted to ${plan.session.agent} in ${result.transactionHash}${by}`);
  }
  return result;
}

/**
 * The grant input an ERC-7715 request file gives (agent, account, expiry, scope, budgets). Refuses the options it
 * replaces, a malformed file, and anything Leash cannot enforce (UnsupportedPermissionError), before the Ledger is
 * asked anything.
 */
async function requestInput(args: GrantTaskArguments, env: TaskEnv) {
  const replaced = [
    args.agent !== undefined && "--agent",
    args.generateAgentKey !== undefined && "--generate-agent-key",
    args.ttl !== undefined && "--ttl",
    args.validUntil !== undefined && "--valid-until",
    args.allow !== "" && "--allow",
    args.budget !== "" && "--budget",
  ].filter((flag): flag is string => flag !== false);
  if (replaced.length !== 0) {
    throw new InvalidScopeError(
      `--request gives the agent, expiry, scope and budgets: drop ${replaced.join(", ")}`,
      "--request",
    );
  }
  let requests: unknown;
  try {
    requests = JSON.parse(await readFile(args.request!, "utf8"));
  } catch (error) {
    throw new InvalidScopeError(
      `--request: cannot read ${args.request} as JSON (${(error as Error).message})`,
      "--request",
    );
  }
  const provider = env.connection.ethers.provider;
  const mapped = await grantInputFromPermissionRequest({
    requests,
    provider,
    chainId: (await provider.getNetwork()).chainId,
    account: args.account,
  });
  if (args.paymaster === undefined && !mapped.input.budgets.some((budget) => / ETH\//.test(budget))) {
    throw new UnsupportedPermissionError([
      "the request asks for no native-token permission, so the agent's gas has no budget to come from: the agent " +
        "must ask for one (native-token-periodic), or grant a paymaster with --paymaster",
    ]);
  }
  return mapped;
}

/** The task action. */
export default async function grantAction(args: GrantTaskArguments, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(async () => runGrant(args, await taskEnv(hre, args.json)));
}
