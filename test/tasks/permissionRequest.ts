/**
 * ERC-7715 permission requests (client/permissions.ts, issue 16): the mapping of each supported permission and
 * policy type to a Leash grant, each unsupported one refused with its reason before the Ledger is asked anything,
 * and `session grant --request` end to end on the emulated Ledger: the same summary as any grant, the session
 * installed as mapped, and a response whose context the client and the MCP server read directly.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

import { expect } from "chai";
import { parseUnits, toBeHex } from "ethers";

import { LeashInputError } from "../../client/inputErrors.js";
import {
  grantInputFromPermissionRequest,
  permissionContextOf,
  sessionOfPermissionContext,
  UnsupportedPermissionError,
  type PermissionRequest,
} from "../../client/permissions.js";
import { parseSessionFile } from "../../client/sessionFile.js";
import { runGrant, type GrantTaskArguments } from "../../packages/hardhat/src/tasks/session/grant.js";
import { runRevoke } from "../../packages/hardhat/src/tasks/session/revoke.js";
import {
  deployForTasks,
  deployOwnerAccount,
  expectRefusal,
  ledgerConnection,
  taskLedger,
  testEnv,
} from "../helpers/tasks.js";

const connection = await ledgerConnection();
const { ethers, networkHelpers } = connection;
const DAY = 86_400;

async function requestFixture() {
  const f = await deployForTasks(connection);
  const account = await deployOwnerAccount(connection, f);
  const chainId = (await ethers.provider.getNetwork()).chainId;
  const expiry = (await ethers.provider.getBlock("latest"))!.timestamp + 7 * DAY;
  return { ...f, account, chainId, expiry };
}
type Fixture = Awaited<ReturnType<typeof requestFixture>>;

/** One request of `f`'s account, for its agent, with `permission` and `policies`. */
function request(
  f: Fixture,
  permission: PermissionRequest["permission"],
  policies: PermissionRequest["policies"] = [],
): PermissionRequest {
  return {
    chainId: toBeHex(f.chainId),
    address: f.account,
    expiry: f.expiry,
    signer: { type: "account", data: { address: f.agent.address } },
    permission,
    policies,
  };
}

const usdcPeriodic = (f: Fixture, extra: Record<string, unknown> = {}) => ({
  type: "erc20-token-periodic",
  data: {
    tokenAddress: f.addresses.tokens.USDC,
    periodAmount: toBeHex(parseUnits("50", 6)),
    periodDuration: DAY,
    ...extra,
  },
});

async function map(f: Fixture, requests: unknown) {
  return grantInputFromPermissionRequest({ requests, provider: ethers.provider, chainId: f.chainId });
}

