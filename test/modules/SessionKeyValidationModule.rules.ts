/**
 * Argument rules (THREATS 27): the owner pins a scoped function's static arguments (a recipient, a swap's `to`, an
 * amount bound); a call that breaks one is refused in validation, also through dirty high bits, short calldata, one
 * item of a batch, or a wildcard on the same target. Through the account and the real EntryPoint v0.8.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, concat, id, parseUnits, toBeHex, zeroPadValue } from "ethers";

import { encodeArgumentRules, SELECTOR_ANY, sessionInstallArgs, type ScopeEntry } from "../../client/session.js";
import {
  executeCall,
  grantByTransaction,
  ownerCall,
  SESSION_ID,
  sessionFixture,
  sessionOp,
  typicalSession,
  usdcTransfer,
  type SessionFixture,
} from "../helpers/sessions.js";
import { opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

const USDC = (amount: string) => parseUnits(amount, 6);
const SWAP = "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)";

async function expectViolation(
  f: SessionFixture,
  callData: string,
  target: string,
  selector: string,
  argument: number,
) {
  const { op } = await sessionOp(f, callData);
  await expect(sendOp(ethers, f.entryPoint, op))
    .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
    .withArgs(
      0n,
      "AA23 reverted",
      f.sessionModule.interface.encodeErrorResult("SessionArgumentRuleViolated", [target, selector, argument]),
    );
}

/**
 * The owner installs a session allowed USDC's transfer whose argument rules are `words` exactly as given (unsorted or
 * malformed ones included): the install data is encoded by hand, since the client only encodes valid rules.
 */
async function installWithRawRules(f: SessionFixture, words: bigint[]) {
  const usdc = f.usdc.target as string;
  const selector = f.usdc.interface.getFunction("transfer").selector;
  const session = typicalSession(f, { scope: [{ target: usdc, selector }] });
  const installData = AbiCoder.defaultAbiCoder().encode(
    ["tuple(uint32,address,uint48,uint48,uint128,bool,address[],bytes4[],uint256[])"],
    [
      [
        SESSION_ID,
        f.agent.address,
        session.validAfter,
        session.validUntil,
        session.valueCapPerCall,
        false,
        [usdc],
        [selector],
        words,
      ],
    ],
  );
  const [config, selectors, , hooks] = sessionInstallArgs(session, f.addresses);
  return ownerCall(
    f,
    f.account.interface.encodeFunctionData("installValidation", [config, selectors, installData, hooks]),
  );
}

