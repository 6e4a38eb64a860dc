/**
 * The network hook of the ERC-7562 check plugin (see index.ts): before an in-process node runs `handleOps`, each op
 * that does not deploy its account is replayed as the EntryPoint's `validateUserOp` call under the opcode tracer.
 */
import type { HookContext, NetworkHooks } from "hardhat/types/hooks";
import type { ChainType, NetworkConnection } from "hardhat/types/network";
import type { JsonRpcRequest } from "hardhat/types/providers";
import { Interface, type Result } from "ethers";

import { checkAccountValidation } from "../../helpers/erc7562.js";

const PACKED_USER_OP =
  "(address sender, uint256 nonce, bytes initCode, bytes callData, bytes32 accountGasLimits, " +
  "uint256 preVerificationGas, bytes32 gasFees, bytes paymasterAndData, bytes signature)";
const entryPointInterface = new Interface([
  `function handleOps(${PACKED_USER_OP}[] ops, address beneficiary)`,
  `function getUserOpHash(${PACKED_USER_OP} userOp) view returns (bytes32)`,
]);
const accountInterface = new Interface([
  `function validateUserOp(${PACKED_USER_OP} userOp, bytes32 userOpHash, uint256 missingAccountFunds)`,
]);
const HANDLE_OPS = entryPointInterface.getFunction("handleOps")!.selector;

interface TransactionRequest {
  to?: string;
  data?: string;
  input?: string;
}

/** The ERC-7562 violations of every op in a handleOps call; one line per violation. */
async function violationsOf(
  connection: NetworkConnection<ChainType | string>,
  entryPoint: string,
  data: string,
): Promise<string[]> {
  const provider = {
    send: (method: string, params: unknown[]) => connection.provider.request({ method, params }),
    getCode: async (address: string) =>
      String(await connection.provider.request({ method: "eth_getCode", params: [address, "latest"] })),
  };
  const [ops] = entryPointInterface.decodeFunctionData("handleOps", data) as unknown as [Result[]];
  const lines: string[] = [];
  for (const op of ops) {
    const [sender, , initCode] = op as unknown as [string, bigint, string];
    if (initCode !== "0x") continue; // the account does not exist yet: nothing to replay
    const hashCall = entryPointInterface.encodeFunctionData("getUserOpHash", [op]);
    const hash = String(await provider.send("eth_call", [{ to: entryPoint, data: hashCall }, "latest"]));
    const calldata = accountInterface.encodeFunctionData("validateUserOp", [op, hash, 0n]);
    const { violations, reverted } = await checkAccountValidation(provider, entryPoint, sender, calldata);
    if (reverted) continue; // refused in validation: the EntryPoint refuses the op anyway
    for (const v of violations) lines.push(`${v.rule} ${v.opcode} in ${v.code}: ${v.detail}`);
  }
  return lines;
}

export default async (): Promise<Partial<NetworkHooks>> => ({
  async onRequest<ChainTypeT extends ChainType | string>(
    context: HookContext,
    connection: NetworkConnection<ChainTypeT>,
    request: JsonRpcRequest,
    next: (
      nextContext: HookContext,
      nextConnection: NetworkConnection<ChainTypeT>,
      nextRequest: JsonRpcRequest,
    ) => Promise<import("hardhat/types/providers").JsonRpcResponse>,
  ) {
    if (
      request.method === "eth_sendTransaction" &&
      connection.networkConfig.type === "edr-simulated" &&
      context.globalOptions.coverage !== true &&
      Array.isArray(request.params)
    ) {
      const tx = request.params[0] as TransactionRequest | undefined;
      const data = tx?.data ?? tx?.input;
      if (tx?.to !== undefined && data !== undefined && data.startsWith(HANDLE_OPS)) {
        const lines = await violationsOf(connection, tx.to, data);
        if (lines.length > 0) throw new Error(`ERC-7562 violations in the op's validation:\n${lines.join("\n")}`);
      }
    }
    return next(context, connection, request);
  },
});
