/**
 * The ERC-7562 checker that every op of the suite goes through (test/helpers/userOps.ts `sendOp`): it finds the
 * violations a deliberately broken module commits, and none in Leash's own validation paths.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { parseEther } from "ethers";

import { encodeValidationConfig } from "../../client/encoding.js";
import { sendUserOpDirect } from "../../client/actions.js";
import { packUserOp } from "../../client/userOp.js";
import { COVERAGE_RUN } from "../helpers/coverage.js";
import { checkAccountValidation } from "../helpers/erc7562.js";
import {
  executeCall,
  grantByTransaction,
  ownerCall,
  sessionFixture,
  sessionOp,
  typicalSession,
} from "../helpers/sessions.js";
import { assertValidationRules, buildSignedOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

async function fixture() {
  const f = await sessionFixture(ethers, networkHelpers);
  const breaker = await ethers.deployContract("RuleBreakingValidationModule");
  const config = encodeValidationConfig(
    { module: breaker.target as string, entityId: 5 },
    { isGlobal: true, isSignatureValidation: false, isUserOpValidation: true },
  );
  await (
    await ownerCall(f, f.account.interface.encodeFunctionData("installValidation", [config, [], "0x", []]))
  ).wait();
  return { ...f, breaker };
}

async function violationsOf(f: Awaited<ReturnType<typeof fixture>>, op: Awaited<ReturnType<typeof buildSignedOp>>) {
  const calldata = f.account.interface.encodeFunctionData("validateUserOp", [packUserOp(op.op), op.hash, 0n]);
  return checkAccountValidation(ethers.provider, f.entryPoint.target as string, f.accountAddress, calldata);
}

/** An owner-signed op validated by the rule-breaking module (TIMESTAMP, unassociated SSTORE, call to no code). */
function breakingOp(f: Awaited<ReturnType<typeof fixture>>) {
  return buildSignedOp(f.entryPoint, {
    sender: f.accountAddress,
    callData: executeCall(f, f.recipient, parseEther("0.01")),
    selection: { validation: { module: f.breaker.target as string, entityId: 5 }, isGlobal: true },
    signer: f.owner,
  });
}

describe("ERC-7562 checker", function () {
  before(function () {
    // Coverage instruments the bytecode: the rules are checked on the shipped bytecode, in `npm test`.
    if (COVERAGE_RUN) this.skip();
  });

  it("reports TIMESTAMP, unassociated storage and a call to an address without code in a broken module", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const op = await breakingOp(f);
    const { violations, reverted } = await violationsOf(f, op);
    expect(reverted).to.equal(false);
    const found = violations.map((v) => `${v.rule} ${v.opcode} ${v.code}`);
    expect(found).to.include(`OP-011 TIMESTAMP ${f.breaker.target}`);
    expect(found).to.include(`STO-021 SSTORE ${f.breaker.target}`);
    expect(found).to.include(`OP-041 CALL 0x000000000000000000000000000000000000dEaD`);
  });

  it("assertValidationRules fails for an op that breaks the rules, listing them", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const { op } = await breakingOp(f);
    const failure = await assertValidationRules(ethers, f.entryPoint, op).then(
      () => "",
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    expect(failure).to.match(/ERC-7562 violations in the op's validation:\nOP-011 TIMESTAMP/);
  });

  it("fails any handleOps whose op breaks the rules before it runs, whoever sends it (here the client)", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const { op } = await breakingOp(f);
    const [, , , submitter] = await ethers.getSigners();
    const failure = await sendUserOpDirect({ entryPoint: f.entryPoint, submitter: submitter!, op }).then(
      () => "",
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    expect(failure).to.contain("ERC-7562 violations in the op's validation:\nOP-011 TIMESTAMP");
    expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
  });

  it("T17: finds no violation in a session op with its spend-limit hook", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await (await grantByTransaction(f, typicalSession(f))).wait();
    const op = await sessionOp(f, executeCall(f, f.recipient, parseEther("0.01")), { timeHint: f.now + 5n });
    const { violations, reverted } = await violationsOf(f, op);
    expect(reverted).to.equal(false);
    expect(violations).to.deep.equal([]);
  });

  it("T17: finds no violation in a session granted inside the agent's first op (deferred install)", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const { encodeDeferredGrant } = await import("../../client/session.js");
    const { signGrant } = await import("../helpers/sessions.js");
    const session = typicalSession(f);
    const call = encodeDeferredGrant(session, await signGrant(f, session));
    const op = await sessionOp(f, executeCall(f, f.recipient, parseEther("0.01")), {
      deferredInstall: { installer: f.sessionModule.target as string, data: call },
    });
    const { violations, reverted } = await violationsOf(f, op);
    expect(reverted).to.equal(false);
    expect(violations).to.deep.equal([]);
  });
});
