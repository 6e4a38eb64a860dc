/**
 * The Leash story, end to end, on a local Hardhat network: deploy, create the owner's account, grant an agent a
 * session signed on the (emulated) Ledger, let the agent spend within budget, watch an over-budget and an
 * out-of-scope op fail with their reasons, move to the next period and spend again, pull the kill switch, and watch
 * the agent's next op fail. `npm run demo` prints it; test/demo/story.ts runs it and checks the key lines.
 */
import type { NetworkConnection } from "hardhat/types/network";
import { formatUnits, parseEther, parseUnits, Wallet, type HDNodeWallet } from "ethers";

import { getSessionStatus } from "../../client/actions.js";
import { sendSessionUserOp, type AgentSession, type SessionCall } from "../../client/agent.js";
import { bundlerTimeHint, createBundlerClient, type BundlerClient } from "../../client/bundler.js";
import { UserOpRefusedError } from "../../client/errors.js";
import { ownerAuthorization } from "../../client/owner.js";
import { NATIVE_ASSET, sessionInstallArgs, type SessionDescription } from "../../client/session.js";
import { deployLeashDeterministic } from "../../deploy/deployLeash.js";

const DAY = 86_400n;
/** How far in the past the demo's session starts, in seconds (see where it is used). */
const CLOCK_SKEW_ALLOWANCE = 60n;
const USDC_DECIMALS = 6;
const SESSION_ID = 1;
/** Gas the agent's ops declare (the native budget pays the maximum: these limits times maxFeePerGas). */
const AGENT_GAS = {
  verificationGasLimit: 400_000n,
  callGasLimit: 200_000n,
  preVerificationGas: 60_000n,
  maxFeePerGas: 2_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
};
/** Fee fields for the owner's Ledger transactions (hardhat-ledger signs only fully specified transactions). */
const LEDGER_TX_FEES = { gasLimit: 1_500_000n, maxFeePerGas: 3_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };

/** How the demo's agent sends its ops. */
export interface DemoOptions {
  /**
   * Starts a bundler (Alto) against the same node once the EntryPoint is deployed, and returns its JSON-RPC URL: the
   * agent's ops then go through `eth_sendUserOperation`, with gas estimated by the bundler. Without it they go
   * straight to `EntryPoint.handleOps`.
   */
  startBundler?: (entryPoint: string) => Promise<string>;
  /** Ignition's deployment id (for a local node started for the demo: its journal must be new). */
  deploymentId?: string;
}

