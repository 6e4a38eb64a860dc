import { Interface, type Signer, type Wallet } from "ethers";

import { EntryPoint__factory, sendSessionUserOp, UserOpRefusedError } from "../client/index.js";

/** What the owner's grant tells the agent (the `session grant` task writes it). */
export interface Grant {
  entryPoint: string;
  account: string;
  sessionModule: string;
  sessionId: number;
}

const erc20 = new Interface(["function transfer(address to, uint256 amount)"]);

/** Pays `amount` of `token` to `to` from the account, under the session, signed with the agent's key. */
export async function pay(
  grant: Grant,
  agentKey: Wallet,
  submitter: Signer,
  token: string,
  to: string,
  amount: bigint,
) {
  const entryPoint = EntryPoint__factory.connect(grant.entryPoint, submitter);
  try {
    const { success } = await sendSessionUserOp({
      session: { ...grant, entryPoint, signingKey: agentKey.signingKey },
      calls: [{ target: token, value: 0n, data: erc20.encodeFunctionData("transfer", [to, amount]) }],
      gas: {
        verificationGasLimit: 400_000n,
        callGasLimit: 200_000n,
        preVerificationGas: 60_000n,
        maxFeePerGas: 2_000_000_000n,
        maxPriorityFeePerGas: 1_000_000_000n,
      },
      via: { submitter }, // or { bundler: createBundlerClient({ url: bundlerUrl, entryPoint: grant.entryPoint }) }
    });
    return success ? "paid" : "reverted in execution";
  } catch (error) {
    if (error instanceof UserOpRefusedError) return `refused (${error.name}): ${error.message}`;
    throw error;
  }
}
