/**
 * The agent bounds what it signs (THREATS 32): gas limits and fees a bundler answers are checked against the
 * agent's caps and the session's remaining native budget before the agent signs the op with them; an answer over
 * them is a GasCapExceededError that names the service, and nothing is signed with it or sent.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, JsonRpcProvider, parseEther, SigningKey, toBeHex, zeroPadValue, type BytesLike } from "ethers";

import { sendSessionUserOp } from "../../client/agent.js";
import { checkGasCaps, DEFAULT_GAS_CAPS, maxGasCost, type BundlerClient } from "../../client/bundler.js";
import { GasCapExceededError } from "../../client/errors.js";
import { NATIVE_ASSET } from "../../client/session.js";
import type { UserOperation } from "../../client/userOp.js";
import { DAY, grantByTransaction, SESSION_ID, sessionFixture, typicalSession } from "../helpers/sessions.js";
import { TEST_GAS } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

const PAYMASTER = "0x3333333333333333333333333333333333333333";

/** A bundler that answers every estimate with `estimate` and records the methods it was asked. */
class InflatingBundler extends JsonRpcProvider {
  readonly methods: string[] = [];
  constructor(private readonly estimate: Record<string, bigint>) {
    super("http://127.0.0.1:1", undefined, { staticNetwork: true });
  }
  override async send(method: string): Promise<unknown> {
    this.methods.push(method);
    if (method === "eth_estimateUserOperationGas") {
      return Object.fromEntries(Object.entries(this.estimate).map(([key, value]) => [key, toBeHex(value)]));
    }
    throw new Error(`the test bundler does not answer ${method}`);
  }
}

/** A session key that counts what it signs. */
class CountingKey extends SigningKey {
  signatures = 0;
  override sign(digest: BytesLike) {
    this.signatures += 1;
    return super.sign(digest);
  }
}

const op: UserOperation = {
  sender: "0x1111111111111111111111111111111111111111",
  nonce: 0n,
  initCode: "0x",
  callData: "0x",
  verificationGasLimit: 200_000n,
  callGasLimit: 100_000n,
  preVerificationGas: 50_000n,
  maxFeePerGas: 1_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
  paymasterAndData: "0x",
  signature: "0x",
};

function refusal(run: () => unknown): GasCapExceededError {
  try {
    run();
  } catch (error) {
    if (error instanceof GasCapExceededError) return error;
    throw error;
  }
  throw new Error("expected a GasCapExceededError");
}

