/** `session revoke-all`: the kill switch (see revoke.ts for the shared logic). */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { runTask, taskEnv } from "../common.js";
import { runRevokeAll, type RevokeAllTaskArguments } from "./revoke.js";

/** The task action of `session revoke-all`. */
export default async function revokeAllAction(
  args: RevokeAllTaskArguments,
  hre: HardhatRuntimeEnvironment,
): Promise<void> {
  await runTask(async () => runRevokeAll(args, await taskEnv(hre, args.json)));
}
