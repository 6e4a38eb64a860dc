/**
 * ValidationViewLib, which the owner and session modules use to ask an account what it reports of a validation
 * (THREATS 31), read directly through a test-only probe: the two layouts of ERC-6900's `getValidationData` answer in
 * use (the ERC text's, as Leash's account returns it, and v0.8.0-rc.6's three bools), and every malformed answer
 * (a revert, no code, short data, a wrong tuple offset, flag words out of range, an array offset or length out of
 * bounds, a third shape), each of which must read as Unknown rather than as installed or not.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, concat, dataLength, dataSlice, toBeHex } from "ethers";

import { encodeModuleEntity } from "../../client/encoding.js";
import { grantByTransaction, SESSION_ID, sessionFixture, typicalSession } from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();

const abi = AbiCoder.defaultAbiCoder();

/** The library's View: Unknown, NotInstalled, Installed. */
const UNKNOWN = 0n;
const NOT_INSTALLED = 1n;
const INSTALLED = 2n;
/** The ERC layout's flag bits. */
const USER_OP = 1n;
const SIGNATURE = 2n;
const GLOBAL = 4n;

const EXECUTE = "0xb61d27f6";
const EXECUTE_BATCH = "0x34fcd5be";
/** A hook config (bytes25): module address, entity id, flags. */
const HOOK = "0x" + "11".repeat(20) + "00000002" + "01";

/** The ERC text's layout: `(uint8 validationFlags, bytes25[] validationHooks, bytes25[] executionHooks, bytes4[])`. */
function ercAnswer(
  flags: bigint,
  validationHooks: string[] = [],
  executionHooks: string[] = [],
  selectors: string[] = [],
) {
  return abi.encode(
    ["tuple(uint8, bytes25[], bytes25[], bytes4[])"],
    [[flags, validationHooks, executionHooks, selectors]],
  );
}

/** ERC-6900 v0.8.0-rc.6's layout: `(bool isGlobal, bool isSignatureValidation, bool isUserOpValidation, ...)`. */
function rc6Answer(
  isGlobal: boolean,
  isSignature: boolean,
  isUserOp: boolean,
  validationHooks: string[] = [],
  executionHooks: string[] = [],
  selectors: string[] = [],
) {
  return abi.encode(
    ["tuple(bool, bool, bool, bytes25[], bytes25[], bytes4[])"],
    [[isGlobal, isSignature, isUserOp, validationHooks, executionHooks, selectors]],
  );
}

/** `answer` with its 32-byte word at byte `at` replaced by `value`. */
function withWord(answer: string, at: number, value: bigint) {
  return concat([dataSlice(answer, 0, at), toBeHex(value, 32), dataSlice(answer, at + 32)]);
}

/** Byte positions of the answers' words (the tuple starts after its offset word, at 32). */
const TUPLE = 32;
const word = (i: number) => TUPLE + 32 * i;

