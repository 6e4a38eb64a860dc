/**
 * The owner's tools on ERC-6900 accounts Leash did not deploy (issue 14, item 4): `session grant`, `session revoke`
 * and `session revoke-all` from the emulated Ledger through hardhat-ledger, on the ERC-6900 reference account (owner
 * on its SingleSignerValidationModule), an Alchemy MAv2 semi-modular account (owner: its built-in signer) and an MAv2
 * account whose owner is a SingleSignerValidationModule. The owner keeps the account and its funds: the session is
 * installed on it, the agent pays under it, and revocations stop it. What cannot work there (a signed grant the
 * device can show) is refused before the device is asked.
 */
import { expect } from "chai";
import { parseEther, parseUnits, type Provider, type Signer } from "ethers";

import { SessionRevokedError } from "../../client/errors.js";
import {
  InvalidAddressError,
  LeashInputError,
  NotAccountOwnerError,
  OwnerCallRefusedError,
  SignedActionUnsupportedError,
} from "../../client/inputErrors.js";
import { ownerAuthorization, sendOwnerTransaction } from "../../client/owner.js";
import { parseOwnerValidation } from "../../client/ownerAccount.js";
import { signSessionRevocation } from "../../client/signed.js";
import { runCancel } from "../../packages/hardhat/src/tasks/session/cancel.js";
import { ModularAccount__factory } from "../../typechain-types/index.js";
import { runGrant, type GrantTaskArguments } from "../../packages/hardhat/src/tasks/session/grant.js";
import { runRevoke, runRevokeAll } from "../../packages/hardhat/src/tasks/session/revoke.js";
import { agentPaysUsdc, deployForTasks, ledgerConnection, taskLedger, taskOwner, testEnv } from "../helpers/tasks.js";
import { COMPAT_RUN, foreignAccounts } from "./accounts.js";

const connection = await ledgerConnection();
const { ethers, networkHelpers } = connection;

type ForeignKind = "reference" | "mav2-semi" | "mav2-single";
const TITLES: Record<ForeignKind, string> = {
  reference: "the ERC-6900 reference account (SingleSigner owner)",
  "mav2-semi": "Alchemy MAv2 semi-modular (built-in signer)",
  "mav2-single": "Alchemy MAv2 (SingleSigner owner)",
};

/**
 * Leash for the tasks, plus an account of `kind` owned by the emulated Ledger's owner (1 ETH and 1,000 USDC), and one
 * of the same kind owned by a stranger.
 */
async function foreignFixture(kind: ForeignKind) {
  const f = await deployForTasks(connection);
  const entryPoint = f.addresses.entryPoint;
  const stranger = (await ethers.getSigners())[6]!.address;
  const create = await foreignAccounts(ethers, kind, entryPoint);
  /** An account of `kind` for `owner`, and its `--owner-validation` (undefined where the task finds it itself). */
  const accountFor = async (owner: string, salt: bigint) => {
    const { address, validation } = await create(owner, salt);
    return { account: address, ownerValidation: kind === "mav2-semi" ? undefined : `${validation.module}:0` };
  };
  const { account, ownerValidation } = await accountFor(taskOwner.address, 0n);
  const strangers = await accountFor(stranger, 1n);
  const [funder] = await ethers.getSigners();
  await (await funder!.sendTransaction({ to: account, value: parseEther("1") })).wait();
  await (await f.usdc.mint(account, parseUnits("1000", 6))).wait();
  return { ...f, kind, account, ownerValidation, strangersAccount: strangers.account };
}
type Fixture = Awaited<ReturnType<typeof foreignFixture>>;

function grantArgs(f: Fixture, overrides: Partial<GrantTaskArguments> = {}): GrantTaskArguments {
  return {
    account: f.account,
    ownerValidation: f.ownerValidation,
    agent: f.agent.address,
    ttl: "24h",
    allow: `${f.addresses.tokens.USDC}:transfer(address,uint256)`,
    budget: "100 USDC/day,0.05 ETH/day",
    signatureOnly: false,
    byTransaction: true,
    yes: true,
    addresses: f.addressesFile,
    json: false,
    ...overrides,
  };
}

