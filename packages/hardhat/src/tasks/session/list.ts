/** `session list`: every session the account was granted, with its state and time left. */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { requireOption } from "../input.js";
import { parseAddress } from "@leashkit/client";
import { listSessions, type SessionListEntry } from "@leashkit/client";
import { formatDuration, formatUtc } from "../summary.js";
import { openLeash, printJson, runTask, taskEnv, type CommonTaskArguments, type TaskEnv } from "../common.js";

/** The options of `session list`. */
export interface ListTaskArguments extends CommonTaskArguments {
  account?: string;
}

/** The logic of `session list`, for the task and for tests. */
export async function runList(args: ListTaskArguments, env: TaskEnv): Promise<SessionListEntry[]> {
  const leash = await openLeash(env, args.addresses);
  const account = parseAddress(requireOption(args.account, "--account", "0xYourAccount"), "--account");
  const sessions = await listSessions({
    provider: env.connection.ethers.provider,
    addresses: leash.addresses,
    account,
  });
  if (args.json) {
    printJson(env.io, { chainId: leash.chainId, account, sessions });
    return sessions;
  }
  env.io.out(`Sessions of ${account} on chain ${leash.chainId}: ${sessions.length}`);
  for (const s of sessions) {
    const left = s.state === "live" ? `, ${formatDuration(s.timeLeft)} left` : "";
    env.io.out(`  #${s.sessionId}  ${s.state.padEnd(13)} agent ${s.agent}  until ${formatUtc(s.validUntil)}${left}`);
  }
  return sessions;
}

/** The task action. */
export default async function listAction(args: ListTaskArguments, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(async () => runList(args, await taskEnv(hre, args.json)));
}
