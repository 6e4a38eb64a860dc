/**
 * client/bundler.ts and the bundler side of client/errors.ts: ops in a bundler's JSON-RPC form, and a bundler's
 * refusals (as Alto words them) decoded into the same typed errors as the EntryPoint's. The real bundler path (Alto
 * against a Hardhat node) runs in test/demo/npmRunDemo.ts.
 */
import { expect } from "chai";
import { concat, toBeHex, zeroPadValue } from "ethers";

import { bundlerTimeHint, toRpcUserOp } from "../../client/bundler.js";
import {
  decodeUserOpRefusal,
  SessionExpiredError,
  SessionOutOfScopeError,
  SessionSignatureError,
  SpendLimitExceededError,
  UserOpRefusedError,
} from "../../client/errors.js";
import type { UserOperation } from "../../client/userOp.js";
import { SessionKeyValidationModule__factory, SpendLimitHook__factory } from "../../typechain-types/index.js";

const ACCOUNT = "0x1111111111111111111111111111111111111111";
const FACTORY = "0x2222222222222222222222222222222222222222";
const PAYMASTER = "0x3333333333333333333333333333333333333333";
const TOKEN = "0x4444444444444444444444444444444444444444";

const baseOp: UserOperation = {
  sender: ACCOUNT,
  nonce: 5n,
  initCode: "0x",
  callData: "0xb61d27f6",
  verificationGasLimit: 400_000n,
  callGasLimit: 100_000n,
  preVerificationGas: 50_000n,
  maxFeePerGas: 2_000_000_000n,
  maxPriorityFeePerGas: 1_000_000_000n,
  paymasterAndData: "0x",
  signature: "0xabcd",
};

/** What ethers throws for a JSON-RPC error answer of a bundler. */
function bundlerError(code: number, message: string) {
  return Object.assign(new Error("could not coalesce error"), { code: "UNKNOWN_ERROR", error: { code, message } });
}

describe("toRpcUserOp", function () {
  it("writes quantities as hex and leaves out the factory and paymaster fields of a deployed, self-paying op", function () {
    expect(toRpcUserOp(baseOp)).to.deep.equal({
      sender: ACCOUNT,
      nonce: "0x05",
      callData: "0xb61d27f6",
      callGasLimit: toBeHex(100_000n),
      verificationGasLimit: toBeHex(400_000n),
      preVerificationGas: toBeHex(50_000n),
      maxFeePerGas: toBeHex(2_000_000_000n),
      maxPriorityFeePerGas: toBeHex(1_000_000_000n),
      signature: "0xabcd",
    });
  });

  it("splits initCode into factory and factoryData", function () {
    const rpc = toRpcUserOp({ ...baseOp, initCode: concat([FACTORY, "0x5fbfb9cf"]) });
    expect([rpc.factory, rpc.factoryData]).to.deep.equal([FACTORY, "0x5fbfb9cf"]);
  });

  it("splits paymasterAndData into the paymaster, its two gas limits and its data", function () {
    const paymasterAndData = concat([
      PAYMASTER,
      zeroPadValue(toBeHex(70_000n), 16),
      zeroPadValue(toBeHex(30_000n), 16),
      "0xbeef",
    ]);
    const rpc = toRpcUserOp({ ...baseOp, paymasterAndData });
    expect([
      rpc.paymaster,
      rpc.paymasterVerificationGasLimit,
      rpc.paymasterPostOpGasLimit,
      rpc.paymasterData,
    ]).to.deep.equal([PAYMASTER, toBeHex(70_000n), toBeHex(30_000n), "0xbeef"]);
  });

  it("refuses paymasterAndData too short to hold the paymaster's gas limits", function () {
    expect(() => toRpcUserOp({ ...baseOp, paymasterAndData: concat([PAYMASTER, "0x01"]) })).to.throw(
      "paymasterAndData is shorter than paymaster ‖ verification gas (16) ‖ post-op gas (16)",
    );
  });
});

describe("bundlerTimeHint", function () {
  it("claims the latest block's time when the local clock is past it", function () {
    expect(bundlerTimeHint(1_000n, 1_005_000)).to.equal(1_000n);
  });

  it("never claims a time past the local clock, which the bundler checks validAfter against", function () {
    expect(bundlerTimeHint(1_010n, 1_005_999)).to.equal(1_005n);
  });
});

describe("decodeUserOpRefusal of a bundler's answer", function () {
  it("decodes an over-budget refusal with the amount requested and what remains", function () {
    const inner = SpendLimitHook__factory.createInterface().encodeErrorResult("SpendLimitExceeded", [
      ACCOUNT,
      1,
      TOKEN,
      50n,
      40n,
    ]);
    const refusal = decodeUserOpRefusal(
      bundlerError(-32500, `UserOperation reverted during simulation with reason: AA23 reverted ${inner}`),
    );
    expect(refusal).to.be.instanceOf(SpendLimitExceededError);
    const exceeded = refusal as SpendLimitExceededError;
    expect([exceeded.reason, exceeded.asset, exceeded.requested, exceeded.remaining]).to.deep.equal([
      "AA23 reverted",
      TOKEN,
      50n,
      40n,
    ]);
  });

  it("decodes an out-of-scope refusal with the target and selector", function () {
    const inner = SessionKeyValidationModule__factory.createInterface().encodeErrorResult("SessionCallOutOfScope", [
      TOKEN,
      "0x095ea7b3",
    ]);
    const refusal = decodeUserOpRefusal(
      bundlerError(-32500, `UserOperation reverted with reason: AA23 reverted ${inner}`),
    );
    expect(refusal).to.be.instanceOf(SessionOutOfScopeError);
    expect(refusal?.details?.args.toArray()).to.deep.equal([TOKEN, "0x095ea7b3"]);
  });

  it("decodes a signature refusal (AA24) into SessionSignatureError", function () {
    const refusal = decodeUserOpRefusal(
      bundlerError(-32507, "UserOperation reverted during simulation with reason: AA24 signature error"),
    );
    expect(refusal).to.be.instanceOf(SessionSignatureError);
    expect(refusal?.reason).to.equal("AA24 signature error");
  });

  it("decodes the bundler's own validity-window refusal (-32503) into SessionExpiredError", function () {
    const message = "User operation is not valid yet, validAfter=1795878174, now=1795878164";
    const refusal = decodeUserOpRefusal(bundlerError(-32503, message));
    expect(refusal).to.be.instanceOf(SessionExpiredError);
    expect(refusal?.reason).to.equal(message);
  });

  it("keeps an unknown AA code as a plain UserOpRefusedError", function () {
    const refusal = decodeUserOpRefusal(
      bundlerError(-32500, "UserOperation reverted with reason: AA21 didn't pay prefund"),
    );
    expect(refusal?.name).to.equal("UserOpRefusedError");
    expect(refusal).to.be.instanceOf(UserOpRefusedError);
    expect(refusal?.reason).to.equal("AA21 didn't pay prefund");
  });

  it("returns undefined for a bundler error that is not a refusal", function () {
    expect(decodeUserOpRefusal(bundlerError(-32601, "Method not found"))).to.equal(undefined);
  });
});
