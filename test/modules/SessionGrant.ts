/**
 * The owner-signed SessionGrant as designed for the device (issue #13, THREATS 29): what the owner reads is what the
 * chain derives and enforces. Function texts are hashed to the selectors enforced, periods are words, amounts carry
 * their token, rules count arguments from 1; anything that would read otherwise than it is enforced is refused and
 * grants nothing. Also the signed nonce cancellation, which voids a pending grant without a transaction from the owner.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { MaxUint256, parseUnits, ZeroAddress, type BaseContract } from "ethers";

import {
  grantPeriodText,
  SELECTOR_ANY,
  SELECTOR_NO_CALLDATA,
  SELECTOR_SIGN,
  sessionGrantMessage,
  type SessionDescription,
} from "../../client/session.js";
import {
  DAY,
  SESSION_ID,
  sessionFixture,
  signCancellation,
  signGrant,
  signGrantMessage,
  typicalSession,
  type SessionFixture,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();

async function fixture() {
  return sessionFixture(ethers, networkHelpers);
}

type GrantMessage = ReturnType<typeof sessionGrantMessage>;

/** The session module's grant reader, which declares the grant-reading errors. */
async function reader(f: SessionFixture): Promise<BaseContract> {
  return ethers.getContractAt("SessionGrantReader", await f.sessionModule.GRANT_READER());
}

/** A typical grant's message, changed by `edit`, signed by the owner as is. */
async function signedEdited(f: SessionFixture, edit: (message: GrantMessage) => void, session?: SessionDescription) {
  const message = sessionGrantMessage(session ?? typicalSession(f));
  edit(message);
  return { message, signature: await signGrantMessage(f, message) };
}

/** Submits a signed grant and returns the argument rule words its `SessionGranted` event says were installed. */
async function grantedRules(f: SessionFixture, message: GrantMessage, signature: string): Promise<bigint[]> {
  const receipt = await (await f.sessionModule.connect(f.stranger).grantWithSignature(message, signature)).wait();
  const granted = f.sessionModule.interface.getEvent("SessionGranted").topicHash;
  const log = receipt!.logs.find((l) => l.address === f.sessionModule.target && l.topics[0] === granted)!;
  return [...(f.sessionModule.interface.parseLog(log)!.args.argumentRules as bigint[])];
}

/** Expects the grant to be refused with the reader's `error`, and then no session and an unused nonce. */
async function expectGrantRefused(f: SessionFixture, message: GrantMessage, signature: string, error: string) {
  const grantReader = await reader(f);
  await expect(
    f.sessionModule.connect(f.stranger).grantWithSignature(message, signature),
  ).to.be.revertedWithCustomError(grantReader, error);
  expect((await f.sessionModule.getSession(f.accountAddress, SESSION_ID)).agent).to.equal(ZeroAddress);
  expect(await f.sessionModule.isNonceUsed(f.accountAddress, message.nonce)).to.equal(false);
}