describe("ERC-7715 permission requests", function () {
  describe("mapping a request to a grant", function () {
    it("maps an ERC-20 periodic permission to a transfer entry and a budget in the token's units", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      const { input } = await map(f, [request(f, usdcPeriodic(f))]);
      expect(input).to.deep.include({
        account: f.account,
        agent: f.agent.address,
        allow: [`${f.addresses.tokens.USDC}:transfer(address,uint256)`],
        budgets: [`50.0 ${f.addresses.tokens.USDC}/86400s`],
      });
      expect(Date.parse(input.validUntil!) / 1000).to.equal(f.expiry);
    });

    it("pins the recipients a permission lists, as an argument rule on transfer", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      const { input } = await map(f, [request(f, usdcPeriodic(f, { recipients: [f.recipient] }))]);
      expect(input.allow).to.deep.equal([
        `${f.addresses.tokens.USDC}:transfer(address to,uint256 amount) to=${f.recipient}`,
      ]);
    });

    it("maps native periodic and allowance permissions to the ETH budget, and their recipients to plain transfers", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      const periodic = await map(f, [
        request(f, {
          type: "native-token-periodic",
          data: { periodAmount: toBeHex(parseUnits("0.1", 18)), periodDuration: DAY, recipients: [f.recipient] },
        }),
      ]);
      expect(periodic.input.budgets).to.deep.equal(["0.1 ETH/86400s"]);
      expect(periodic.input.allow).to.deep.equal([`${f.recipient}:receive`]);
      const allowance = await map(f, [
        request(f, { type: "native-token-allowance", data: { allowanceAmount: "1000000000000000000" } }),
        request(f, { type: "contract-call", data: { address: f.recipient, functions: ["ping()"] } }),
      ]);
      expect(allowance.input.budgets).to.deep.equal(["1.0 ETH/lifetime"]);
      expect(allowance.input.allow).to.deep.equal([`${f.recipient}:ping()`]);
    });

    it("maps a contract-call permission's functions to scope entries, and call-limit / rate-limit to op budgets", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      const calls = {
        type: "contract-call",
        data: { address: f.recipient, functions: ["deposit()", "withdraw(uint256)"] },
      };
      const { input } = await map(f, [request(f, calls, [{ type: "rate-limit", data: { count: 10, interval: DAY } }])]);
      expect(input.allow).to.deep.equal([`${f.recipient}:deposit()`, `${f.recipient}:withdraw(uint256)`]);
      expect(input.budgets).to.deep.equal(["10 ops/86400s"]);
      const limited = await map(f, [request(f, calls, [{ type: "call-limit", data: { count: 3 } }])]);
      expect(limited.input.budgets).to.deep.equal(["3 ops/lifetime"]);
    });

    it("refuses each type Leash cannot enforce, saying why, all at once", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      const requests = [
        request(f, { type: "erc20-token-stream", data: {} }),
        request(f, { type: "erc721-token-transfer", data: {} }),
        request(f, { type: "erc1155-token-transfer", data: {} }),
        request(f, { type: "native-token-periodic", data: { periodAmount: "0x01", periodDuration: 60 } }),
        request(f, { type: "some-future-type", data: {} }),
      ];
      try {
        await map(f, requests);
        expect.fail("mapped");
      } catch (error) {
        expect(error).to.be.instanceOf(UnsupportedPermissionError);
        const reasons = (error as UnsupportedPermissionError).reasons;
        expect(reasons).to.have.length(5);
        expect(reasons[0]).to.match(/streamed allowances are not enforced/);
        expect(reasons[1]).to.match(/native and ERC-20 amounts only/);
        expect(reasons[2]).to.match(/native and ERC-20 amounts only/);
        expect(reasons[3]).to.match(/shorter than an hour/);
        expect(reasons[4]).to.match(/unknown permission type/);
      }
    });

    it("refuses a gas-limit policy, a wallet or multisig signer, another chain, and a second budget for one token", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      const reasonsOf = async (requests: PermissionRequest[]) => {
        try {
          await map(f, requests);
        } catch (error) {
          return (error as UnsupportedPermissionError).reasons;
        }
        return [];
      };
      expect(await reasonsOf([request(f, usdcPeriodic(f), [{ type: "gas-limit", data: { limit: "0x1" } }])])).to.match(
        /not in gas units/,
      );
      expect(await reasonsOf([{ ...request(f, usdcPeriodic(f)), signer: { type: "wallet", data: {} } }])).to.match(
        /the agent holds its own key/,
      );
      expect(
        await reasonsOf([{ ...request(f, usdcPeriodic(f)), signer: { type: "keys", data: { ids: [] } } }]),
      ).to.match(/multisig/);
      expect(await reasonsOf([{ ...request(f, usdcPeriodic(f)), chainId: "0x1" }])).to.match(/is for chain 1/);
      expect(await reasonsOf([request(f, usdcPeriodic(f)), request(f, usdcPeriodic(f))])).to.match(/a second budget/);
    });

    it("refuses requests whose policies differ, even when the first has none, instead of dropping a rate limit", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      const gas = { type: "native-token-periodic", data: { periodAmount: "0x01", periodDuration: DAY } };
      const limited = request(f, usdcPeriodic(f), [{ type: "rate-limit", data: { count: 1, interval: DAY } }]);
      try {
        await map(f, [request(f, gas), limited]);
        expect.fail("mapped");
      } catch (error) {
        expect((error as UnsupportedPermissionError).reasons).to.deep.equal([
          "every request of one file must have the same policies: Leash enforces them on the whole session",
        ]);
      }
    });

    it("refuses a contract-call naming the wildcard, plain transfers or signing instead of function signatures", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      for (const fn of ["*", "sign", "receive"]) {
        try {
          await map(f, [request(f, { type: "contract-call", data: { address: f.recipient, functions: [fn] } })]);
          expect.fail(`mapped ${fn}`);
        } catch (error) {
          expect((error as UnsupportedPermissionError).reasons[0]).to.match(/must be function signatures/);
        }
      }
    });

    it("refuses a malformed request with what to fix", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      await expectRefusal(
        map(f, [{ ...request(f, usdcPeriodic(f)), expiry: "soon" }]),
        LeashInputError,
        /expiry must be a unix time/,
      );
      await expectRefusal(
        map(f, [{ chainId: 1, expiry: 1, signer: {}, permissions: [] }]),
        LeashInputError,
        /older "permissions" list/,
      );
      await expectRefusal(map(f, []), LeashInputError, /holds no permission request/);
    });

    it("refuses policies that are not a list of typed objects, naming the field", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      const base = request(f, usdcPeriodic(f));
      await expectRefusal(
        map(f, [{ ...base, policies: { type: "rate-limit" } }]),
        LeashInputError,
        /policies must be a list/,
      );
      await expectRefusal(map(f, [{ ...base, policies: [null] }]), LeashInputError, /policies\[0\] must be/);
    });
  });

  describe("session grant --request", function () {
    before(function () {
      taskLedger.install();
    });

    after(function () {
      taskLedger.uninstall();
    });

    function grantArgs(f: Fixture, file: string, overrides: Partial<GrantTaskArguments> = {}): GrantTaskArguments {
      return {
        request: file,
        allow: "",
        budget: "",
        signatureOnly: false,
        byTransaction: true,
        yes: true,
        addresses: f.addressesFile,
        json: false,
        responseOut: path.join(f.dir, "response.json"),
        sessionOut: path.join(f.dir, "session.json"),
        ...overrides,
      };
    }

    it("grants what the request asks, prints the usual summary, and writes a response whose context is the session", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      const file = path.join(f.dir, "request.json");
      const gas = {
        type: "native-token-periodic",
        data: { periodAmount: toBeHex(parseUnits("0.05", 18)), periodDuration: DAY },
      };
      await writeFile(file, JSON.stringify([request(f, usdcPeriodic(f)), request(f, gas)]));
      const { env, io } = testEnv(connection, f.dir);
      const { plan, responseFile } = await runGrant(grantArgs(f, file), env);
      expect(io.progressLines.join("\n")).to.match(/50\.0 USDC per day/);
      const response = JSON.parse(await readFile(responseFile!, "utf8")) as { context: string; expiry: number }[];
      const session = sessionOfPermissionContext(response[0]!.context, f.chainId);
      expect([session.account, session.agent, session.sessionId]).to.deep.equal([
        f.account,
        f.agent.address,
        plan.session.sessionId,
      ]);
      expect(response[0]!.expiry).to.equal(Number(session.validUntil));
      // The response file itself reads as the session file (fromGrantFile, leash-mcp --grant).
      const fromResponse = parseSessionFile(await readFile(responseFile!, "utf8"), "response", f.chainId);
      expect(fromResponse).to.deep.equal(session);
      const [limit, , , period] = await f.spendLimitHook.getBudget(
        f.account,
        plan.session.sessionId,
        f.addresses.tokens.USDC!,
      );
      expect([limit, period]).to.deep.equal([parseUnits("50", 6), BigInt(DAY)]);
    });

    it("revokes the session a wallet_revokePermissions request names by its context (session revoke --request)", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      const file = path.join(f.dir, "revoke-grant-request.json");
      const gas = {
        type: "native-token-periodic",
        data: { periodAmount: toBeHex(parseUnits("0.05", 18)), periodDuration: DAY },
      };
      await writeFile(file, JSON.stringify([request(f, usdcPeriodic(f)), request(f, gas)]));
      const { env } = testEnv(connection, f.dir);
      const responseOut = path.join(f.dir, "revoke-response.json");
      const { plan } = await runGrant(
        grantArgs(f, file, { responseOut, sessionOut: path.join(f.dir, "revoke-session.json") }),
        env,
      );
      const [granted] = JSON.parse(await readFile(responseOut, "utf8")) as { context: string }[];
      const revocation = path.join(f.dir, "revoke-request.json");
      await writeFile(revocation, JSON.stringify({ permissionContext: granted!.context }));
      const result = await runRevoke(
        {
          request: revocation,
          signatureOnly: false,
          byTransaction: true,
          yes: true,
          addresses: f.addressesFile,
          json: false,
        },
        env,
      );
      expect([result.account, result.sessionId]).to.deep.equal([f.account, plan.session.sessionId]);
      expect((await f.sessionModule.getSession(f.account, plan.session.sessionId)).revoked).to.equal(true);
    });

    it("refuses a revocation request whose context names another grant than the one installed, and signs nothing", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      const file = path.join(f.dir, "stale-grant-request.json");
      const gas = {
        type: "native-token-periodic",
        data: { periodAmount: toBeHex(parseUnits("0.05", 18)), periodDuration: DAY },
      };
      await writeFile(file, JSON.stringify([request(f, usdcPeriodic(f)), request(f, gas)]));
      const { env } = testEnv(connection, f.dir);
      const responseOut = path.join(f.dir, "stale-response.json");
      await runGrant(grantArgs(f, file, { responseOut, sessionOut: path.join(f.dir, "stale-session.json") }), env);
      const [granted] = JSON.parse(await readFile(responseOut, "utf8")) as { context: string }[];
      const session = sessionOfPermissionContext(granted!.context, f.chainId);
      const forged = permissionContextOf({ ...session, agent: f.recipient });
      const revocation = path.join(f.dir, "stale-revoke-request.json");
      await writeFile(revocation, JSON.stringify({ permissionContext: forged }));
      const before = await ethers.provider.getBlockNumber();
      await expectRefusal(
        runRevoke(
          {
            request: revocation,
            signatureOnly: false,
            byTransaction: true,
            yes: true,
            addresses: f.addressesFile,
            json: false,
          },
          env,
        ),
        LeashInputError,
        /nothing was signed/,
      );
      expect(await ethers.provider.getBlockNumber()).to.equal(before);
      expect((await f.sessionModule.getSession(f.account, session.sessionId)).revoked).to.equal(false);
    });

    it("refuses, before the Ledger is asked anything and without any change, a request it cannot enforce or options it replaces", async function () {
      const f = await networkHelpers.loadFixture(requestFixture);
      const file = path.join(f.dir, "refused-request.json");
      await writeFile(file, JSON.stringify([request(f, { type: "erc721-token-transfer", data: {} })]));
      const { env } = testEnv(connection, f.dir);
      const responseOut = path.join(f.dir, "refused-response.json");
      const before = await ethers.provider.getBlockNumber();
      await expectRefusal(
        runGrant(grantArgs(f, file), env),
        UnsupportedPermissionError,
        /native and ERC-20 amounts only/,
      );
      await writeFile(file, JSON.stringify([request(f, usdcPeriodic(f))]));
      await expectRefusal(runGrant(grantArgs(f, file, { ttl: "1h", responseOut }), env), LeashInputError, /drop --ttl/);
      await expectRefusal(
        runGrant(grantArgs(f, file, { responseOut }), env),
        UnsupportedPermissionError,
        /no native-token permission/,
      );
      expect(await ethers.provider.getBlockNumber()).to.equal(before);
      expect(existsSync(responseOut)).to.equal(false);
    });
  });
});
