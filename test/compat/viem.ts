/**
 * `@leashkit/viem` (issue 15): a Leash session as a viem smart account, through viem's `createBundlerClient` and
 * permissionless's `createSmartAccountClient`, to Pimlico's Alto bundler on a local `hardhat node` behind the
 * canonical EntryPoint v0.8. The account estimates its gas itself (Leash's validation checks the session key's
 * signature during the estimate), its refusals are the client's typed errors, and what it signs stays within the
 * caps and the session's native budget.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { parseEther, parseUnits, Wallet, type Contract } from "ethers";
import { createPublicClient, encodeFunctionData, http, parseAbi, type Hex, type PublicClient } from "viem";
import { createBundlerClient, createPaymasterClient, type BundlerClient } from "viem/account-abstraction";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { createSmartAccountClient } from "permissionless";

import { DEFAULT_GAS_CAPS } from "../../client/bundler.js";
import { GasCapExceededError, SpendLimitExceededError } from "../../client/errors.js";
import { prepareGrant } from "../../client/grant.js";
import { grantSession } from "../../client/owner.js";
import { NATIVE_ASSET, SPONSORED_GAS_ASSET, sessionNonceKey } from "../../client/session.js";
import { ensureEntryPoint } from "../../deploy/entryPoint.js";
import { toLeashSessionAccount, type LeashSessionAccount } from "../../packages/viem/src/index.js";
import { startAlto, startHardhatNode, type LocalService } from "../../scripts/local/services.js";
import { EntryPoint__factory, SpendLimitHook__factory } from "../../typechain-types/index.js";
import { payWithViem } from "../../examples/quickstart-viem.js";
import { deployLeashBehind } from "../helpers/fixture.js";
import { COMPAT_RUN } from "./accounts.js";

const erc20 = parseAbi(["function transfer(address to, uint256 amount)"]);

/**
 * A minimal ERC-7677 paymaster service for `paymaster`: both `pm_getPaymasterStubData` and `pm_getPaymasterData`
 * answer the paymaster with its gas limits (the test paymaster needs no data). Returns the server and its URL.
 */
