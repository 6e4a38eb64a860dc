/**
 * A task environment for tests: Hardhat's in-process network whose `ledgerAccounts` is the emulated Ledger's owner,
 * Leash deployed, an address book in a temporary folder, and an IO that records what a task printed and answers its
 * confirmation prompt.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { parseEther, parseUnits } from "ethers";

import type { LeashChainAddresses } from "../../client/addresses.js";
import type { LeashInputError } from "../../client/inputErrors.js";
import { saveLeashAddresses } from "../../client/node.js";
import { sendUserOpDirect } from "../../client/actions.js";
import { encodeSessionCalls } from "../../client/agent.js";
import { encodeOwnerCall } from "../../client/owner.js";
import { encodeTimeHint, sessionNonceKey } from "../../client/session.js";
import { buildUserOp, signUserOp } from "../../client/userOp.js";
import { ModularAccount__factory } from "../../typechain-types/index.js";
import type { TaskEnv, TaskIO } from "../../packages/hardhat/src/tasks/common.js";
import { EmulatedLedger } from "./emulatedLedger.js";
import { deployLeash, OWNER_PATH, TEST_MNEMONIC, testWallet } from "./fixture.js";

/** Records a task's output; answers confirmations with `answer`. */
export class RecordingIO implements TaskIO {
  readonly lines: string[] = [];
  readonly progressLines: string[] = [];
  readonly questions: string[] = [];
  answer = true;

  out(line: string): void {
    this.lines.push(line);
  }

  progress(line: string): void {
    this.progressLines.push(line);
  }

  async confirm(question: string): Promise<boolean> {
    this.questions.push(question);
    return this.answer;
  }

  /** Everything printed, in one string. */
  get text(): string {
    return [...this.progressLines, ...this.lines].join("\n");
  }
}

/** The agent's path on the test mnemonic (its key is the agent's; the owner only sees its address). */
export const TASK_AGENT_PATH = "m/44'/60'/5'/0/0";

/** One emulated Ledger for every task test file. */
export const taskLedger = new EmulatedLedger(TEST_MNEMONIC);
export const taskOwner = taskLedger.wallet(OWNER_PATH);

/** A connection whose Ledger account is the emulated owner. */
export async function ledgerConnection(): Promise<NetworkConnection> {
  return network.create({ override: { ledgerAccounts: [taskOwner.address] } });
}

/** Deploys Leash and a 6-decimal USDC, writes the address book, funds the owner. For `loadFixture`. */
export async function deployForTasks(connection: NetworkConnection) {
  const { ethers } = connection;
  const deployment = await deployLeash(ethers);
  const usdc = await ethers.deployContract("TestToken", ["USD Coin", "USDC", 6]);
  const [funder] = await ethers.getSigners();
  await (await funder!.sendTransaction({ to: taskOwner.address, value: parseEther("10") })).wait();
  const { chainId } = await ethers.provider.getNetwork();
  const addresses: LeashChainAddresses = {
    chainId,
    entryPoint: await deployment.entryPoint.getAddress(),
    factory: await deployment.factory.getAddress(),
    ownerModule: await deployment.ownerModule.getAddress(),
    sessionModule: await deployment.sessionModule.getAddress(),
    spendLimitHook: await deployment.spendLimitHook.getAddress(),
    tokens: { USDC: await usdc.getAddress() },
    fromBlock: 0,
  };
  const dir = await mkdtemp(path.join(tmpdir(), "leash-tasks-"));
  const addressesFile = path.join(dir, "addresses.json");
  await saveLeashAddresses(addressesFile, addresses);
  const agent = testWallet(ethers, TASK_AGENT_PATH);
  const recipient = testWallet(ethers, "m/44'/60'/9'/0/0").address;
  return { ...deployment, usdc, addresses, addressesFile, dir, agent, recipient };
}

/** Deploys the owner's account directly (not through the task) and funds it with 1 ETH and 1,000 USDC. */
export async function deployOwnerAccount(connection: NetworkConnection, f: Awaited<ReturnType<typeof deployForTasks>>) {
  await (await f.factory.createAccount(taskOwner.address, 0n)).wait();
  const account = await f.factory.getAccountAddress(taskOwner.address, 0n);
  const [funder] = await connection.ethers.getSigners();
  await (await funder!.sendTransaction({ to: account, value: parseEther("1") })).wait();
  await (await f.usdc.mint(account, parseUnits("1000", 6))).wait();
  return account;
}

/**
 * The owner makes the account approve `spender` for `amount` of `token` (`executeWithRuntimeValidation` with the
 * owner's authorization, sent from the owner's key as the Ledger would): a standing allowance a grant must show.
 */
export async function ownerApproves(
  connection: NetworkConnection,
  f: Awaited<ReturnType<typeof deployForTasks>>,
  account: string,
  spender: string,
  amount: bigint,
  token: string = f.addresses.tokens.USDC!,
) {
  const approve = f.usdc.interface.encodeFunctionData("approve", [spender, amount]);
  const execute = ModularAccount__factory.createInterface().encodeFunctionData("execute", [token, 0n, approve]);
  const owner = taskOwner.connect(connection.ethers.provider);
  const tx = await owner.sendTransaction({ to: account, data: encodeOwnerCall(f.addresses.ownerModule, execute) });
  await tx.wait();
}

/** A task environment on `connection` recording into a fresh IO. */
export function testEnv(connection: NetworkConnection, root: string): { env: TaskEnv; io: RecordingIO } {
  const io = new RecordingIO();
  return { env: { connection, root, io }, io };
}

/** Gas the agent's test ops declare (charged to the ETH budget at maxFeePerGas). */
const AGENT_GAS = {
  verificationGasLimit: 400_000n,
  callGasLimit: 200_000n,
  preVerificationGas: 60_000n,
  maxFeePerGas: 2_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
};

/** The agent pays `amount` USDC to `to` through its session, as a user op sent straight to handleOps. */
export async function agentPaysUsdc(
  connection: NetworkConnection,
  f: Awaited<ReturnType<typeof deployForTasks>>,
  account: string,
  sessionId: number,
  to: string,
  amount: bigint,
) {
  const { ethers, networkHelpers } = connection;
  const callData = encodeSessionCalls([
    {
      target: await f.usdc.getAddress(),
      value: 0n,
      data: f.usdc.interface.encodeFunctionData("transfer", [to, amount]),
    },
  ]);
  const time = BigInt(await networkHelpers.time.latest()) + 1n;
  const unsigned = await buildUserOp({
    entryPoint: f.entryPoint,
    sender: account,
    callData,
    nonceKey: sessionNonceKey(f.addresses.sessionModule, sessionId),
    gas: AGENT_GAS,
  });
  const { op } = await signUserOp({
    entryPoint: f.entryPoint,
    op: unsigned,
    signingKey: f.agent.signingKey,
    selection: {
      validation: { module: f.addresses.sessionModule, entityId: sessionId },
      isGlobal: false,
      hookData: [encodeTimeHint(time)],
    },
  });
  await networkHelpers.time.setNextBlockTimestamp(time);
  const [, bundler] = await ethers.getSigners();
  return sendUserOpDirect({ entryPoint: f.entryPoint, submitter: bundler!, op });
}

/** Expects `promise` to reject with `errorClass` and a message matching `message`. */
export async function expectRefusal(
  promise: Promise<unknown>,
  errorClass: new (...args: never[]) => LeashInputError,
  message: RegExp,
) {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(errorClass);
    expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected a ${errorClass.name}`);
}
