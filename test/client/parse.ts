/**
 * The client's input parsing: each accepted syntax gives the exact value, each malformed or out-of-range input is
 * refused with its own error class and a message that says what to fix.
 */
import { expect } from "chai";
import { id } from "ethers";

import {
  InvalidAddressError,
  InvalidAmountError,
  InvalidPeriodError,
  InvalidScopeError,
  InvalidSessionIdError,
  InvalidTimeError,
} from "../../client/inputErrors.js";
import {
  MAX_BUDGET_LIMIT,
  parseAddress,
  parseAmount,
  parseBudget,
  parseDuration,
  parsePeriod,
  parseScopeEntry,
  parseSessionId,
  parseTime,
} from "../../client/parse.js";
import { DEFAULT_START_SKEW, parseGrantTimes } from "../../client/grant.js";
import { SELECTOR_ANY, SELECTOR_NO_CALLDATA } from "../../client/session.js";

const USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";

const OTHER = "0x00000000000000000000000000000000000000A1";

describe("client input parsing", function () {
  describe("parseAddress", function () {
    it("accepts a checksummed address and an all-lowercase one, returning it checksummed", function () {
      expect([parseAddress(USDC, "--agent"), parseAddress(USDC.toLowerCase(), "--agent")]).to.deep.equal([USDC, USDC]);
    });

    it("refuses a mixed-case address with a wrong checksum, naming the checksummed form", function () {
      const typo = USDC.replace("A0b8", "a0B8");
      expect(() => parseAddress(typo, "--agent"))
        .to.throw(InvalidAddressError, /wrong EIP-55 checksum/)
        .with.property("field", "--agent");
    });

    it("refuses a short or non-hex address", function () {
      expect(() => parseAddress("0x1234", "--agent")).to.throw(InvalidAddressError, /40 hex digits/);
      expect(() => parseAddress("vitalik.eth", "--agent")).to.throw(InvalidAddressError);
    });
  });

  describe("durations, times and periods", function () {
    it("reads 90s, 30m, 24h, 7d and 2w as seconds", function () {
      expect(["90s", "30m", "24h", "7d", "2w"].map((d) => parseDuration(d, "--ttl"))).to.deep.equal([
        90n,
        1_800n,
        86_400n,
        604_800n,
        1_209_600n,
      ]);
    });

    it("refuses a zero, unitless or negative duration", function () {
      for (const bad of ["0h", "24", "-1h", "1y"]) expect(() => parseDuration(bad, "--ttl")).to.throw(InvalidTimeError);
    });

    it("reads ISO times with a zone and bare dates as UTC", function () {
      expect([
        parseTime("2026-12-01T18:00:00Z", "--valid-until", 0n),
        parseTime("2026-12-01T20:00+02:00", "--valid-until", 0n),
        parseTime("2026-12-01", "--valid-until", 0n),
      ]).to.deep.equal([1_796_148_000n, 1_796_148_000n, 1_796_083_200n]);
    });

    it("refuses a date that does not exist instead of rolling it over (2026-02-31, 24:00)", function () {
      for (const bad of ["2026-02-31", "2026-02-29T10:00Z", "2026-12-01T24:00Z"]) {
        expect(() => parseTime(bad, "--valid-until", 0n)).to.throw(InvalidTimeError, /not a date that exists/);
      }
    });

    it("refuses a date-time without a time zone", function () {
      expect(() => parseTime("2026-12-01T18:00", "--valid-until", 0n)).to.throw(InvalidTimeError, /time zone/);
    });

    it("reads hour, day, week, lifetime and n-unit periods", function () {
      expect(["hour", "day", "week", "lifetime", "30d", "3600s"].map((p) => parsePeriod(p, "p"))).to.deep.equal([
        3_600n,
        86_400n,
        604_800n,
        0n,
        2_592_000n,
        3_600n,
      ]);
    });

    it("refuses a period longer than the packing's 8,388,607 seconds", function () {
      expect(() => parsePeriod("98d", "p")).to.throw(InvalidPeriodError, /97 days/);
    });
  });

  describe("a grant's times (parseGrantTimes)", function () {
    const now = 1_800_000_000n;

    it("starts a grant without --valid-after 60 s before the chain's time, and counts --ttl from that start", function () {
      expect(DEFAULT_START_SKEW).to.equal(60n);
      expect(parseGrantTimes({ ttl: "24h" }, now)).to.deep.equal({
        validAfter: now - 60n,
        validUntil: now - 60n + 86_400n,
      });
    });

    it("refuses a --ttl that the 60 s early start leaves expired, saying why", function () {
      expect(() => parseGrantTimes({ ttl: "60s" }, now)).to.throw(
        InvalidTimeError,
        /starts 60 s before the chain's time/,
      );
    });

    it("keeps a --valid-after given as it is", function () {
      expect(parseGrantTimes({ ttl: "1h", validAfter: "2027-01-15T10:00:00Z" }, now)).to.deep.equal({
        validAfter: 1_800_007_200n,
        validUntil: 1_800_010_800n,
      });
    });
  });

  describe("amounts and budgets", function () {
    it("scales an amount by the token's decimals", function () {
      expect([parseAmount("50", 6, "b"), parseAmount("0.25", 18, "b")]).to.deep.equal([
        50_000_000n,
        250_000_000_000_000_000n,
      ]);
    });

    it("refuses zero, negative, too precise and above-2^96 amounts", function () {
      expect(() => parseAmount("0", 6, "b")).to.throw(InvalidAmountError, /above zero/);
      expect(() => parseAmount("-5", 6, "b")).to.throw(InvalidAmountError, /negative/);
      expect(() => parseAmount("0.0000001", 6, "b")).to.throw(InvalidAmountError, /only 6/);
      expect(() => parseAmount((MAX_BUDGET_LIMIT + 1n).toString(), 0, "b")).to.throw(InvalidAmountError, /more than/);
      expect(() => parseAmount("1e6", 6, "b")).to.throw(InvalidAmountError, /plain decimal/);
    });

    it("parses a budget with a symbol, an address, a period and an optional per-op cap", function () {
      expect(parseBudget("50 usdc/day")).to.deep.include({ amount: "50", asset: "USDC", period: 86_400n });
      expect(parseBudget(`1.5 ${USDC.toLowerCase()} / week cap 0.5`)).to.deep.include({
        amount: "1.5",
        asset: USDC,
        period: 604_800n,
        cap: "0.5",
      });
    });

    it("refuses a budget without a period", function () {
      expect(() => parseBudget("50 USDC")).to.throw(InvalidAmountError, /<period>/);
    });
  });

  describe("scope entries", function () {
    it("turns a signature into its selector, canonicalising uint to uint256", function () {
      expect(parseScopeEntry(`${USDC}:transfer(address, uint)`)).to.deep.equal({
        target: USDC,
        selector: id("transfer(address,uint256)").slice(0, 10),
        signature: "transfer(address,uint256)",
      });
    });

    it("accepts a raw selector, receive and the * wildcard", function () {
      expect([
        parseScopeEntry(`${USDC}:0xA9059CBB`).selector,
        parseScopeEntry(`${USDC}:receive`).selector,
        parseScopeEntry(`${USDC}:*`).selector,
      ]).to.deep.equal(["0xa9059cbb", SELECTOR_NO_CALLDATA, SELECTOR_ANY]);
    });

    it("refuses a bare function name, suggesting the known signature", function () {
      expect(() => parseScopeEntry(`${USDC}:transfer`)).to.throw(InvalidScopeError, /transfer\(address,uint256\)/);
    });

    it("refuses a pseudo-selector written as hex and an entry without a function", function () {
      expect(() => parseScopeEntry(`${USDC}:0xffffffff`)).to.throw(InvalidScopeError, /write \*/);
      expect(() => parseScopeEntry(USDC)).to.throw(InvalidScopeError, /<address>:<function signature>/);
    });

    it("parses argument rules by parameter name: one-of recipients and an amount bound (THREATS 27)", function () {
      const entry = parseScopeEntry(`${USDC}:transfer(address to, uint256 amount) to=${USDC}|${OTHER} amount<=50`);
      expect([entry.selector, entry.signature, entry.namedSignature]).to.deep.equal([
        id("transfer(address,uint256)").slice(0, 10),
        "transfer(address,uint256)",
        "transfer(address to, uint256 amount)",
      ]);
      expect(
        entry.rules?.map(({ name, argument, type, op, values }) => ({ name, argument, type, op, values })),
      ).to.deep.equal([
        { name: "to", argument: 0, type: "address", op: "eq", values: [USDC, OTHER] },
        { name: "amount", argument: 1, type: "uint256", op: "le", values: ["50"] },
      ]);
    });

    it("places a rule on the head word after a dynamic parameter (a swap's to after its path)", function () {
      const entry = parseScopeEntry(
        `${USDC}:swapExactTokensForTokens(uint256 amountIn,uint256 amountOutMin,address[] path,address to,uint256 deadline) to=${OTHER}`,
      );
      expect(entry.rules?.[0]?.argument).to.equal(3);
    });

    it("refuses rules on unnamed, unknown, dynamic or multi-word-preceded parameters, and bounds on addresses", function () {
      const cases: [string, RegExp][] = [
        [`${USDC}:transfer(address,uint256) to=${OTHER}`, /give the parameters names/],
        [`${USDC}:transfer(address to,uint256 amount) from=${OTHER}`, /names no parameter/],
        [`${USDC}:f(bytes data) data=0x01`, /rules apply to address, bool and uintN/],
        [`${USDC}:f(uint256[2] pair,address to) to=${OTHER}`, /no tuple or fixed-size array before/],
        [`${USDC}:transfer(address to,uint256 amount) to<=${OTHER}`, /apply to uintN parameters only/],
        [`${USDC}:transfer(address to,uint256 amount) amount<=1|2`, /goes with = only/],
        [`${USDC}:transfer(address to,uint256 amount) amount~5`, /is not an argument rule/],
      ];
      for (const [text, message] of cases) expect(() => parseScopeEntry(text)).to.throw(InvalidScopeError, message);
    });
  });

  it("refuses a session id that is negative, fractional or the reserved 2^32 - 1", function () {
    for (const bad of ["-1", "1.5", "4294967295", "abc"]) {
      expect(() => parseSessionId(bad)).to.throw(InvalidSessionIdError);
    }
    expect(parseSessionId("7")).to.equal(7);
  });
});