async function fixture() {
  const f = await sessionFixture(ethers, networkHelpers);
  const probe = await ethers.deployContract("ValidationViewProbe");
  const scripted = await ethers.deployContract("ScriptedViewAccount");
  const entity = encodeModuleEntity({ module: f.ownerModule.target as string, entityId: 0 });
  return { ...f, probe, scripted, entity };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

/** What the probe reads from the scripted account once it answers `answer`, as [state, flags]. */
async function readScripted(f: Fixture, answer: string): Promise<[bigint, bigint]> {
  await (await f.scripted.setAnswer(answer)).wait();
  const [state, flags] = await f.probe.read(f.scripted.target as string, f.entity);
  return [state, flags];
}

describe("ValidationViewLib", function () {
  describe("the ERC layout, as Leash's account returns it", function () {
    it("reads the root owner validation of Leash's account as installed, global, signing and user-op", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const [state, flags] = await f.probe.read(f.accountAddress, f.entity);
      expect([state, flags]).to.deep.equal([INSTALLED, GLOBAL | SIGNATURE | USER_OP]);
    });

    it("reads a session validation of Leash's account as installed with the user-op flag only", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await (await grantByTransaction(f, typicalSession(f))).wait();
      const session = encodeModuleEntity({ module: f.sessionModule.target as string, entityId: SESSION_ID });
      const [state, flags] = await f.probe.read(f.accountAddress, session);
      expect([state, flags]).to.deep.equal([INSTALLED, USER_OP]);
    });

    it("reads a validation Leash's account never installed as not installed, with no flags", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const other = encodeModuleEntity({ module: f.ownerModule.target as string, entityId: 9 });
      const [state, flags] = await f.probe.read(f.accountAddress, other);
      expect([state, flags]).to.deep.equal([NOT_INSTALLED, 0n]);
    });

    it("reads the raw answer of Leash's account the same when another account returns those bytes", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const raw = await ethers.provider.call({
        to: f.accountAddress,
        data: f.account.interface.encodeFunctionData("getValidationData", [f.entity]),
      });
      expect(raw).to.equal(ercAnswer(GLOBAL | SIGNATURE | USER_OP));
      expect(await readScripted(f, raw)).to.deep.equal([INSTALLED, GLOBAL | SIGNATURE | USER_OP]);
    });

    it("reads a validation with no flag but a selector as installed, with no flags", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await readScripted(f, ercAnswer(0n, [], [], [EXECUTE]))).to.deep.equal([INSTALLED, 0n]);
    });

    it("reads a validation with no flag but a validation hook as installed", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await readScripted(f, ercAnswer(0n, [HOOK]))).to.deep.equal([INSTALLED, 0n]);
    });

    it("passes flag bits the ERC does not define through as they are", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await readScripted(f, ercAnswer(0xf8n))).to.deep.equal([INSTALLED, 0xf8n]);
    });
  });

  describe("the rc.6 layout (three bools, then the three arrays)", function () {
    it("reads rc.6's three bools as the ERC layout's flag bits", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await readScripted(f, rc6Answer(true, false, true, [], [], [EXECUTE]))).to.deep.equal([
        INSTALLED,
        GLOBAL | USER_OP,
      ]);
    });

    it("reads rc.6's isSignatureValidation alone as the signature bit", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await readScripted(f, rc6Answer(false, true, false))).to.deep.equal([INSTALLED, SIGNATURE]);
    });

    it("reads an rc.6 validation with no flag but an execution hook as installed", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await readScripted(f, rc6Answer(false, false, false, [], [HOOK]))).to.deep.equal([INSTALLED, 0n]);
    });

    it("reads an rc.6 answer with no flag and empty arrays as not installed", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await readScripted(f, rc6Answer(false, false, false))).to.deep.equal([NOT_INSTALLED, 0n]);
    });

    it("reads an rc.6 global signing validation as such, not as the user-op flags its first word would be in the ERC layout", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      // Read as the ERC layout, this answer would be flags 1 (user op only); rc.6 says global and signing.
      expect(await readScripted(f, rc6Answer(true, true, false, [], [], [EXECUTE, EXECUTE_BATCH]))).to.deep.equal([
        INSTALLED,
        GLOBAL | SIGNATURE,
      ]);
    });
  });

  describe("answers that are neither layout", function () {
    it("answers Unknown when getValidationData reverts", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      await (await f.scripted.setAnswer(ercAnswer(GLOBAL | SIGNATURE | USER_OP))).wait();
      await (await f.scripted.setReverts(true)).wait();
      expect(await f.probe.read(f.scripted.target as string, f.entity)).to.deep.equal([UNKNOWN, 0n]);
    });

    it("answers Unknown for an address without code, which answers nothing", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await f.probe.read(f.stranger.address, f.entity)).to.deep.equal([UNKNOWN, 0n]);
    });

    it("answers Unknown for a contract without the view, which reverts", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      expect(await f.probe.read(f.usdc.target as string, f.entity)).to.deep.equal([UNKNOWN, 0n]);
    });

    it("answers Unknown for an ERC answer one byte short of its head and three lengths", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const answer = ercAnswer(GLOBAL | SIGNATURE | USER_OP);
      expect(dataLength(answer)).to.equal(32 + 0x80 + 3 * 32);
      expect(await readScripted(f, dataSlice(answer, 0, dataLength(answer) - 1))).to.deep.equal([UNKNOWN, 0n]);
    });

    it("answers Unknown when the tuple offset is not 0x20", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const answer = withWord(ercAnswer(GLOBAL | SIGNATURE | USER_OP, [], [], [EXECUTE]), 0, 0x40n);
      expect(await readScripted(f, answer)).to.deep.equal([UNKNOWN, 0n]);
    });

    it("answers Unknown for an ERC flags word above 255", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const answer = withWord(ercAnswer(GLOBAL), word(0), 0x104n);
      expect(await readScripted(f, answer)).to.deep.equal([UNKNOWN, 0n]);
    });

    for (const [index, name] of ["isGlobal", "isSignatureValidation", "isUserOpValidation"].entries()) {
      it(`answers Unknown for an rc.6 ${name} word above 1`, async function () {
        const f = await networkHelpers.loadFixture(fixture);
        const answer = withWord(rc6Answer(false, false, false, [], [], [EXECUTE]), word(index), 2n);
        expect(await readScripted(f, answer)).to.deep.equal([UNKNOWN, 0n]);
      });
    }

    it("answers Unknown for an answer too short for rc.6's head whose first array offset is not the ERC's", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      // The ERC layout with its first array offset moved: long enough for the ERC head, not for rc.6's.
      const answer = withWord(ercAnswer(0n), word(1), 0xa0n);
      expect(dataLength(answer)).to.be.lessThan(32 + 0xc0 + 3 * 32);
      expect(await readScripted(f, answer)).to.deep.equal([UNKNOWN, 0n]);
    });

    it("answers Unknown for a third shape whose head words are neither layout's array offsets", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const answer = concat([toBeHex(0x20n, 32), ...Array.from({ length: 12 }, () => toBeHex(0n, 32))]);
      expect(await readScripted(f, answer)).to.deep.equal([UNKNOWN, 0n]);
    });

    // (The first array's offset is fixed by the layout check: moving it makes the answer neither layout.)
    for (const [array, index] of [
      ["executionHooks", 2],
      ["selectors", 3],
    ] as const) {
      it(`answers Unknown for an ERC ${array} offset whose length word lies past the answer`, async function () {
        const f = await networkHelpers.loadFixture(fixture);
        const base = ercAnswer(GLOBAL, [], [], [EXECUTE]);
        // The last in-bounds length word starts 64 bytes before the end (the answer has a 32-byte tuple offset).
        const lastInBounds = BigInt(dataLength(base) - 64);
        expect(await readScripted(f, withWord(base, word(index), lastInBounds + 1n))).to.deep.equal([UNKNOWN, 0n]);
      });
    }

    it("answers Unknown for an rc.6 array offset past the answer", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const answer = withWord(rc6Answer(true, true, true), word(5), 2n ** 255n);
      expect(await readScripted(f, answer)).to.deep.equal([UNKNOWN, 0n]);
    });

    it("answers Unknown for an ERC selectors length counting more elements than the answer holds", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const base = ercAnswer(GLOBAL, [], [], [EXECUTE]);
      // The selectors' length word is the answer's second-to-last word (then the one selector's word).
      const lengthAt = dataLength(base) - 64;
      expect(await readScripted(f, withWord(base, lengthAt, 1n))).to.deep.equal([INSTALLED, GLOBAL]);
      expect(await readScripted(f, withWord(base, lengthAt, 2n))).to.deep.equal([UNKNOWN, 0n]);
    });

    it("answers Unknown for an rc.6 validationHooks length of 2^256 - 1", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const base = rc6Answer(true, false, false);
      // The validation hooks' length word is at the tuple's 0xc0.
      expect(await readScripted(f, withWord(base, TUPLE + 0xc0, 2n ** 256n - 1n))).to.deep.equal([UNKNOWN, 0n]);
    });
  });
});