describe("gas caps: the agent bounds what it signs (THREATS 32)", function () {
  describe("checkGasCaps", function () {
    for (const field of ["verificationGasLimit", "callGasLimit", "preVerificationGas"] as const) {
      it(`T32: refuses a ${field} over its cap, naming the service and both figures`, function () {
        const inflated = { ...op, [field]: DEFAULT_GAS_CAPS[field] + 1n };
        const error = refusal(() => checkGasCaps({ op: inflated, caps: DEFAULT_GAS_CAPS, service: "bundler X" }));
        expect([error.service, error.field, error.requested, error.cap]).to.deep.equal([
          "bundler X",
          field,
          DEFAULT_GAS_CAPS[field] + 1n,
          DEFAULT_GAS_CAPS[field],
        ]);
        expect(error.message).to.match(
          new RegExp(`^the bundler X asked for ${field} ${DEFAULT_GAS_CAPS[field] + 1n}, more than the cap of`),
        );
      });
    }

    it("T32: refuses a paymaster's gas limits over the cap", function () {
      const paymasterAndData = concat([
        PAYMASTER,
        zeroPadValue(toBeHex(DEFAULT_GAS_CAPS.paymasterGasLimit + 1n), 16),
        zeroPadValue(toBeHex(1n), 16),
      ]);
      const error = refusal(() =>
        checkGasCaps({ op: { ...op, paymasterAndData }, caps: DEFAULT_GAS_CAPS, service: "paymaster P" }),
      );
      expect([error.field, error.requested]).to.deep.equal([
        "paymasterVerificationGasLimit",
        DEFAULT_GAS_CAPS.paymasterGasLimit + 1n,
      ]);
    });

    it("T32: refuses a fee over an optional maxFeePerGas cap and a cost over an optional maxCost", function () {
      const caps = { ...DEFAULT_GAS_CAPS, maxFeePerGas: op.maxFeePerGas - 1n };
      expect(refusal(() => checkGasCaps({ op, caps, service: "s" })).field).to.equal("maxFeePerGas");
      const costCaps = { ...DEFAULT_GAS_CAPS, maxCost: maxGasCost(op) - 1n };
      expect(refusal(() => checkGasCaps({ op, caps: costCaps, service: "s" })).field).to.equal("maxCost");
    });

    it("T32: refuses a maximum gas cost over the session's remaining native budget", function () {
      const cost = maxGasCost(op);
      const error = refusal(() => checkGasCaps({ op, caps: DEFAULT_GAS_CAPS, service: "s", nativeBudget: cost - 1n }));
      expect([error.field, error.requested, error.cap]).to.deep.equal(["maxGasCost", cost, cost - 1n]);
    });

    it("accepts an op within every cap and returns its maximum gas cost, paymaster gas included", function () {
      const paymasterAndData = concat([PAYMASTER, zeroPadValue(toBeHex(7n), 16), zeroPadValue(toBeHex(3n), 16)]);
      const withPaymaster = { ...op, paymasterAndData };
      expect(
        checkGasCaps({ op: withPaymaster, caps: DEFAULT_GAS_CAPS, service: "s", nativeBudget: 10n ** 18n }),
      ).to.equal((200_000n + 100_000n + 50_000n + 10n) * op.maxFeePerGas);
    });
  });

  describe("sendSessionUserOp through a bundler", function () {
    async function grantWithNativeBudget(nativeLimit: bigint) {
      const f = await sessionFixture(ethers, networkHelpers);
      const session = typicalSession(f, {
        budgets: [{ asset: NATIVE_ASSET, limit: nativeLimit, period: DAY, perCallCap: 0n }],
      });
      await (await grantByTransaction(f, session)).wait();
      return f;
    }
    const fixture = () => grantWithNativeBudget(parseEther("1"));
    const smallBudgetFixture = () => grantWithNativeBudget(parseEther("0.01"));

    async function send(f: Awaited<ReturnType<typeof fixture>>, bundler: InflatingBundler, key: CountingKey) {
      const client: BundlerClient = {
        provider: bundler,
        entryPoint: f.entryPoint.target as string,
        label: "bundler B",
      };
      return sendSessionUserOp({
        session: {
          entryPoint: f.entryPoint,
          account: f.accountAddress,
          sessionModule: f.sessionModule.target as string,
          sessionId: SESSION_ID,
          signingKey: key,
        },
        calls: [{ target: f.recipient, value: 1n, data: "0x" }],
        gas: TEST_GAS,
        via: { bundler: client },
      }).then(
        () => undefined,
        (error: unknown) => error,
      );
    }

    it("T32: refuses to sign an op a bundler inflated in every gas field, sends nothing, and nothing is spent", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const bundler = new InflatingBundler({
        verificationGasLimit: 400_000_000n,
        callGasLimit: 400_000_000n,
        preVerificationGas: 400_000_000n,
      });
      const key = new CountingKey(f.agent.privateKey);
      const before = await ethers.provider.getBalance(f.accountAddress);
      const thrown = await send(f, bundler, key);
      expect(thrown).to.be.instanceOf(GasCapExceededError);
      const error = thrown as GasCapExceededError;
      expect([error.service, error.field, error.requested, error.cap]).to.deep.equal([
        "bundler B",
        "verificationGasLimit",
        400_000_000n,
        DEFAULT_GAS_CAPS.verificationGasLimit,
      ]);
      // Only the provisional op (the caller's own limits) was signed, for the estimate; nothing was sent.
      expect(key.signatures).to.equal(1);
      expect(bundler.methods).to.deep.equal(["eth_estimateUserOperationGas"]);
      expect(await ethers.provider.getBalance(f.accountAddress)).to.equal(before);
      expect((await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, NATIVE_ASSET)).spent).to.equal(0n);
    });

    it("T32: refuses to sign an estimate within the caps whose cost is over the session's remaining native budget", async function () {
      const f = await networkHelpers.loadFixture(smallBudgetFixture);
      // 5.7 M gas at TEST_GAS's 2 gwei: 0.0114 ETH, more than the 0.01 ETH budget less the 1 wei value.
      const bundler = new InflatingBundler({
        verificationGasLimit: 1_900_000n,
        callGasLimit: 1_900_000n,
        preVerificationGas: 1_900_000n,
      });
      const key = new CountingKey(f.agent.privateKey);
      const thrown = await send(f, bundler, key);
      expect(thrown).to.be.instanceOf(GasCapExceededError);
      const error = thrown as GasCapExceededError;
      expect([error.field, error.requested, error.cap]).to.deep.equal([
        "maxGasCost",
        5_700_000n * TEST_GAS.maxFeePerGas,
        parseEther("0.01") - 1n,
      ]);
      expect(key.signatures).to.equal(1);
    });
  });
});
