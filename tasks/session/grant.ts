/**
 * `session grant`: parse the options, let the client check them and build the grant plan, print the summary, ask for
 * confirmation, then have the Ledger sign the install transaction (or, with --signature-only, the EIP-712
 * SessionGrant, written to a grant file).
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { createAgentKey, writeAgentKeyFile } from "../../client/agentKey.js";
import { prepareGrant, type GrantPlan } from "../../client/grant.js";
import { InvalidAddressError, NotConfirmedError, requireOption } from "../../client/inputErrors.js";
import { grantSession } from "../../client/owner.js";
import { signSessionGrant, type SignedFile } from "../../client/signed.js";
import { splitList } from "../../client/parse.js";
import { grantPlanToJson, summarizeGrant } from "../../client/summary.js";
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

/** The options of `session grant` (undefined: not given). */
export interface GrantTaskArguments extends CommonTaskArguments {
  account?: string;
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
  signatureOnly: boolean;
  out?: string;
  yes: boolean;
}

/** What `session grant` did. */
export interface GrantTaskResult {
  plan: GrantPlan;
  transactionHash?: string;
  grantFile?: string;
  signedFile?: SignedFile;
  agentKeyFile?: string;
}

/** The logic of `session grant`, for the task and for tests. */
export async function runGrant(args: GrantTaskArguments, env: TaskEnv): Promise<GrantTaskResult> {
  const { io } = env;
  const owner = ledgerOwner(env.connection);
  const leash = await openLeash(env, args.addresses);
  if ((args.agent === undefined) === (args.generateAgentKey === undefined)) {
    throw new InvalidAddressError(
      "give exactly one of --agent <address> (the agent generated its key) or --generate-agent-key <file>",
      "--agent",
    );
  }
  if (args.generateAgentKey !== undefined && existsSync(args.generateAgentKey)) {
    throw new InvalidAddressError(`--generate-agent-key: ${args.generateAgentKey} exists; give a new file`, "--agent");
  }
  const agentKey = args.generateAgentKey === undefined ? undefined : createAgentKey();
  const plan = await prepareGrant({
    provider: env.connection.ethers.provider,
    addresses: leash.addresses,
    owner,
    input: {
      account: requireOption(args.account, "--account", "0xYourAccount"),
      agent: agentKey?.address ?? args.agent!,
      ttl: args.ttl,
      validUntil: args.validUntil,
      validAfter: args.validAfter,
      allow: splitList(args.allow),
      budgets: splitList(args.budget),
      perCallCap: args.perCallCap,
      paymasters: splitList(args.paymaster),
      sponsoredGas: args.sponsoredGas,
      maxFee: args.maxFee,
      sessionId: args.sessionId,
    },
  });
  for (const line of summarizeGrant(plan, args.signatureOnly ? "signature" : "transaction")) io.progress(line);
  if (!args.yes && !(await io.confirm("Sign this grant on your Ledger?"))) {
    throw new NotConfirmedError("not confirmed: nothing was signed", "--yes");
  }
  const result: GrantTaskResult = { plan };
  const signer = await ledgerSigner(env.connection);
  const file = args.out ?? `grant-${plan.session.account}-${plan.session.sessionId}.json`;
  if (args.signatureOnly && existsSync(file)) {
    throw new InvalidAddressError(`--out: ${file} exists; give a new file (nothing was signed)`, "--out");
  }
  if (args.signatureOnly) {
    const signed = await signSessionGrant(signer, plan, progressTo(io));
    await writeFile(file, JSON.stringify(signed, null, 2) + "\n", { flag: "wx" });
    result.signedFile = signed;
    result.grantFile = file;
  } else {
    const sent = await grantSession(signer, plan, progressTo(io));
    result.transactionHash = sent.transactionHash;
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
      grantFile: result.grantFile ?? null,
      agentKeyFile: result.agentKeyFile ?? null,
    });
  } else if (result.grantFile !== undefined) {
    io.out(`Signed grant of session ${plan.session.sessionId} written to ${result.grantFile}`);
    io.out(`Submit it with: npx hardhat session submit ${result.grantFile} (or let the agent's first op carry it)`);
  } else {
    io.out(`Session ${plan.session.sessionId} granted to ${plan.session.agent} in ${result.transactionHash}`);
  }
  return result;
}

/** The task action. */
export default async function grantAction(args: GrantTaskArguments, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(async () => runGrant(args, await taskEnv(hre, args.json)));
}