describe("SessionGrant, designed for the device", function () {
  describe("what the owner reads is what is installed", function () {
    it("T29: installs the scope grouped by target, each selector the hash of the function text the owner read", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const usdc = f.usdc.target as string;
      const session = typicalSession(f, {
        scope: [
          {
            target: usdc,
            selector: f.usdc.interface.getFunction("transfer").selector,
            function: "transfer(address,uint256)",
          },
          { target: f.recipient, selector: SELECTOR_NO_CALLDATA },
          {
            target: usdc,
            selector: f.usdc.interface.getFunction("approve").selector,
            function: "approve(address,uint256)",
          },
        ],
      });
      const message = sessionGrantMessage(session);
      expect(message.scope).to.deep.equal([
        { target: usdc, signature: "transfer(address,uint256)" },
        { target: usdc, signature: "approve(address,uint256)" },
        { target: f.recipient, signature: "(plain transfer)" },
      ]);
      await expect(f.sessionModule.connect(f.stranger).grantWithSignature(message, await signGrant(f, session)))
        .to.emit(f.sessionModule, "SessionGranted")
        .withArgs(
          f.accountAddress,
          SESSION_ID,
          f.agent.address,
          1n,
          session.validAfter,
          session.validUntil,
          session.valueCapPerCall,
          false,
          [usdc, usdc, f.recipient],
          [
            ethers.id("transfer(address,uint256)").slice(0, 10),
            ethers.id("approve(address,uint256)").slice(0, 10),
            SELECTOR_NO_CALLDATA,
          ],
          [],
        );
    });

    it("T29: installs each budget with the period its words say, and an Unlimited per-op cap as no cap", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const usdc = f.usdc.target as string;
      const session = typicalSession(f, {
        budgets: [{ asset: usdc, limit: parseUnits("100", 6), period: 7n * DAY, perCallCap: 0n }],
      });
      const message = sessionGrantMessage(session);
      expect(message.budgets[0]!.period).to.equal("1 week");
      expect(message.budgets[0]!.perCallCap).to.deep.equal({ token: usdc, amount: MaxUint256 });
      await (await f.sessionModule.connect(f.stranger).grantWithSignature(message, await signGrant(f, session))).wait();
      const budget = await f.spendLimitHook.getBudget(f.accountAddress, SESSION_ID, usdc);
      expect([budget.limit, budget.periodLength, budget.perCallCap]).to.deep.equal([
        parseUnits("100", 6),
        7n * DAY,
        0n,
      ]);
    });

    it("T29: installs an address rule on the argument the owner read, counted from 1", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const usdc = f.usdc.target as string;
      const session = typicalSession(f, {
        scope: [
          {
            target: usdc,
            selector: f.usdc.interface.getFunction("transfer").selector,
            function: "transfer(address,uint256)",
            rules: [{ argument: 0, op: "eq", value: BigInt(f.recipient) }],
          },
        ],
      });
      const message = sessionGrantMessage(session);
      expect(message.addressRules).to.deep.equal([
        { target: usdc, signature: "transfer(address,uint256)", argument: 1, condition: "equals", value: f.recipient },
      ]);
      expect(message.numberRules).to.deep.equal([]);
      // Entry 0, argument index 0, op RULE_EQ (1), the recipient.
      expect(await grantedRules(f, message, await signGrant(f, session))).to.deep.equal([
        (1n << 232n) | BigInt(f.recipient),
      ]);
    });

    it("T29: installs the rules of both lists merged in the module's order", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const usdc = f.usdc.target as string;
      const text = "pay(uint64,address,bool)";
      const session = typicalSession(f, {
        scope: [
          {
            target: usdc,
            selector: ethers.id(text).slice(0, 10),
            function: text,
            rules: [
              { argument: 2, op: "eq", value: 1n },
              { argument: 1, op: "eq", value: BigInt(f.recipient) },
              { argument: 0, op: "le", value: 7n },
              { argument: 0, op: "ge", value: 2n },
            ],
          },
        ],
      });
      const message = sessionGrantMessage(session);
      expect(message.addressRules.map((r) => r.argument)).to.deep.equal([2]);
      expect(message.numberRules.map((r) => [r.argument, r.condition, r.value])).to.deep.equal([
        [1, "at most", 7n],
        [1, "at least", 2n],
        [3, "equals", 1n],
      ]);
      expect(await grantedRules(f, message, await signGrant(f, session))).to.deep.equal([
        (2n << 232n) | 7n,
        (3n << 232n) | 2n,
        (1n << 240n) | (1n << 232n) | BigInt(f.recipient),
        (2n << 240n) | (1n << 232n) | 1n,
      ]);
    });

    it("T29: installs each period's words as their seconds, in every unit", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const cases: [string, bigint][] = [
        ["3601 seconds", 3_601n],
        ["90 minutes", 5_400n],
        ["2 hours", 7_200n],
        ["3 days", 259_200n],
        ["2 weeks", 1_209_600n],
        ["lifetime", 0n],
      ];
      const installed: bigint[] = [];
      for (const [i, [period]] of cases.entries()) {
        const session = typicalSession(f, { sessionId: 10 + i, nonce: BigInt(100 + i) });
        const { message, signature } = await signedEdited(
          f,
          (m) => {
            m.budgets[0]!.period = period;
          },
          session,
        );
        await (await f.sessionModule.connect(f.stranger).grantWithSignature(message, signature)).wait();
        const asset = message.budgets[0]!.limit.token;
        installed.push((await f.spendLimitHook.getBudget(f.accountAddress, 10 + i, asset)).periodLength);
      }
      expect(installed).to.deep.equal(cases.map(([, seconds]) => seconds));
    });

    it("T29: installs the pseudo-functions as the pseudo-selectors, and a tuple signature as its hash", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const swap = "swap((address,uint256)[],bytes)";
      const session = typicalSession(f, {
        canSignMessages: true,
        scope: [
          { target: f.recipient, selector: SELECTOR_ANY },
          { target: f.stranger.address, selector: SELECTOR_SIGN },
          { target: f.usdc.target as string, selector: ethers.id(swap).slice(0, 10), function: swap },
        ],
      });
      const message = sessionGrantMessage(session);
      expect(message.scope.map((e) => e.signature)).to.deep.equal(["(any function)", "(sign typed data)", swap]);
      await expect(f.sessionModule.connect(f.stranger).grantWithSignature(message, await signGrant(f, session)))
        .to.emit(f.sessionModule, "SessionGranted")
        .withArgs(
          f.accountAddress,
          SESSION_ID,
          f.agent.address,
          1n,
          session.validAfter,
          session.validUntil,
          session.valueCapPerCall,
          true,
          [f.recipient, f.stranger.address, f.usdc.target],
          [SELECTOR_ANY, SELECTOR_SIGN, ethers.id(swap).slice(0, 10)],
          [],
        );
    });

    it("T29: installs an Unlimited value cap per call as the largest cap", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f, { valueCapPerCall: (1n << 128n) - 1n });
      const message = sessionGrantMessage(session);
      expect(message.valueCapPerCall).to.deep.equal({ token: ZeroAddress, amount: MaxUint256 });
      await (await f.sessionModule.connect(f.stranger).grantWithSignature(message, await signGrant(f, session))).wait();
      expect((await f.sessionModule.getSession(f.accountAddress, SESSION_ID)).valueCapPerCall).to.equal(
        (1n << 128n) - 1n,
      );
    });

    it("T29: installs a rule on an argument after a dynamic parameter, whose head word is one offset", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const text = "swap(address[],address)";
      const session = typicalSession(f, {
        scope: [
          {
            target: f.usdc.target as string,
            selector: ethers.id(text).slice(0, 10),
            function: text,
            rules: [{ argument: 1, op: "eq", value: BigInt(f.recipient) }],
          },
        ],
      });
      const message = sessionGrantMessage(session);
      expect(message.addressRules.map((r) => [r.signature, r.argument])).to.deep.equal([[text, 2]]);
      await expect(
        f.sessionModule.connect(f.stranger).grantWithSignature(message, await signGrant(f, session)),
      ).to.emit(f.sessionModule, "SessionGranted");
    });

    it("writes periods in the largest whole unit, singular for one", function () {
      expect([0n, 1n, 90n, 3600n, DAY, 2n * DAY, 7n * DAY, 86_401n].map(grantPeriodText)).to.deep.equal([
        "lifetime",
        "1 second",
        "90 seconds",
        "1 hour",
        "1 day",
        "2 days",
        "1 week",
        "86401 seconds",
      ]);
    });
  });

  describe("what would misread is refused, and grants nothing", function () {
    for (const text of [
      // Real selector collisions with transfer and approve: what the owner would read is not what would be allowed.
      "many_msg_babbage(bytes1)",
      "sign_szabo_bytecode(bytes16,uint128)",
      "transfer(Address,uint256)",
      "transfer((address,uint256)",
      "transfer(address))",
      "0xa9059cbb",
      "transfer (address,uint256)",
      "transfer(address, uint256)",
      "transfer",
      "1transfer(address)",
      "transfer(address)x",
      "(any)",
    ]) {
      it(`T29: refuses the function text "${text}"`, async function () {
        const f = await networkHelpers.loadFixture(fixture);
        const { message, signature } = await signedEdited(f, (m) => {
          m.scope[1]!.signature = text;
        });
        await expectGrantRefused(f, message, signature, "GrantFunctionInvalid");
      });
    }

    for (const period of [
      "86400",
      "1 days",
      "2 day",
      "01 day",
      "0 days",
      "1  day",
      "1 fortnight",
      "1 Day",
      "281474976710656 seconds",
      "999999999999 weeks",
    ]) {
      it(`T29: refuses the budget period "${period}"`, async function () {
        const f = await networkHelpers.loadFixture(fixture);
        const { message, signature } = await signedEdited(f, (m) => {
          m.budgets[0]!.period = period;
        });
        await expectGrantRefused(f, message, signature, "GrantPeriodInvalid");
      });
    }

    it("T29: refuses a per-op cap of 0, which would read as nothing while the hook reads it as no cap", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { message, signature } = await signedEdited(f, (m) => {
        m.budgets[0]!.perCallCap.amount = 0n;
      });
      await expectGrantRefused(f, message, signature, "GrantAmountInvalid");
    });

    it("T29: refuses a per-op cap shown in another token than its budget's", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { message, signature } = await signedEdited(f, (m) => {
        m.budgets[0]!.perCallCap.token = f.usdc.target as string;
      });
      await expectGrantRefused(f, message, signature, "GrantAmountInvalid");
    });

    it("T29: refuses a per-call value cap shown in a token", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { message, signature } = await signedEdited(f, (m) => {
        m.valueCapPerCall.token = f.usdc.target as string;
      });
      await expectGrantRefused(f, message, signature, "GrantAmountInvalid");
    });

    it("T29: refuses a per-call value cap above 2^128 - 1 that is not Unlimited", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { message, signature } = await signedEdited(f, (m) => {
        m.valueCapPerCall.amount = 1n << 128n;
      });
      await expectGrantRefused(f, message, signature, "GrantAmountInvalid");
    });

    /** A rule written into either list of a typical grant, on its USDC entry (or on `text` there). */
    interface RuleCase {
      list: "address" | "number";
      argument: number;
      condition: string;
      value?: bigint;
      text?: string;
      signature?: string;
    }
    for (const [what, rule] of [
      ["argument 0 (they count from 1)", { list: "address", argument: 0, condition: "equals" }],
      ['the condition "is"', { list: "address", argument: 1, condition: "is" }],
      ["a value of 2^232", { list: "number", argument: 2, condition: "at most", value: 1n << 232n }],
      [
        "a function its target does not list",
        { list: "address", argument: 1, condition: "equals", signature: "approve(address,uint256)" },
      ],
      [
        "argument 3 of a two-parameter function (a word the function does not read)",
        { list: "number", argument: 3, condition: "equals" },
      ],
      ["a uint8 value of 256", { list: "number", argument: 1, condition: "at most", value: 256n, text: "f(uint8)" }],
      [
        "an argument after a tuple (its words are not one)",
        { list: "address", argument: 2, condition: "equals", text: "f((uint256,uint256),address)" },
      ],
      [
        "an argument after a fixed-size array",
        { list: "address", argument: 2, condition: "equals", text: "f(uint256[2],address)" },
      ],
      [
        "a string parameter (its head word is an offset)",
        { list: "address", argument: 1, condition: "equals", text: "f(string,address)" },
      ],
      ["a bool value of 2", { list: "number", argument: 1, condition: "at least", value: 2n, text: "f(bool)" }],
      ["a function without parameters", { list: "number", argument: 1, condition: "equals", text: "f()" }],
      [
        "a parameter type that is not uintN (uintx)",
        { list: "number", argument: 1, condition: "equals", text: "f(uintx)" },
      ],
      [
        "a uint size that is not a whole number of bytes (uint7)",
        { list: "number", argument: 1, condition: "equals", text: "f(uint7)" },
      ],
      ["an address shown for a uint parameter", { list: "address", argument: 2, condition: "equals" }],
      ["a number shown for an address parameter", { list: "number", argument: 1, condition: "equals" }],
    ] as [string, RuleCase][]) {
      it(`T29: refuses a rule with ${what}`, async function () {
        const f = await networkHelpers.loadFixture(fixture);
        const { message, signature } = await signedEdited(f, (m) => {
          const entry = m.scope[1]!;
          if (rule.text !== undefined) entry.signature = rule.text;
          const head = {
            target: entry.target,
            signature: rule.signature ?? entry.signature,
            argument: rule.argument,
            condition: rule.condition,
          };
          const value = rule.value ?? 1n;
          if (rule.list === "address") m.addressRules = [{ ...head, value: f.recipient }];
          if (rule.list === "number") m.numberRules = [{ ...head, value }];
        });
        await expectGrantRefused(f, message, signature, "GrantRuleInvalid");
      });
    }

    it("T29: refuses two equal rules, which the module would hold once while the owner read two", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { message, signature } = await signedEdited(f, (m) => {
        const entry = m.scope[1]!;
        const rule = { target: entry.target, signature: entry.signature, argument: 2, condition: "at most" };
        m.numberRules = [
          { ...rule, value: 5n },
          { ...rule, value: 5n },
        ];
      });
      await expect(
        f.sessionModule.connect(f.stranger).grantWithSignature(message, signature),
      ).to.be.revertedWithCustomError(f.sessionModule, "SessionArgumentRuleInvalid");
      expect((await f.sessionModule.getSession(f.accountAddress, SESSION_ID)).agent).to.equal(ZeroAddress);
    });
  });

  describe("signed nonce cancellation", function () {
    it("voids a pending signed grant when anyone submits the owner's cancellation, and the grant then installs nothing", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const session = typicalSession(f);
      const grantSignature = await signGrant(f, session);
      const cancellation = { account: f.accountAddress, nonce: session.nonce };
      await expect(
        f.sessionModule
          .connect(f.stranger)
          .cancelNonceWithSignature(cancellation.account, cancellation.nonce, await signCancellation(f, cancellation)),
      )
        .to.emit(f.sessionModule, "NonceUsed")
        .withArgs(f.accountAddress, session.nonce);
      await expect(
        f.sessionModule.connect(f.stranger).grantWithSignature(sessionGrantMessage(session), grantSignature),
      ).to.be.revertedWithCustomError(f.sessionModule, "SessionNonceUsed");
      expect((await f.sessionModule.getSession(f.accountAddress, SESSION_ID)).agent).to.equal(ZeroAddress);
    });

    it("refuses a cancellation not signed by the owner, and the nonce stays unused", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const cancellation = { account: f.accountAddress, nonce: 99n };
      const signature = await signCancellation(f, cancellation, f.agent);
      await expect(
        f.sessionModule
          .connect(f.stranger)
          .cancelNonceWithSignature(cancellation.account, cancellation.nonce, signature),
      ).to.be.revertedWithCustomError(f.sessionModule, "SessionOwnerSignatureInvalid");
      expect(await f.sessionModule.isNonceUsed(f.accountAddress, 99n)).to.equal(false);
    });
  });
});
