/**
 * The agent's side of Leash, end to end (issue 16), on a local `hardhat node`:
 * 1. the agent makes its key and asks for a permission in ERC-7715's shape (USDC per day to one merchant, ETH per
 *    day for its gas);
 * 2. the owner reviews the same summary as any grant and signs it on the (emulated) Ledger; a relayer submits it;
 *    the agent gets the ERC-7715 response, whose context carries its session;
 * 3. the agent's MCP server (`leash-mcp`, a child process) is driven over stdio by a scripted MCP client: it lists
 *    the tools the policy allows, checks its status, pays within budget, and is refused over budget with when the
 *    budget resets;
 * 4. the owner pulls the kill switch on the Ledger, and the next tool call is refused: nothing is signed.
 * Every MCP request and result is printed: the transcript. `npm run demo:agent` runs it; test/demo/agentDemo.ts
 * checks it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { NetworkConnection } from "hardhat/types/network";
import { HDNodeWallet, parseEther, parseUnits, toBeHex, Wallet } from "ethers";

import type { LeashChainAddresses } from "../../client/addresses.js";
import { prepareGrant } from "../../client/grant.js";
import {
  grantInputFromPermissionRequest,
  permissionResponse,
  type PermissionRequest,
} from "../../client/permissions.js";
import { sessionFileOf } from "../../client/sessionFile.js";
import { signAllSessionsRevocation, signSessionGrant } from "../../client/signed.js";
import { submitSignedFile } from "../../client/submit.js";
import { deployLeashDeterministic } from "../../deploy/deployLeash.js";
import { LedgerClearSigner, type ClearSigningPreview } from "../../packages/hardhat/src/ledger/ledgerTypedData.js";
import { summarizeGrant } from "../../packages/hardhat/src/tasks/summary.js";
import { NATIVE_ASSET } from "../../client/session.js";
import { startCalStandIn } from "../../test/helpers/calStandIn.js";

const DAY = 86_400;
const USDC_DECIMALS = 6;
const BIN = path.join(import.meta.dirname, "../../packages/tools/src/bin.ts");
const ROOT = path.join(import.meta.dirname, "../..");

/** Runs the agent story on `connection` (a local node at `rpcUrl`), `owner` being the emulated Ledger's address. */
export async function runAgentDemo(
  connection: NetworkConnection,
  rpcUrl: string,
  owner: HDNodeWallet,
  submitterKey: string,
  log: (line: string) => void,
  deploymentId?: string,
): Promise<void> {
  const { ethers } = connection;
  const [deployer] = await ethers.getSigners();
  if (deployer === undefined) throw new Error("the demo needs a funded signer");
  const folder = mkdtempSync(path.join(tmpdir(), "leash-agent-demo-"));
  let client: Client | undefined;
  try {
    log("1. Deploying Leash and the owner's account (1 ETH, 1,000 USDC)");
    const book = await deployLeashDeterministic(connection, await deployer.getAddress(), deploymentId);
    const factory = await ethers.getContractAt("AccountFactory", book.factory);
    await (await factory.createAccount(owner.address, 0n)).wait();
    const account = await factory.getAccountAddress(owner.address, 0n);
    await (await deployer.sendTransaction({ to: account, value: parseEther("1") })).wait();
    const token = await ethers.deployContract("TestToken", ["USD Coin (demo)", "USDC", USDC_DECIMALS]);
    const usdc = await token.getAddress();
    await (await token.mint(account, parseUnits("1000", USDC_DECIMALS))).wait();
    const merchant = Wallet.createRandom().address;
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const addresses: LeashChainAddresses = {
      chainId,
      entryPoint: book.entryPoint,
      factory: book.factory,
      ownerModule: book.ownerModule,
      sessionModule: book.sessionModule,
      spendLimitHook: book.spendLimitHook,
      tokens: { USDC: usdc },
      fromBlock: 0,
    };

    log("2. The agent makes its key and asks for a permission (ERC-7715 wallet_grantPermissions):");
    const agent = Wallet.createRandom();
    const expiry = (await ethers.provider.getBlock("latest"))!.timestamp + 7 * DAY;
    const base = {
      chainId: toBeHex(chainId),
      address: account,
      expiry,
      signer: { type: "account", data: { address: agent.address } },
      policies: [],
    };
    const requests: PermissionRequest[] = [
      {
        ...base,
        permission: {
          type: "erc20-token-periodic",
          data: {
            tokenAddress: usdc,
            periodAmount: toBeHex(parseUnits("100", USDC_DECIMALS)),
            periodDuration: DAY,
            recipients: [merchant],
          },
        },
      },
      {
        ...base,
        permission: {
          type: "native-token-periodic",
          data: { periodAmount: toBeHex(parseEther("0.05")), periodDuration: DAY },
        },
      },
    ];
    for (const line of JSON.stringify(requests, null, 2).split("\n")) log(`   ${line}`);

    log("3. The owner reviews it (the same summary as any grant) and signs on the Ledger:");
    const cal = await startCalStandIn({
      tokens: [
        { address: NATIVE_ASSET, ticker: "ETH", decimals: 18 },
        { address: usdc, ticker: "USDC", decimals: USDC_DECIMALS },
      ],
    });
    const device = (action: string) =>
      new LedgerClearSigner(owner.address, ethers.provider, {
        async onClearSignable(preview: ClearSigningPreview) {
          log(`   your Ledger shows (${action}):`);
          for (const field of preview.fields) log(`     ${field.label}: ${field.value}`);
          log("   approve on your Ledger… (emulated)");
        },
      });
    const { input } = await grantInputFromPermissionRequest({ requests, provider: ethers.provider, chainId });
    const plan = await prepareGrant({ provider: ethers.provider, addresses, owner: owner.address, input });
    for (const line of summarizeGrant(plan, "signature")) log(`   ${line}`);
    const grant = await signSessionGrant({ signer: device("grant"), plan });
    await submitSignedFile({ signer: deployer, file: grant, addresses });
    const responseFile = path.join(folder, "permission-response.json");
    writeFileSync(responseFile, JSON.stringify(permissionResponse(requests, sessionFileOf(plan)), null, 2));
    log(`   granted; the agent gets the ERC-7715 response (its context carries session ${plan.session.sessionId})`);

    log("4. The agent starts its MCP server (leash-mcp) and a scripted MCP client drives it:");
    const keyFile = path.join(folder, "agent.key");
    writeFileSync(keyFile, agent.privateKey + "\n", { mode: 0o600 });
    const submitterFile = path.join(folder, "submitter.key");
    writeFileSync(submitterFile, submitterKey + "\n", { mode: 0o600 });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        "--import",
        "tsx",
        BIN,
        "--grant",
        responseFile,
        "--agent-key",
        keyFile,
        "--rpc-url",
        rpcUrl,
        "--submitter-key",
        submitterFile,
      ],
      cwd: ROOT,
      stderr: "ignore",
    });
    client = new Client({ name: "leash-demo-agent", version: "0.1.0" });
    await client.connect(transport);
    const { tools } = await client.listTools();
    log(`   tools/list -> ${tools.map((tool) => tool.name).join(", ")}`);
    const call = async (name: string, args: Record<string, unknown>) => {
      log(`   > ${name} ${JSON.stringify(args)}`);
      const result = await client!.callTool({ name, arguments: args });
      const text = (result.content as { text: string }[])[0]!.text;
      log(`   < ${text}`);
      return JSON.parse(text) as Record<string, unknown>;
    };
    const status = await call("session_status", {});
    log(`   the session is ${String(status.state)}`);
    await call("pay", { asset: "USDC", to: merchant, amount: "60" });
    const over = await call("pay", { asset: "USDC", to: merchant, amount: "50" });
    log(
      `   refused ${String(over.refused)}: ${String(over.remaining)} USDC left, it resets at ${String(over.resetsAt)}`,
    );

    log("5. The owner pulls the kill switch on the Ledger");
    const kill = await signAllSessionsRevocation({ signer: device("kill switch"), target: { addresses, account } });
    await submitSignedFile({ signer: deployer, file: kill, addresses });
    await cal.stop();
    const after = await call("pay", { asset: "USDC", to: merchant, amount: "1" });
    log(`   refused ${String(after.refused)}: nothing was signed`);
    log(
      `6. The merchant received ${Number(await token.balanceOf(merchant)) / 10 ** USDC_DECIMALS} USDC in total. Done.`,
    );
  } finally {
    await client?.close();
    rmSync(folder, { recursive: true, force: true });
  }
}