/** Runs the story on `connection`, where `owner` is an address the connection's Ledger controls. */
export async function runDemo(
  connection: NetworkConnection,
  owner: HDNodeWallet,
  log: (line: string) => void,
  options: DemoOptions = {},
): Promise<void> {
  const { ethers, networkHelpers } = connection;
  const [deployer, bundler] = await ethers.getSigners();
  if (deployer === undefined || bundler === undefined) throw new Error("the demo needs two funded signers");
  const usdc = (amount: bigint) => `${formatUnits(amount, USDC_DECIMALS)} USDC`;

  log("1. Deploying Leash (EntryPoint v0.8 at its canonical address, modules at CREATE2 addresses)");
  const book = await deployLeashDeterministic(connection, await deployer.getAddress(), options.deploymentId);
  log(`   EntryPoint ${book.entryPoint}`);
  log(`   session module ${book.sessionModule}, spend-limit hook ${book.spendLimitHook}, factory ${book.factory}`);
  const entryPoint = await ethers.getContractAt("EntryPoint", book.entryPoint);
  let bundlerClient: BundlerClient | undefined;
  if (options.startBundler === undefined) {
    log("   the agent's ops go straight to EntryPoint.handleOps (no bundler)");
  } else {
    const bundlerUrl = await options.startBundler(book.entryPoint);
    bundlerClient = createBundlerClient(bundlerUrl, book.entryPoint);
    log(`   the agent's ops go through the bundler at ${bundlerUrl}`);
  }
  const factory = await ethers.getContractAt("AccountFactory", book.factory);
  const sessionModule = await ethers.getContractAt("SessionKeyValidationModule", book.sessionModule);
  const spendLimitHook = await ethers.getContractAt("SpendLimitHook", book.spendLimitHook);

  log(`2. Creating the account of the Ledger owner ${owner.address}`);
  await (await factory.createAccount(owner.address, 0n)).wait();
  const accountAddress = await factory.getAccountAddress(owner.address, 0n);
  const account = await ethers.getContractAt("ModularAccount", accountAddress);
  const token = await ethers.deployContract("TestToken", ["USD Coin (demo)", "USDC", USDC_DECIMALS]);
  await (await token.mint(accountAddress, parseUnits("1000", USDC_DECIMALS))).wait();
  await (await deployer.sendTransaction({ to: accountAddress, value: parseEther("1") })).wait();
  await (await deployer.sendTransaction({ to: owner.address, value: parseEther("1") })).wait();
  log(`   account ${accountAddress} holds 1 ETH and ${usdc(parseUnits("1000", USDC_DECIMALS))}`);

  const agent = Wallet.createRandom();
  const merchant = Wallet.createRandom().address;
  const stranger = Wallet.createRandom().address;
  // Bundlers check an op's validity window against their own clock, and may simulate the bundle at a time other
  // than the chain's latest block: start the session a little in the past, so that an op sent in the same second
  // as the grant is already due (validity starts strictly after validAfter) whichever clock is asked.
  const now = bundlerTimeHint(BigInt(await networkHelpers.time.latest())) - CLOCK_SKEW_ALLOWANCE;
  const session: SessionDescription = {
    account: accountAddress,
    sessionId: SESSION_ID,
    agent: agent.address,
    validAfter: now,
    validUntil: now + 7n * DAY,
    valueCapPerCall: 0n,
    canSignMessages: false,
    scope: [{ target: await token.getAddress(), selector: token.interface.getFunction("transfer").selector }],
    budgets: [
      { asset: NATIVE_ASSET, limit: parseEther("0.05"), period: DAY, perCallCap: 0n },
      { asset: await token.getAddress(), limit: parseUnits("100", USDC_DECIMALS), period: DAY, perCallCap: 0n },
    ],
    paymasters: [],
    epoch: 0,
    nonce: 1n,
  };
  log("3. The owner grants the agent a session, signed on the Ledger:");
  log(`   agent ${agent.address} (its key never leaves the agent)`);
  log(
    `   valid ${new Date(Number(now) * 1000).toISOString()} to ${new Date(Number(now + 7n * DAY) * 1000).toISOString()}`,
  );
  log(`   may call USDC.transfer only; budgets: 100 USDC per day, 0.05 ETH per day for gas`);
  const authorization = ownerAuthorization(book.ownerModule);
  const ledgerSigner = await ethers.getSigner(owner.address);
  const install = account.interface.encodeFunctionData(
    "installValidation",
    sessionInstallArgs(session, { sessionModule: book.sessionModule, spendLimitHook: book.spendLimitHook }),
  );
  log("   confirm on your Ledger… (emulated)");
  await (
    await account.connect(ledgerSigner).executeWithRuntimeValidation(install, authorization, LEDGER_TX_FEES)
  ).wait();
  log(`   session ${SESSION_ID} granted`);

  const agentSession: AgentSession = {
    entryPoint,
    account: accountAddress,
    sessionModule: book.sessionModule,
    sessionId: SESSION_ID,
    signingKey: agent.signingKey,
  };
  /** The agent's op for one call: through the bundler when there is one (unless `direct`), else to handleOps. */
  const send = (call: SessionCall, direct = false) =>
    sendSessionUserOp({
      session: agentSession,
      calls: [call],
      gas: AGENT_GAS,
      via: bundlerClient !== undefined && !direct ? { bundler: bundlerClient } : { submitter: bundler },
    });
  const pay = async (to: string, amount: bigint, direct = false) =>
    send(
      {
        target: await token.getAddress(),
        value: 0n,
        data: token.interface.encodeFunctionData("transfer", [to, amount]),
      },
      direct,
    );
  const attempt = async (label: string, to: string, amount: bigint, direct = false) => {
    try {
      const result = await pay(to, amount, direct);
      log(`   ${label}: ${result.success ? "paid" : "reverted in execution"}`);
    } catch (error) {
      if (!(error instanceof UserOpRefusedError)) throw error;
      log(`   ${label}: REFUSED (${error.name}) ${error.message}`);
    }
  };
  const remaining = async () => {
    const status = await getSessionStatus({
      sessionModule,
      spendLimitHook,
      account: accountAddress,
      sessionId: SESSION_ID,
      assets: [await token.getAddress()],
    });
    return usdc(status.budgets[0]!.remaining);
  };

  log("4. The agent spends within its budget");
  await attempt(`pay the merchant ${usdc(parseUnits("60", USDC_DECIMALS))}`, merchant, parseUnits("60", USDC_DECIMALS));
  log(`   remaining today: ${await remaining()}`);

  log("5. The agent tries to overspend, then to pay outside its scope");
  await attempt(`pay the merchant ${usdc(parseUnits("50", USDC_DECIMALS))}`, merchant, parseUnits("50", USDC_DECIMALS));
  const outOfScope = async () => {
    // USDC.approve is not in the scope (only transfer is): an approval would let the stranger pull funds later.
    const approve = token.interface.encodeFunctionData("approve", [stranger, parseUnits("1", USDC_DECIMALS)]);
    try {
      await send({ target: await token.getAddress(), value: 0n, data: approve });
      log("   approve a stranger to pull 1 USDC: approved");
    } catch (error) {
      if (!(error instanceof UserOpRefusedError)) throw error;
      log(`   approve a stranger to pull 1 USDC: REFUSED (${error.name}) ${error.message}`);
    }
  };
  await outOfScope();

  log("6. A day later the budget has refilled");
  await networkHelpers.time.increase(DAY);
  log(`   remaining today: ${await remaining()}`);
  if (bundlerClient !== undefined) {
    log("   (the local chain jumped a day ahead of the bundler's clock, so this op goes straight to the EntryPoint)");
  }
  await attempt(
    `pay the merchant ${usdc(parseUnits("50", USDC_DECIMALS))}`,
    merchant,
    parseUnits("50", USDC_DECIMALS),
    true,
  );

  log("7. The owner pulls the kill switch on the Ledger");
  const revokeAll = account.interface.encodeFunctionData("execute", [
    book.sessionModule,
    0n,
    sessionModule.interface.encodeFunctionData("revokeAll"),
  ]);
  log("   confirm on your Ledger… (emulated)");
  await (
    await account.connect(ledgerSigner).executeWithRuntimeValidation(revokeAll, authorization, LEDGER_TX_FEES)
  ).wait();
  await attempt(`pay the merchant ${usdc(parseUnits("1", USDC_DECIMALS))}`, merchant, parseUnits("1", USDC_DECIMALS));
  log(`8. The merchant received ${usdc(await token.balanceOf(merchant))} in total. Done.`);
}
