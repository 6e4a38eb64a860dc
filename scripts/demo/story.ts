/**
 * The Leash story, end to end, on a local Hardhat network: deploy, create the owner's account, grant an agent a
 * session clear-signed on the (emulated) Ledger and carried on chain by a relayer, let the agent spend within budget,
 * watch an over-budget and an out-of-scope op fail with their reasons, move to the next period and spend again, pull
 * the kill switch (signed on the Ledger, relayed), and watch the agent's next op fail. At each approval it prints
 * what the device shows, field by field: the same preview the device suite checks against Ledger's real app
 * (docs/DEVICE.md). `npm run demo` prints it; test/demo/story.ts runs it and checks the key lines.
 */
import type { NetworkConnection } from "hardhat/types/network";
import { formatUnits, parseEther, parseUnits, Wallet, type HDNodeWallet } from "ethers";

import { getSessionStatus } from "../../client/actions.js";
import type { LeashChainAddresses } from "../../client/addresses.js";
import { prepareGrant } from "../../client/grant.js";
import { LedgerClearSigner, type ClearSigningPreview } from "../../packages/hardhat/src/ledger/ledgerTypedData.js";
import { signAllSessionsRevocation, signSessionGrant } from "../../client/signed.js";
import { submitSignedFile } from "../../client/submit.js";
import { splitList } from "../../packages/hardhat/src/tasks/input.js";
import { sendSessionUserOp, type AgentSession, type SessionCall } from "../../client/agent.js";
import { bundlerTimeHint, createBundlerClient, type BundlerClient } from "../../client/bundler.js";
import { UserOpRefusedError } from "../../client/errors.js";
import { NATIVE_ASSET } from "../../client/session.js";
import { deployLeashDeterministic } from "../../deploy/deployLeash.js";
import { startCalStandIn } from "../../test/helpers/calStandIn.js";
import { demoGrantOptions } from "./grant.js";

const DAY = 86_400n;
/** An ISO 8601 time in whole seconds, as the grant's options take it. */
const isoSeconds = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().replace(/\.\d+Z$/, "Z");
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
    bundlerClient = createBundlerClient({ url: bundlerUrl, entryPoint: book.entryPoint });
    log(`   the agent's ops go through the bundler at ${bundlerUrl}`);
  }
  const factory = await ethers.getContractAt("AccountFactory", book.factory);
  const sessionModule = await ethers.getContractAt("SessionKeyValidationModule", book.sessionModule);
  const spendLimitHook = await ethers.getContractAt("SpendLimitHook", book.spendLimitHook);

  log(`2. Creating the account of the Ledger owner ${owner.address}`);
  log(`   sent by ${await deployer.getAddress()}, a hot key: the Ledger signs nothing to create it`);
  await (await factory.createAccount(owner.address, 0n)).wait();
  const accountAddress = await factory.getAccountAddress(owner.address, 0n);
  await (await deployer.sendTransaction({ to: accountAddress, value: parseEther("1") })).wait();
  const token = await ethers.deployContract("TestToken", ["USD Coin (demo)", "USDC", USDC_DECIMALS]);
  await (await token.mint(accountAddress, parseUnits("1000", USDC_DECIMALS))).wait();
  const agent = Wallet.createRandom();
  const merchant = Wallet.createRandom().address;
  const stranger = Wallet.createRandom().address;
  const addresses: LeashChainAddresses = {
    chainId: (await ethers.provider.getNetwork()).chainId,
    entryPoint: book.entryPoint,
    factory: book.factory,
    ownerModule: book.ownerModule,
    sessionModule: book.sessionModule,
    spendLimitHook: book.spendLimitHook,
    tokens: { USDC: await token.getAddress() },
    fromBlock: 0,
  };
  // What Ledger's services would serve a real device: the display rules of docs/erc7730 and the tokens' information
  // (signed with Ledger's public test key; the emulated device checks no signature).
  const cal = await startCalStandIn({
    tokens: [
      { address: NATIVE_ASSET, ticker: "ETH", decimals: 18 },
      { address: await token.getAddress(), ticker: "USDC", decimals: USDC_DECIMALS },
    ],
  });
  const relayer = deployer;
  const device = (action: string) =>
    new LedgerClearSigner(owner.address, ethers.provider, {
      async onClearSignable(preview: ClearSigningPreview) {
        log(`   your Ledger shows (${action}):`);
        log(`     Contract: ${preview.contract}`);
        for (const field of preview.fields) log(`     ${field.label}: ${field.value}`);
        log("   approve on your Ledger… (emulated)");
      },
    });
  // Bundlers check an op's validity window against their own clock, and may simulate the bundle at a time other
  // than the chain's latest block: start the session a little in the past, so that an op sent in the same second
  // as the grant is already due (validity starts strictly after validAfter) whichever clock is asked.
  const now = bundlerTimeHint(BigInt(await networkHelpers.time.latest())) - CLOCK_SKEW_ALLOWANCE;
  const demoGrant = demoGrantOptions(await token.getAddress());
  const plan = await prepareGrant({
    provider: ethers.provider,
    addresses,
    owner: owner.address,
    input: {
      account: accountAddress,
      agent: agent.address,
      validAfter: isoSeconds(now),
      validUntil: isoSeconds(now + 7n * DAY),
      allow: splitList(demoGrant.allow),
      budgets: splitList(demoGrant.budget),
      sessionId: String(SESSION_ID),
    },
  });
  log("3. The owner grants the agent a session, clear-signed on the Ledger:");
  log(`   agent ${agent.address} (its key never leaves the agent)`);
  const grant = await signSessionGrant({ signer: device("grant"), plan });
  await submitSignedFile({ signer: relayer, file: grant, addresses });
  log(`   session ${SESSION_ID} granted (submitted by the relayer ${await relayer.getAddress()}, not the Ledger)`);

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
  const kill = await signAllSessionsRevocation({
    signer: device("kill switch"),
    target: { addresses, account: accountAddress },
  });
  await submitSignedFile({ signer: relayer, file: kill, addresses });
  log(`   every session revoked (submitted by the relayer ${await relayer.getAddress()}, not the Ledger)`);
  await cal.stop();
  await attempt(`pay the merchant ${usdc(parseUnits("1", USDC_DECIMALS))}`, merchant, parseUnits("1", USDC_DECIMALS));
  log(`8. The merchant received ${usdc(await token.balanceOf(merchant))} in total. Done.`);
}
