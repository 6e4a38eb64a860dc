/**
 * EntryPoint v0.7 through a real bundler (issue 14, item 2): Alchemy MAv2 accounts in the field run behind v0.7, so
 * an agent on one sends its ops to a v0.7 bundler. A local `hardhat node`, the canonical EntryPoint v0.7 deployed the
 * canonical way, Leash's modules built for it, an MAv2 semi-modular account whose owner grants a session with the
 * client's owner functions (its built-in signer, found from `accountId()`), and Pimlico's Alto started for v0.7: the
 * agent's ops go through `eth_estimateUserOperationGas` and `eth_sendUserOperation`, signed over v0.7's op hash.
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { Interface, parseEther, parseUnits, Wallet, ZeroAddress, type Contract } from "ethers";

import { sendSessionUserOp, type AgentSession } from "../../client/agent.js";
import { createBundlerClient, type BundlerClient } from "../../client/bundler.js";
import { SpendLimitExceededError } from "../../client/errors.js";
import { prepareGrant } from "../../client/grant.js";
import { grantSession } from "../../client/owner.js";
import { NATIVE_ASSET } from "../../client/session.js";
import { ENTRY_POINT_V07, ensureEntryPoint } from "../../deploy/entryPoint.js";
import { startAlto, startHardhatNode, type LocalService } from "../../scripts/local/services.js";
import { EntryPoint__factory, SpendLimitHook__factory } from "../../typechain-types/index.js";
import { COMPAT_RUN, foreignAccounts } from "./accounts.js";

const erc20 = new Interface(["function transfer(address to, uint256 amount)"]);
/** The fees the agent offers; the bundler fills the gas limits (these are only its starting point). */
const GAS = {
  verificationGasLimit: 400_000n,
  callGasLimit: 200_000n,
  preVerificationGas: 60_000n,
  maxFeePerGas: 2_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
};

(COMPAT_RUN ? describe : describe.skip)(
  "an Alchemy MAv2 account behind EntryPoint v0.7, through the Alto bundler",
  function () {
    this.timeout(240_000);
    const services: LocalService[] = [];
    let connection: NetworkConnection;
    let bundler: BundlerClient;
    let session: AgentSession;
    let usdc: Contract;
    let account: string;
    let spendLimitHook: string;
    const recipient = Wallet.createRandom().address;
    const agent = Wallet.createRandom();

    before(async function () {
      const node = await startHardhatNode();
      services.push(node);
      connection = await network.create({ network: "localhost", override: { url: node.url } });
      const { ethers } = connection;
      const [deployer, ownerSigner] = await ethers.getSigners();
      const entryPoint = await ensureEntryPoint(ethers.provider, deployer!, "0.7");
      const hook = await ethers.deployContract("SpendLimitHook");
      const module = await ethers.deployContract("SessionKeyValidationModule", [await hook.getAddress(), entryPoint]);
      const owner = await ethers.deployContract("OwnerValidationModule");
      usdc = (await ethers.deployContract("TestToken", ["USD Coin", "USDC", 6])) as unknown as Contract;
      spendLimitHook = await hook.getAddress();
      const createSemiModular = await foreignAccounts(ethers, "mav2-semi", entryPoint);
      account = (await createSemiModular(await ownerSigner!.getAddress())).address;
      await (await deployer!.sendTransaction({ to: account, value: parseEther("1") })).wait();
      await (await usdc.getFunction("mint")(account, parseUnits("1000", 6))).wait();

      const { chainId } = await ethers.provider.getNetwork();
      const addresses = {
        chainId,
        entryPoint,
        factory: ZeroAddress, // unused: the account is MAv2's, not made by a Leash factory
        ownerModule: await owner.getAddress(),
        sessionModule: await module.getAddress(),
        spendLimitHook,
        tokens: { USDC: usdc.target as string },
        fromBlock: 0,
      };
      const plan = await prepareGrant({
        provider: ethers.provider,
        addresses,
        owner: await ownerSigner!.getAddress(),
        input: {
          account,
          agent: agent.address,
          validAfter: new Date(Date.now() - 120_000).toISOString(),
          ttl: "24h",
          allow: [`${usdc.target as string}:transfer(address,uint256)`],
          budgets: ["100 USDC/day", "0.05 ETH/day"],
        },
      });
      expect(plan.ownerAccount.kind).to.equal("built-in-signer");
      await grantSession({ signer: ownerSigner!, plan });

      const alto = await startAlto(node.url, entryPoint);
      services.push(alto);
      bundler = createBundlerClient({ url: alto.url, entryPoint });
      session = {
        entryPoint: EntryPoint__factory.connect(entryPoint, deployer),
        account,
        sessionModule: addresses.sessionModule,
        sessionId: plan.session.sessionId,
        signingKey: agent.signingKey,
      };
    });

    after(async function () {
      for (const service of services.reverse()) await service.stop();
    });

    it("is the canonical v0.7 EntryPoint, which the module was built for", async function () {
      expect(await session.entryPoint.getAddress()).to.equal(ENTRY_POINT_V07);
    });

    it("sends the agent's USDC payment through the bundler (its gas estimate, v0.7's hash); the recipient is paid and the budgets charged", async function () {
      const hook = SpendLimitHook__factory.connect(spendLimitHook, connection.ethers.provider);
      const [nativeBefore] = await hook.remainingBudget(account, session.sessionId, NATIVE_ASSET);
      const result = await sendSessionUserOp({
        session,
        calls: [
          {
            target: usdc.target as string,
            value: 0n,
            data: erc20.encodeFunctionData("transfer", [recipient, 7_000_000n]),
          },
        ],
        gas: GAS,
        via: { bundler },
      });
      expect(result.success).to.equal(true);
      expect(await usdc.getFunction("balanceOf")(recipient)).to.equal(7_000_000n);
      const [usdcRemaining] = await hook.remainingBudget(account, session.sessionId, usdc.target as string);
      expect(usdcRemaining).to.equal(93_000_000n);
      // The native budget is charged the op's maximum gas cost, from the limits the bundler estimated and bundled.
      const bundle = await connection.ethers.provider.getTransaction(result.transactionHash);
      const [ops] = session.entryPoint.interface.decodeFunctionData("handleOps", bundle!.data) as unknown as [
        { accountGasLimits: string; preVerificationGas: bigint; gasFees: string }[],
      ];
      const op = ops[0]!;
      const limits = BigInt(op.accountGasLimits);
      const maxCost =
        ((limits >> 128n) + (limits & ((1n << 128n) - 1n)) + op.preVerificationGas) *
        (BigInt(op.gasFees) & ((1n << 128n) - 1n));
      const [nativeAfter] = await hook.remainingBudget(account, session.sessionId, NATIVE_ASSET);
      expect(nativeBefore - nativeAfter).to.equal(maxCost);
    });

    it("gets the bundler's refusal of an over-budget payment as a typed SpendLimitExceededError (through MAv2's wrapper); nothing moves", async function () {
      const before = (await usdc.getFunction("balanceOf")(recipient)) as bigint;
      try {
        await sendSessionUserOp({
          session,
          calls: [
            {
              target: usdc.target as string,
              value: 0n,
              data: erc20.encodeFunctionData("transfer", [recipient, 150_000_000n]),
            },
          ],
          gas: GAS,
          via: { bundler },
        });
      } catch (error) {
        expect(error).to.be.instanceOf(SpendLimitExceededError);
        expect((error as SpendLimitExceededError).requested).to.equal(150_000_000n);
        expect(await usdc.getFunction("balanceOf")(recipient)).to.equal(before);
        return;
      }
      expect.fail("the over-budget payment was sent");
    });
  },
);