describe("SessionKeyValidationModule argument rules (THREATS 27)", function () {
  /** USDC transfer only to the recipient or the stranger, at most 50 USDC per call. */
  async function pinnedFixture() {
    const f = await sessionFixture(ethers, networkHelpers);
    const usdc = f.usdc.target as string;
    const transfer: ScopeEntry = {
      target: usdc,
      selector: f.usdc.interface.getFunction("transfer").selector,
      rules: [
        { argument: 0, op: "eq", value: BigInt(f.recipient) },
        { argument: 0, op: "eq", value: BigInt(f.stranger.address) },
        { argument: 1, op: "le", value: USDC("50") },
      ],
    };
    await (await grantByTransaction(f, typicalSession(f, { scope: [transfer] }))).wait();
    return { ...f, transferSelector: transfer.selector };
  }
  const pay = (f: SessionFixture, to: string, amount: bigint) =>
    executeCall(f, f.usdc.target as string, 0n, usdcTransfer(f, to, amount));

  it("T27: refuses a transfer to a recipient other than the pinned ones, and nothing moves", async function () {
    const f = await networkHelpers.loadFixture(pinnedFixture);
    await expectViolation(f, pay(f, f.agent.address, USDC("1")), f.usdc.target as string, f.transferSelector, 0);
    expect(await f.usdc.balanceOf(f.agent.address)).to.equal(0n);
  });

  it("T27: allows a transfer to each recipient of a one-of rule, within the amount bound", async function () {
    const f = await networkHelpers.loadFixture(pinnedFixture);
    for (const to of [f.recipient, f.stranger.address]) {
      const { op } = await sessionOp(f, pay(f, to, USDC("50")));
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
      expect(await f.usdc.balanceOf(to)).to.equal(USDC("50"));
    }
  });

  it("T27: refuses an amount over the rule's bound (amount <= 50 USDC)", async function () {
    const f = await networkHelpers.loadFixture(pinnedFixture);
    await expectViolation(f, pay(f, f.recipient, USDC("50") + 1n), f.usdc.target as string, f.transferSelector, 1);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
  });

  it("T27: refuses a pinned recipient written with dirty high bits", async function () {
    const f = await networkHelpers.loadFixture(pinnedFixture);
    const dirty = zeroPadValue(concat(["0x01", f.recipient]), 32);
    const data = concat([f.transferSelector, dirty, toBeHex(USDC("1"), 32)]);
    await expectViolation(
      f,
      executeCall(f, f.usdc.target as string, 0n, data),
      f.usdc.target as string,
      f.transferSelector,
      0,
    );
  });

  it("T27: refuses a batch whose one item breaks a rule, and nothing of the batch runs", async function () {
    const f = await networkHelpers.loadFixture(pinnedFixture);
    const usdc = f.usdc.target as string;
    const batch = f.account.interface.encodeFunctionData("executeBatch", [
      [
        { target: usdc, value: 0n, data: usdcTransfer(f, f.recipient, USDC("10")) },
        { target: usdc, value: 0n, data: usdcTransfer(f, f.agent.address, USDC("10")) },
      ],
    ]);
    await expectViolation(f, batch, usdc, f.transferSelector, 0);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(0n);
  });

  it("T27: refuses a grant with a wildcard on a target whose function has rules, and installs nothing", async function () {
    const f = await sessionFixture(ethers, networkHelpers);
    const usdc = f.usdc.target as string;
    const transferSelector = f.usdc.interface.getFunction("transfer").selector;
    const scope: ScopeEntry[] = [
      { target: usdc, selector: transferSelector, rules: [{ argument: 0, op: "eq", value: BigInt(f.recipient) }] },
      { target: usdc, selector: SELECTOR_ANY },
    ];
    // The wildcard could reach a batching function no list names, and through it the ruled transfer.
    await expect(grantByTransaction(f, typicalSession(f, { scope })))
      .to.be.revertedWithCustomError(f.sessionModule, "SessionArgumentRuleBypassable")
      .withArgs(usdc, SELECTOR_ANY);
    expect(await f.sessionModule.grantCountOf(f.accountAddress)).to.equal(0n);
  });

  describe("a router swap whose `to` must be the account itself", function () {
    async function routerFixture() {
      const f = await sessionFixture(ethers, networkHelpers);
      const router = await ethers.deployContract("ReentrantTarget");
      const selector = id(SWAP).slice(0, 10);
      const rules = [{ argument: 3, op: "eq" as const, value: BigInt(f.accountAddress) }];
      await (
        await grantByTransaction(
          f,
          typicalSession(f, { scope: [{ target: router.target as string, selector, rules }] }),
        )
      ).wait();
      return { ...f, router: router.target as string, selector };
    }
    const swap = (f: SessionFixture, selector: string, to: string, amountOutMin = 0n) =>
      concat([
        selector,
        AbiCoder.defaultAbiCoder().encode(
          ["uint256", "uint256", "address[]", "address", "uint256"],
          [USDC("10"), amountOutMin, [f.usdc.target as string, f.recipient], to, 2n ** 40n],
        ),
      ]);

    it("T27: refuses a swap that sends its output to the agent", async function () {
      const f = await networkHelpers.loadFixture(routerFixture);
      await expectViolation(
        f,
        executeCall(f, f.router, 0n, swap(f, f.selector, f.agent.address)),
        f.router,
        f.selector,
        3,
      );
    });

    it("T27: refuses calldata too short to hold the pinned argument", async function () {
      const f = await networkHelpers.loadFixture(routerFixture);
      // amountIn, amountOutMin and the path's offset: the call ends before `to`.
      const short = swap(f, f.selector, f.accountAddress).slice(0, 2 + 2 * (4 + 3 * 32));
      await expectViolation(f, executeCall(f, f.router, 0n, short), f.router, f.selector, 3);
    });

    it("T27: allows the swap whose output goes to the account, whatever its path's offset", async function () {
      const f = await networkHelpers.loadFixture(routerFixture);
      const { op } = await sessionOp(f, executeCall(f, f.router, 0n, swap(f, f.selector, f.accountAddress)));
      expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
    });

    describe("with a floor on amountOutMin (a ge rule)", function () {
      /** The swap's `to` pinned to the account, and its amountOutMin (argument 1) at least 9 USDC. */
      async function floorFixture() {
        const f = await sessionFixture(ethers, networkHelpers);
        const router = await ethers.deployContract("ReentrantTarget");
        const selector = id(SWAP).slice(0, 10);
        const rules = [
          { argument: 1, op: "ge" as const, value: USDC("9") },
          { argument: 3, op: "eq" as const, value: BigInt(f.accountAddress) },
        ];
        await (
          await grantByTransaction(
            f,
            typicalSession(f, { scope: [{ target: router.target as string, selector, rules }] }),
          )
        ).wait();
        return { ...f, router: router.target as string, selector };
      }

      it("T27: allows a swap whose amountOutMin is at least the owner's floor", async function () {
        const f = await networkHelpers.loadFixture(floorFixture);
        for (const amountOutMin of [USDC("9"), USDC("10")]) {
          const data = swap(f, f.selector, f.accountAddress, amountOutMin);
          const { op } = await sessionOp(f, executeCall(f, f.router, 0n, data));
          expect(opSucceeded(f.entryPoint, await sendOp(ethers, f.entryPoint, op))).to.equal(true);
        }
      });

      it("T27: refuses a swap whose amountOutMin is one unit below the owner's floor", async function () {
        const f = await networkHelpers.loadFixture(floorFixture);
        const data = swap(f, f.selector, f.accountAddress, USDC("9") - 1n);
        await expectViolation(f, executeCall(f, f.router, 0n, data), f.router, f.selector, 1);
      });
    });
  });

  describe("grants", function () {
    it("T27: stores each rule of the grant and emits them with the scope", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const session = typicalSession(f, {
        scope: [
          {
            target: f.usdc.target as string,
            selector: f.usdc.interface.getFunction("transfer").selector,
            rules: [{ argument: 0, op: "eq", value: BigInt(f.recipient) }],
          },
        ],
      });
      await expect(grantByTransaction(f, session))
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
          [f.usdc.target],
          [session.scope[0]!.selector],
          encodeArgumentRules(session.scope),
        );
    });

    const invalid: { title: string; rule: (f: SessionFixture) => bigint }[] = [
      { title: "an unknown op", rule: () => (0n << 248n) | (0n << 240n) | (4n << 232n) | 1n },
      { title: "an entry that does not exist", rule: () => (5n << 248n) | (1n << 232n) | 1n },
      { title: "an argument index of 255", rule: () => (255n << 240n) | (1n << 232n) | 1n },
    ];
    for (const { title, rule } of invalid) {
      it(`T27: refuses a grant with a rule of ${title}, and installs nothing`, async function () {
        const f = await sessionFixture(ethers, networkHelpers);
        const word = rule(f);
        await expect(installWithRawRules(f, [word]))
          .to.be.revertedWithCustomError(f.sessionModule, "SessionArgumentRuleInvalid")
          .withArgs(word);
        expect(await f.sessionModule.grantCountOf(f.accountAddress)).to.equal(0n);
      });
    }

    it("T27: refuses a grant of 33 argument rules, one over MAX_ARGUMENT_RULES, and installs nothing", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const max = await f.sessionModule.MAX_ARGUMENT_RULES();
      expect(max).to.equal(32n);
      // Well-formed and ascending (eq rules on argument 0, one per value): only their number is wrong.
      const rules = Array.from({ length: Number(max) + 1 }, (_, i) => (1n << 232n) | BigInt(i + 1));
      await expect(installWithRawRules(f, rules))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionArgumentRuleInvalid")
        .withArgs(max + 1n);
      expect(await f.sessionModule.grantCountOf(f.accountAddress)).to.equal(0n);
    });

    it("T27: refuses rules that are not in ascending order (a rule cannot hide behind another)", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      // Same entry, argument 1 then argument 0: descending.
      const high = (1n << 240n) | (2n << 232n) | 5n;
      const low = (0n << 240n) | (1n << 232n) | BigInt(f.recipient);
      await expect(installWithRawRules(f, [high, low]))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionArgumentRuleInvalid")
        .withArgs(low);
    });

    for (const multicall of [
      "multicall(bytes[])",
      "multicall(uint256,bytes[])",
      "multicall(bytes32,bytes[])",
      "batch(bytes[],bool)",
    ]) {
      it(`T27: refuses a grant that scopes ${multicall} on a target whose function has rules, and installs nothing`, async function () {
        const f = await sessionFixture(ethers, networkHelpers);
        const usdc = f.usdc.target as string;
        const batch = id(multicall).slice(0, 10);
        const scope: ScopeEntry[] = [
          {
            target: usdc,
            selector: f.usdc.interface.getFunction("transfer").selector,
            rules: [{ argument: 0, op: "eq", value: BigInt(f.recipient) }],
          },
          { target: usdc, selector: batch },
        ];
        await expect(grantByTransaction(f, typicalSession(f, { scope })))
          .to.be.revertedWithCustomError(f.sessionModule, "SessionArgumentRuleBypassable")
          .withArgs(usdc, batch);
        expect(await f.sessionModule.grantCountOf(f.accountAddress)).to.equal(0n);
      });
    }

    it("T27: allows a multicall on another target than the ruled one", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const router = await ethers.deployContract("ReentrantTarget");
      const batch = id("multicall(bytes[])").slice(0, 10);
      const scope: ScopeEntry[] = [
        {
          target: f.usdc.target as string,
          selector: f.usdc.interface.getFunction("transfer").selector,
          rules: [{ argument: 0, op: "eq", value: BigInt(f.recipient) }],
        },
        { target: router.target as string, selector: batch },
      ];
      await (await grantByTransaction(f, typicalSession(f, { scope }))).wait();
      expect(await f.sessionModule.isInScope(f.accountAddress, SESSION_ID, router.target as string, batch)).to.equal(
        true,
      );
    });

    it("refuses a scope that lists the same target and function twice", async function () {
      const f = await sessionFixture(ethers, networkHelpers);
      const entry = { target: f.usdc.target as string, selector: f.usdc.interface.getFunction("transfer").selector };
      await expect(grantByTransaction(f, typicalSession(f, { scope: [entry, entry] })))
        .to.be.revertedWithCustomError(f.sessionModule, "SessionScopeEntryDuplicated")
        .withArgs(entry.target, entry.selector);
    });
  });
});
