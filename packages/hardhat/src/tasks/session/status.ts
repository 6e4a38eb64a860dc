/** `session status --session <id>`: state, time left, and per asset what remains this period and when it resets. */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { formatAmount } from "@leashkit/client";
import { requireOption } from "../input.js";
import { parseAddress, parseSessionId } from "@leashkit/client";
import { readSessionStatus, type SessionStatusReport } from "@leashkit/client";
import { formatDuration, formatPeriod, formatTime } from "../summary.js";
import { openLeash, printJson, runTask, taskEnv, type CommonTaskArguments, type TaskEnv } from "../common.js";

/** The options of `session status`. */
export interface StatusTaskArguments extends CommonTaskArguments {
  account?: string;
  session?: string;
}

/** The human-readable lines of a status report. */
export function formatStatus(report: SessionStatusReport): string[] {
  const lines = [
    `Session ${report.sessionId} of ${report.account}: ${report.state.toUpperCase()}`,
    `  agent        ${report.agent}`,
    `  valid from   ${formatTime(report.validAfter)}`,
    `  valid until  ${formatTime(report.validUntil)}` +
      (report.timeLeft > 0n ? ` (${formatDuration(report.timeLeft)} left)` : " (expired)"),
    `  budgets:`,
  ];
  for (const b of report.budgets) {
    const resets = b.resetsAt === 0n ? "never resets" : `resets ${formatTime(b.resetsAt)}`;
    lines.push(
      `    - ${b.symbol}: ${formatAmount(b.remaining, b)} left of ${formatAmount(b.limit, b)} ${formatPeriod(b.period)}; ${resets}`,
    );
  }
  if (report.budgets.length === 0) lines.push("    (none)");
  return lines;
}

/** The logic of `session status`, for the task and for tests. */
export async function runStatus(args: StatusTaskArguments, env: TaskEnv): Promise<SessionStatusReport> {
  const leash = await openLeash(env, args.addresses);
  const account = parseAddress(requireOption(args.account, "--account", "0xYourAccount"), "--account");
  const sessionId = parseSessionId(requireOption(args.session, "--session", "1"), "--session");
  const report = await readSessionStatus({
    provider: env.connection.ethers.provider,
    addresses: leash.addresses,
    account,
    sessionId,
  });
  if (args.json) printJson(env.io, { chainId: leash.chainId, ...report });
  else for (const line of formatStatus(report)) env.io.out(line);
  return report;
}

/** The task action. */
export default async function statusAction(args: StatusTaskArguments, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runTask(async () => runStatus(args, await taskEnv(hre, args.json)));
}