async function startPaymasterService(paymaster: string): Promise<{ server: Server; url: string; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      calls.push(method);
      const known = method === "pm_getPaymasterStubData" || method === "pm_getPaymasterData";
      const result = {
        paymaster,
        paymasterData: "0x",
        paymasterVerificationGasLimit: "0x186a0", // 100,000
        paymasterPostOpGasLimit: "0xc350", // 50,000
      };
      response.setHeader("content-type", "application/json");
      response.end(
        JSON.stringify(
          known
            ? { jsonrpc: "2.0", id, result }
            : { jsonrpc: "2.0", id, error: { code: -32601, message: `${method} is not served` } },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

(COMPAT_RUN ? describe : describe.skip)(
  "@leashkit/viem: a Leash session as a viem smart account, through Alto",
  function () {
    this.timeout(240_000);
    const services: LocalService[] = [];
    let connection: NetworkConnection;
    let publicClient: PublicClient;
    let bundlerClient: BundlerClient;
    let account: LeashSessionAccount;
    let accountAddress: string;
    let entryPoint: string;
    let sessionModule: string;
    let sessionId: number;
    let spendLimitHook: string;
    let usdc: Contract;
    let signedFor: string;
    let bundlerUrl: string;
    let rpcUrl: string;
    let paymaster: string;
    let paymasterService: Awaited<ReturnType<typeof startPaymasterService>>;
    const agentKey = Wallet.createRandom().privateKey as Hex;

    const balanceOf = async (who: string) => (await usdc.getFunction("balanceOf")(who)) as bigint;
    const remaining = async (asset: string) => {
      const hook = SpendLimitHook__factory.connect(spendLimitHook, connection.ethers.provider);
      return (await hook.remainingBudget(accountAddress, sessionId, asset))[0];
    };
    const transfer = (to: string, amount: bigint) => ({
      to: usdc.target as Hex,
      data: encodeFunctionData({ abi: erc20, functionName: "transfer", args: [to as Hex, amount] }),
    });

    /** An op paying 1 base unit of USDC to a new address, prepared by viem (the account's own estimate), unsigned. */
    const preparedTransfer = () =>
      bundlerClient.prepareUserOperation({ account, calls: [transfer(Wallet.createRandom().address, 1n)] });

    before(async function () {
      const node = await startHardhatNode();
      services.push(node);
      rpcUrl = node.url;
      connection = await network.create({ network: "localhost", override: { url: node.url } });
      const { ethers } = connection;
      const [deployer, ownerSigner] = await ethers.getSigners();
      entryPoint = await ensureEntryPoint(ethers.provider, deployer!);
      const {
        spendLimitHook: hook,
        sessionModule: module,
        ownerModule: owner,
        factory,
      } = await deployLeashBehind(ethers, entryPoint);
      usdc = (await ethers.deployContract("TestToken", ["USD Coin", "USDC", 6])) as unknown as Contract;
      spendLimitHook = await hook.getAddress();
      sessionModule = await module.getAddress();
      signedFor = Wallet.createRandom().address;
      const paymasterContract = await ethers.deployContract("AcceptAllPaymaster", [entryPoint]);
      await (await paymasterContract.getFunction("deposit")({ value: parseEther("1") })).wait();
      paymaster = await paymasterContract.getAddress();
      paymasterService = await startPaymasterService(paymaster);
      const ownerAddress = await ownerSigner!.getAddress();
      await (await factory.getFunction("createAccount")(ownerAddress, 0n)).wait();
      accountAddress = (await factory.getFunction("getAccountAddress")(ownerAddress, 0n)) as string;
      await (await deployer!.sendTransaction({ to: accountAddress, value: parseEther("1") })).wait();
      await (await usdc.getFunction("mint")(accountAddress, parseUnits("1000", 6))).wait();

      const { chainId } = await ethers.provider.getNetwork();
      const plan = await prepareGrant({
        provider: ethers.provider,
        addresses: {
          chainId,
          entryPoint,
          factory: await factory.getAddress(),
          ownerModule: await owner.getAddress(),
          sessionModule,
          spendLimitHook,
          tokens: { USDC: usdc.target as string },
          fromBlock: 0,
        },
        owner: ownerAddress,
        input: {
          account: accountAddress,
          agent: privateKeyToAccount(agentKey).address,
          ttl: "24h",
          allow: [`${usdc.target as string}:transfer(address,uint256)`, `${signedFor}:sign`],
          budgets: ["100 USDC/day", "0.05 ETH/day"],
          paymasters: [paymaster],
        },
      });
      await grantSession({ signer: ownerSigner!, plan });
      sessionId = plan.session.sessionId;

      const alto = await startAlto(node.url, entryPoint);
      services.push(alto);
      bundlerUrl = alto.url;
      publicClient = createPublicClient({ chain: hardhat, transport: http(node.url) });
      bundlerClient = createBundlerClient({ client: publicClient, transport: http(bundlerUrl) });
      account = await toLeashSessionAccount({
        client: publicClient,
        bundlerTransport: http(bundlerUrl),
        session: { entryPoint, account: accountAddress, sessionModule, sessionId },
        signer: privateKeyToAccount(agentKey),
      });
    });

    after(async function () {
      await new Promise((resolve) => paymasterService.server.close(resolve));
      for (const service of services.reverse()) await service.stop();
    });

    it("is the session's account behind the canonical EntryPoint v0.8", async function () {
      expect(await account.getAddress()).to.equal(accountAddress);
      expect(account.entryPoint.version).to.equal("0.8");
      expect(account.entryPoint.address).to.equal(entryPoint);
    });

    it("reads its nonce under the session's nonce key, whatever key viem asks for", async function () {
      const expected = await EntryPoint__factory.connect(entryPoint, connection.ethers.provider).getNonce(
        accountAddress,
        sessionNonceKey(sessionModule, sessionId),
      );
      expect(await account.getNonce({ key: 123n })).to.equal(expected);
    });

    it("pays through viem's bundler client: the recipient is paid, the USDC budget charged, the native budget charged the op's maximum gas cost", async function () {
      const recipient = Wallet.createRandom().address;
      const nativeBefore = await remaining(NATIVE_ASSET);
      const hash = await bundlerClient.sendUserOperation({ account, calls: [transfer(recipient, 7_000_000n)] });
      const receipt = await bundlerClient.waitForUserOperationReceipt({ hash });
      expect(receipt.success).to.equal(true);
      expect(await balanceOf(recipient)).to.equal(7_000_000n);
      expect(await remaining(usdc.target as string)).to.equal(93_000_000n);
      const { userOperation } = await bundlerClient.getUserOperation({ hash });
      const maxCost =
        (userOperation.verificationGasLimit + userOperation.callGasLimit + userOperation.preVerificationGas) *
        userOperation.maxFeePerGas;
      expect(nativeBefore - (await remaining(NATIVE_ASSET))).to.equal(maxCost);
    });

    it("sends ops in flight at once through accounts of different nonce lanes: each is included under its lane's key", async function () {
      const lanes = [1, 2, 3];
      const accounts = await Promise.all(
        lanes.map((lane) =>
          toLeashSessionAccount({
            client: publicClient,
            bundlerTransport: http(bundlerUrl),
            session: { entryPoint, account: accountAddress, sessionModule, sessionId },
            signer: privateKeyToAccount(agentKey),
            lane,
          }),
        ),
      );
      const recipient = Wallet.createRandom().address;
      const budgetBefore = await remaining(usdc.target as string);
      // All three are sent before any is included: one key would hold only one of them at the bundler.
      const hashes = await Promise.all(
        accounts.map((laneAccount) =>
          bundlerClient.sendUserOperation({ account: laneAccount, calls: [transfer(recipient, 1_000_000n)] }),
        ),
      );
      const receipts = await Promise.all(hashes.map((hash) => bundlerClient.waitForUserOperationReceipt({ hash })));
      expect(receipts.map((receipt) => receipt.success)).to.deep.equal([true, true, true]);
      const keys = receipts.map((receipt) => receipt.nonce >> 64n);
      expect(keys).to.deep.equal(lanes.map((lane) => sessionNonceKey(sessionModule, sessionId, lane)));
      expect(await balanceOf(recipient)).to.equal(3_000_000n);
      expect(budgetBefore - (await remaining(usdc.target as string))).to.equal(3_000_000n);
    });

    it("refuses, before signing, an op whose nonce the caller set outside the session's lanes", async function () {
      const prepared = await preparedTransfer();
      const foreignKey = sessionNonceKey(sessionModule, sessionId + 1);
      let error: unknown;
      try {
        await account.signUserOperation({ ...prepared, nonce: foreignKey << 64n });
      } catch (caught) {
        error = caught;
      }
      expect(String(error)).to.match(/is not one of session \d+'s nonce keys: leave the nonce to the account/);
    });

    it("refuses a lane outside 0 to 65,535 when the account is made", async function () {
      let error: unknown;
      try {
        await toLeashSessionAccount({
          client: publicClient,
          bundlerTransport: http(bundlerUrl),
          session: { entryPoint, account: accountAddress, sessionModule, sessionId },
          signer: privateKeyToAccount(agentKey),
          lane: 65_536,
        });
      } catch (caught) {
        error = caught;
      }
      expect(error).to.be.instanceOf(RangeError);
      expect(String(error)).to.match(/nonce lane 65536 is not a whole number from 0 to 65535/);
    });

    it("pays twice back to back through permissionless's smart-account client", async function () {
      const recipient = Wallet.createRandom().address;
      const smartAccountClient = createSmartAccountClient({
        account,
        chain: hardhat,
        client: publicClient,
        bundlerTransport: http(bundlerUrl),
      });
      for (let i = 0; i < 2; i++) {
        const hash = await smartAccountClient.sendUserOperation({ calls: [transfer(recipient, 5_000_000n)] });
        const receipt = await smartAccountClient.waitForUserOperationReceipt({ hash });
        expect(receipt.success).to.equal(true);
      }
      expect(await balanceOf(recipient)).to.equal(10_000_000n);
    });

    it("pays through viem's bundler client with an ERC-7677 paymaster: the paymaster pays, the account's ETH and native budget are untouched, the sponsored-gas budget is charged", async function () {
      const recipient = Wallet.createRandom().address;
      const sponsoredBudget = createBundlerClient({
        client: publicClient,
        transport: http(bundlerUrl),
        paymaster: createPaymasterClient({ transport: http(paymasterService.url) }),
      });
      const [nativeBefore, sponsoredBefore, ethBefore] = await Promise.all([
        remaining(NATIVE_ASSET),
        remaining(SPONSORED_GAS_ASSET),
        connection.ethers.provider.getBalance(accountAddress),
      ]);
      const hash = await sponsoredBudget.sendUserOperation({ account, calls: [transfer(recipient, 3_000_000n)] });
      const receipt = await sponsoredBudget.waitForUserOperationReceipt({ hash });
      expect(receipt.success).to.equal(true);
      expect(receipt.paymaster?.toLowerCase()).to.equal(paymaster.toLowerCase());
      expect(paymasterService.calls).to.deep.equal(["pm_getPaymasterStubData", "pm_getPaymasterData"]);
      expect(await balanceOf(recipient)).to.equal(3_000_000n);
      expect(await connection.ethers.provider.getBalance(accountAddress)).to.equal(ethBefore);
      expect(await remaining(NATIVE_ASSET)).to.equal(nativeBefore);
      expect(await remaining(SPONSORED_GAS_ASSET)).to.be.lessThan(sponsoredBefore);
    });

    it("runs the viem quick start of docs/INTEGRATORS.md as written: two payments back to back, then an over-budget one refused as typed", async function () {
      const recipient = Wallet.createRandom().address as Hex;
      const agent = {
        chain: hardhat,
        rpcUrl,
        bundlerUrl,
        session: { entryPoint, account: accountAddress, sessionModule, sessionId },
        agentKey,
      };
      expect(await payWithViem(agent, usdc.target as Hex, recipient, 4_000_000n)).to.equal("paid");
      expect(await payWithViem(agent, usdc.target as Hex, recipient, 4_000_000n)).to.equal("paid");
      expect(await payWithViem(agent, usdc.target as Hex, recipient, 200_000_000n)).to.match(
        /^refused \(SpendLimitExceededError\): over budget: the op needs 200000000 /,
      );
      expect(await balanceOf(recipient)).to.equal(8_000_000n);
    });

    it("gets the bundler's refusal of an over-budget payment, during its own estimate, as SpendLimitExceededError; nothing moves", async function () {
      const recipient = Wallet.createRandom().address;
      const usdcBefore = await remaining(usdc.target as string);
      try {
        await bundlerClient.sendUserOperation({ account, calls: [transfer(recipient, 150_000_000n)] });
      } catch (error) {
        expect(error).to.be.instanceOf(SpendLimitExceededError);
        expect((error as SpendLimitExceededError).requested).to.equal(150_000_000n);
        expect(await balanceOf(recipient)).to.equal(0n);
        expect(await remaining(usdc.target as string)).to.equal(usdcBefore);
        return;
      }
      expect.fail("the over-budget payment was sent");
    });

    it("refuses to sign an op whose gas is over the caps (GasCapExceededError), before signing", async function () {
      const op = await preparedTransfer();
      try {
        await account.signUserOperation({ ...op, callGasLimit: 50_000_000n });
      } catch (error) {
        expect(error).to.be.instanceOf(GasCapExceededError);
        expect((error as GasCapExceededError).field).to.equal("callGasLimit");
        return;
      }
      expect.fail("the op over the caps was signed");
    });

    it("refuses to sign an op whose maximum gas cost is over the session's remaining native budget", async function () {
      const op = await preparedTransfer();
      const budget = await remaining(NATIVE_ASSET);
      // Within every cap (a fee cap high enough to let it through), but the fee makes the op cost more than what is
      // left of 0.05 ETH today.
      const maxFeePerGas = budget / (op.verificationGasLimit + op.callGasLimit + op.preVerificationGas) + 1n;
      const generous = await toLeashSessionAccount({
        client: publicClient,
        bundlerTransport: http(bundlerUrl),
        session: { entryPoint, account: accountAddress, sessionModule, sessionId },
        signer: privateKeyToAccount(agentKey),
        caps: { ...DEFAULT_GAS_CAPS, maxFeePerGas: maxFeePerGas * 2n },
      });
      try {
        await generous.signUserOperation({ ...op, maxFeePerGas, maxPriorityFeePerGas: maxFeePerGas });
      } catch (error) {
        expect(error).to.be.instanceOf(GasCapExceededError);
        expect((error as GasCapExceededError).field).to.equal("maxGasCost");
        return;
      }
      expect.fail("the op over the native budget was signed");
    });

    it("refuses to sign a fee over the bound read from the chain (a bundler's inflated fee answer), before signing", async function () {
      const op = await preparedTransfer();
      const block = await publicClient.getBlock();
      const inflated = 100n * (block.baseFeePerGas ?? 1_000_000_000n) + 100_000_000_000n;
      try {
        await account.signUserOperation({ ...op, maxFeePerGas: inflated });
      } catch (error) {
        expect(error).to.be.instanceOf(GasCapExceededError);
        expect((error as GasCapExceededError).field).to.equal("maxFeePerGas");
        return;
      }
      expect.fail("the op with an inflated fee was signed");
    });

    it("signs EIP-712 data of a contract the session may sign for, which the account accepts under ERC-1271", async function () {
      const typedData = {
        domain: { name: "Orders", version: "1", chainId: hardhat.id, verifyingContract: signedFor as Hex },
        types: { Order: [{ name: "amount", type: "uint256" }] },
        primaryType: "Order",
        message: { amount: 42n },
      } as const;
      const signature = await account.signTypedData(typedData);
      const valid = await publicClient.verifyTypedData({ address: accountAddress as Hex, signature, ...typedData });
      expect(valid).to.equal(true);
    });

    it("gives typed data of a contract the session was not granted signing for a signature the account rejects", async function () {
      const typedData = {
        domain: {
          name: "Orders",
          version: "1",
          chainId: hardhat.id,
          verifyingContract: Wallet.createRandom().address as Hex,
        },
        types: { Order: [{ name: "amount", type: "uint256" }] },
        primaryType: "Order",
        message: { amount: 42n },
      } as const;
      const signature = await account.signTypedData(typedData);
      const valid = await publicClient.verifyTypedData({ address: accountAddress as Hex, signature, ...typedData });
      expect(valid).to.equal(false);
    });

    it("refuses to sign an EIP-191 message: a session signs none", async function () {
      try {
        await account.signMessage({ message: "hello" });
      } catch (error) {
        expect((error as Error).message).to.match(/signs no EIP-191 message/);
        return;
      }
      expect.fail("a message was signed");
    });
  },
);