/** Expects `promise` to reject with `errorClass` and a message matching `message`. */
async function expectRefusal(
  promise: Promise<unknown>,
  errorClass: new (...args: never[]) => LeashInputError,
  message: RegExp,
): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(errorClass);
    expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected ${errorClass.name}`);
}

async function expectAgentRefused(f: Fixture, sessionId: number): Promise<void> {
  const before = await f.usdc.balanceOf(f.recipient);
  try {
    await agentPaysUsdc(connection, f, f.account, sessionId, f.recipient, 1_000_000n);
  } catch (error) {
    expect(error).to.be.instanceOf(SessionRevokedError);
    expect(await f.usdc.balanceOf(f.recipient)).to.equal(before);
    return;
  }
  expect.fail("the agent's op went through after the revocation");
}

describe("--owner-validation parsing", function () {
  it("reads built-in as the built-in signer (module 0, entity 0)", function () {
    expect(parseOwnerValidation("built-in")).to.deep.equal({
      module: "0x0000000000000000000000000000000000000000",
      entityId: 0,
    });
  });

  it("reads <module>:<entity id>, and a bare module as entity 0", function () {
    const module = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    expect(parseOwnerValidation(`${module}:7`)).to.deep.equal({ module, entityId: 7 });
    expect(parseOwnerValidation(module.toLowerCase())).to.deep.equal({ module, entityId: 0 });
  });

  it("refuses anything else with what to write, an entity id past uint32 minus the direct-call id, and the zero address with an entity other than 0", function () {
    expect(() => parseOwnerValidation("owner")).to.throw(InvalidAddressError, /<module address>:<entity id>/);
    expect(() => parseOwnerValidation("0x5FbDB2315678afecb367f032d93F642f64180aa3:4294967295")).to.throw(
      InvalidAddressError,
      /above 4294967294/,
    );
    expect(() => parseOwnerValidation("0x0000000000000000000000000000000000000000:7")).to.throw(
      InvalidAddressError,
      /built-in signer, entity 0 only/,
    );
  });
});

describe("sendOwnerTransaction's simulation", function () {
  function signerWhoseEstimateThrows(error: unknown): Signer {
    const provider = { estimateGas: async () => Promise.reject(error) } as unknown as Provider;
    return { provider, getAddress: async () => taskOwner.address } as unknown as Signer;
  }
  const to = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

  it("reports an account's revert as OwnerCallRefusedError naming the account and the caller; nothing is signed", async function () {
    const revert = Object.assign(new Error("execution reverted"), { code: 3, data: "0x" });
    try {
      await sendOwnerTransaction({ signer: signerWhoseEstimateThrows(revert), to, data: "0x" });
      expect.fail("no refusal");
    } catch (error) {
      expect(error).to.be.instanceOf(OwnerCallRefusedError);
      expect((error as Error).message).to.include(`${to} refuses this call from ${taskOwner.address}`);
    }
  });

  it("throws a node or network failure as it is, not as the account's refusal", async function () {
    const outage = new Error("connect ECONNREFUSED 127.0.0.1:8545");
    try {
      await sendOwnerTransaction({ signer: signerWhoseEstimateThrows(outage), to, data: "0x" });
      expect.fail("no error");
    } catch (error) {
      expect(error).to.equal(outage);
    }
  });
});

for (const kind of ["reference", "mav2-semi", "mav2-single"] as const) {
  const fixture = async () => foreignFixture(kind);
  (COMPAT_RUN ? describe : describe.skip)(`owner tasks on ${TITLES[kind]}`, function () {
    before(function () {
      taskLedger.install();
    });
    after(function () {
      taskLedger.uninstall();
    });

    it("grants a session by the Ledger's transaction through the owner's validation; the agent pays under it", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { env, io } = testEnv(connection, f.dir);
      const result = await runGrant(grantArgs(f), env);
      expect(result.submittedBy).to.equal(taskOwner.address);
      expect(result.plan.ownerAccount.validation).to.deep.equal({
        module: kind === "mav2-semi" ? "0x0000000000000000000000000000000000000000" : f.ownerValidation!.split(":")[0],
        entityId: 0,
      });
      // The transaction the device signed names that validation, global, in its authorization.
      const request = taskLedger.requests.at(-1);
      if (request?.kind !== "transaction") expect.fail("the device signed no transaction");
      const outer = ModularAccount__factory.createInterface().parseTransaction({ data: request.transaction.data });
      expect(outer?.name).to.equal("executeWithRuntimeValidation");
      expect(outer?.args[1]).to.equal(ownerAuthorization(result.plan.ownerAccount.validation));
      const through = kind === "mav2-semi" ? "its built-in signer" : `entity 0 of ${f.ownerValidation!.split(":")[0]}`;
      expect(io.text).to.match(
        new RegExp(
          `account kind {5}${kind === "reference" ? "erc6900\\." : "alchemy\\."}\\S+ \\(not deployed by Leash; the owner acts through ${through}\\)`,
        ),
      );
      const session = await f.sessionModule.getSession(f.account, 1);
      expect(session.agent).to.equal(f.agent.address);
      const before = await f.usdc.balanceOf(f.recipient);
      const sent = await agentPaysUsdc(connection, f, f.account, 1, f.recipient, 2_500_000n);
      expect(sent.success).to.equal(true);
      expect((await f.usdc.balanceOf(f.recipient)) - before).to.equal(2_500_000n);
    });

    it("revokes the session by the Ledger's transaction; the agent's next op is refused and nothing moves", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { env } = testEnv(connection, f.dir);
      await runGrant(grantArgs(f), env);
      await runRevoke(
        {
          account: f.account,
          ownerValidation: f.ownerValidation,
          session: "1",
          signatureOnly: false,
          byTransaction: true,
          yes: true,
          addresses: f.addressesFile,
          json: false,
        },
        env,
      );
      expect((await f.sessionModule.getSession(f.account, 1)).revoked).to.equal(true);
      await expectAgentRefused(f, 1);
    });

    it("pulls the kill switch by the Ledger's transaction; every session granted before is refused", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { env } = testEnv(connection, f.dir);
      await runGrant(grantArgs(f), env);
      const epoch = await f.sessionModule.epochOf(f.account);
      await runRevokeAll(
        {
          account: f.account,
          ownerValidation: f.ownerValidation,
          signatureOnly: false,
          byTransaction: true,
          yes: true,
          addresses: f.addressesFile,
          json: false,
        },
        env,
      );
      expect(await f.sessionModule.epochOf(f.account)).to.equal(epoch + 1n);
      await expectAgentRefused(f, 1);
    });

    it("refuses a signed grant before the device is asked (the account's owner signatures cannot be shown); nothing installed", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { env } = testEnv(connection, f.dir);
      const asked = taskLedger.requests.length;
      await expectRefusal(
        runGrant(grantArgs(f, { byTransaction: false, signatureOnly: true }), env),
        SignedActionUnsupportedError,
        /--by-transaction.*Nothing was signed/,
      );
      expect(taskLedger.requests.length).to.equal(asked);
      expect((await f.sessionModule.getSession(f.account, 1)).agent).to.equal(
        "0x0000000000000000000000000000000000000000",
      );
    });

    it("refuses a signed revocation and a signed kill switch before the device is asked; the session stays live", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { env } = testEnv(connection, f.dir);
      await runGrant(grantArgs(f), env);
      const asked = taskLedger.requests.length;
      const revocation = {
        account: f.account,
        ownerValidation: f.ownerValidation,
        signatureOnly: true,
        yes: true,
        addresses: f.addressesFile,
        json: false,
      };
      await expectRefusal(
        runRevoke({ ...revocation, session: "1" }, env),
        SignedActionUnsupportedError,
        /--by-transaction/,
      );
      await expectRefusal(runRevokeAll(revocation, env), SignedActionUnsupportedError, /--by-transaction/);
      expect(taskLedger.requests.length).to.equal(asked);
      expect((await f.sessionModule.getSession(f.account, 1)).revoked).to.equal(false);
      expect(await f.sessionModule.epochOf(f.account)).to.equal(0n);
    });

    it("refuses a signed revocation in the client too, when the caller names no owner validation (the account is not Leash's)", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { env } = testEnv(connection, f.dir);
      await runGrant(grantArgs(f), env);
      let asked = 0;
      const signer = {
        provider: ethers.provider,
        signTypedData: async () => {
          asked += 1;
          return "0x";
        },
      };
      const target = { addresses: f.addresses, account: f.account };
      try {
        await signSessionRevocation({ signer, target: { ...target, sessionId: 1 } });
        expect.fail("a signed revocation was produced for an account that is not Leash's");
      } catch (error) {
        expect(error).to.be.instanceOf(SignedActionUnsupportedError);
        expect((error as Error).message).to.match(/not a Leash account.*ownerValidation/);
      }
      expect(asked).to.equal(0);
    });

    it("cancels a nonce by the Ledger's transaction (cancelNonce through the owner's validation); a signed cancellation is refused", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { env } = testEnv(connection, f.dir);
      const cancellation = {
        account: f.account,
        ownerValidation: f.ownerValidation,
        nonce: "77",
        yes: true,
        addresses: f.addressesFile,
        json: false,
      };
      const asked = taskLedger.requests.length;
      await expectRefusal(runCancel(cancellation, env), SignedActionUnsupportedError, /--by-transaction/);
      expect(taskLedger.requests.length).to.equal(asked);
      expect(await f.sessionModule.isNonceUsed(f.account, 77n)).to.equal(false);
      const result = await runCancel({ ...cancellation, byTransaction: true }, env);
      expect(result.submittedBy).to.equal(taskOwner.address);
      expect(await f.sessionModule.isNonceUsed(f.account, 77n)).to.equal(true);
    });

    it("refuses an account of that kind the Ledger's address does not own, before the device is asked", async function () {
      const f = await networkHelpers.loadFixture(fixture);
      const { env } = testEnv(connection, f.dir);
      const asked = taskLedger.requests.length;
      await expectRefusal(
        runGrant(grantArgs(f, { account: f.strangersAccount }), env),
        NotAccountOwnerError,
        /does not own account/,
      );
      expect(taskLedger.requests.length).to.equal(asked);
    });
  });
}

(COMPAT_RUN ? describe : describe.skip)("owner tasks: finding the owner's validation on other accounts", function () {
  before(function () {
    taskLedger.install();
  });
  after(function () {
    taskLedger.uninstall();
  });

  it("asks for --owner-validation on an account whose accountId() names no owner Leash knows (the reference)", async function () {
    const f = await networkHelpers.loadFixture(referenceFixture);
    const { env } = testEnv(connection, f.dir);
    await expectRefusal(
      runGrant(grantArgs(f, { ownerValidation: undefined }), env),
      NotAccountOwnerError,
      /erc6900\.reference.*--owner-validation <module address>:<entity id>/,
    );
  });

  it("refuses, by simulating the owner's call before the device is asked, a validation the account does not accept for the owner", async function () {
    const f = await networkHelpers.loadFixture(semiModularFixture);
    const { env } = testEnv(connection, f.dir);
    const asked = taskLedger.requests.length;
    // The session module has no signers() view to read: the owner's call itself is simulated, and refused.
    await expectRefusal(
      runGrant(grantArgs(f, { ownerValidation: `${f.addresses.sessionModule}:9` }), env),
      OwnerCallRefusedError,
      /refuses this call from .*simulated before signing.*Nothing was signed/,
    );
    expect(taskLedger.requests.length).to.equal(asked);
  });
  it("refuses built-in on an account that has no built-in signer (the reference), before the device is asked", async function () {
    const f = await networkHelpers.loadFixture(referenceFixture);
    const { env } = testEnv(connection, f.dir);
    await expectRefusal(
      runGrant(grantArgs(f, { ownerValidation: "built-in" }), env),
      NotAccountOwnerError,
      /has no built-in signer/,
    );
  });

  it("shows a misleading accountId() as unprintable, never as summary lines, and refuses the account's call before the device is asked", async function () {
    const f = await networkHelpers.loadFixture(semiModularFixture);
    const misleading = await ethers.deployContract("MisleadingAccount", [taskOwner.address]);
    const { env, io } = testEnv(connection, f.dir);
    const asked = taskLedger.requests.length;
    // Its id is not shown, so it is not taken for a semi-modular account either: the owner must name the validation.
    await expectRefusal(
      runGrant(grantArgs(f, { account: await misleading.getAddress(), ownerValidation: undefined }), env),
      NotAccountOwnerError,
      /\(an accountId\(\) that is not printable\).*--owner-validation/,
    );
    await expectRefusal(
      runGrant(grantArgs(f, { account: await misleading.getAddress(), ownerValidation: "built-in" }), env),
      OwnerCallRefusedError,
      /simulated before signing/,
    );
    expect(io.text).to.include("account kind     (an accountId() that is not printable)");
    expect(io.text).not.to.include("0x000000000000000000000000000000000000dEaD");
    expect(taskLedger.requests.length).to.equal(asked);
  });
});

async function referenceFixture() {
  return foreignFixture("reference");
}
async function semiModularFixture() {
  return foreignFixture("mav2-semi");
}
