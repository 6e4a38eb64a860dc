/**
 * A front-run grant does not strand the agent (THREATS 33, issue #18 item 5): the agent's first op carries the
 * owner-signed grant of its session (a deferred install). Anyone may submit that grant first, and the op carrying
 * it is then refused (`SessionNonceUsed`). `sendSessionUserOp` checks on chain that the session is installed exactly
 * as granted, sends the op again without the grant under the same EntryPoint nonce, and says so; a session installed
 * otherwise is a GrantConflictError, and nothing is sent again.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { parseEther, type HDNodeWallet } from "ethers";

import {
  GrantConflictError,
  installedGrantDifferences,
  sendSessionUserOp,
  type AgentSession,
  type DeferredGrant,
  type SendSessionUserOpReturnType,
} from "../../client/agent.js";
import { UserOpRefusedError } from "../../client/errors.js";
import { sessionGrantMessage, sessionNonceKey, type SessionDescription } from "../../client/session.js";
import { sessionFixture, signGrant, SESSION_ID, typicalSession, type SessionFixture } from "../helpers/sessions.js";
import { TEST_GAS } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

const PAY = parseEther("0.01");

async function fixture() {
  const f = await sessionFixture(ethers, networkHelpers);
  const [, , , submitter] = await ethers.getSigners();
  const session = typicalSession(f);
  const grant: DeferredGrant = { session, ownerSignature: await signGrant(f, session) };
  return { ...f, submitter: submitter!, session, grant };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

function agentSession(f: SessionFixture): AgentSession {
  return {
    entryPoint: f.entryPoint,
    account: f.accountAddress,
    sessionModule: f.sessionModule.target as string,
    sessionId: SESSION_ID,
    signingKey: f.agent.signingKey,
  };
}

/** The agent pays the recipient in its first op, carrying `grant`. */
function payWithGrant(f: Fixture, grant: DeferredGrant = f.grant): Promise<SendSessionUserOpReturnType> {
  return sendSessionUserOp({
    session: agentSession(f),
    calls: [{ target: f.recipient, value: PAY, data: "0x" }],
    gas: TEST_GAS,
    via: { submitter: f.submitter },
    deferredGrant: grant,
  });
}

/** Someone (the stranger: anyone may) submits the owner's signed `session` before the agent's op. */
async function frontRun(f: Fixture, session: SessionDescription, signature: string, from: HDNodeWallet = f.stranger) {
  await (await f.sessionModule.connect(from).grantWithSignature(sessionGrantMessage(session), signature)).wait();
}

/** The sequence part (low 64 bits) of the session key's EntryPoint nonce: how many of its ops were included. */
const sessionNonce = async (f: Fixture) =>
  (await f.entryPoint.getNonce(f.accountAddress, sessionNonceKey(f.sessionModule.target as string, SESSION_ID))) &
  ((1n << 64n) - 1n);

describe("sendSessionUserOp with a deferred grant (THREATS 33)", function () {
  it("T33: installs the session with the agent's first op when nobody submitted the grant first", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    const result = await payWithGrant(f);
    expect([result.success, result.grant]).to.deep.equal([true, { status: "installed-by-this-op" }]);
    expect(await ethers.provider.getBalance(f.recipient)).to.equal(PAY);
    expect(await f.sessionModule.isNonceUsed(f.accountAddress, f.session.nonce)).to.equal(true);
  });

  it("T33: recovers when someone submits the signed grant first: sends again without it, pays once, and says so", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await frontRun(f, f.session, f.grant.ownerSignature);
    const accountBefore = await ethers.provider.getBalance(f.accountAddress);

    const result = await payWithGrant(f);

    expect(result.success).to.equal(true);
    expect(result.grant?.status).to.equal("already-submitted");
    if (result.grant?.status !== "already-submitted") throw new Error("unreachable");
    expect(result.grant.message).to.match(/already submitted by someone else/);
    // The first op was refused at validation because the grant's nonce was spent, and never ran.
    expect(result.grant.refusal).to.be.instanceOf(UserOpRefusedError);
    expect((result.grant.refusal as UserOpRefusedError).details?.name).to.equal("SessionNonceUsed");
    expect(await ethers.provider.getBalance(f.recipient)).to.equal(PAY);
    expect(await sessionNonce(f)).to.equal(1n);
    const spent = accountBefore - (await ethers.provider.getBalance(f.accountAddress));
    expect(spent > PAY && spent < 2n * PAY).to.equal(true);
  });

  it("T33: refuses to send again when the installed session is not the grant the agent carries, and nothing moves", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    // The owner signed another grant with the same nonce (a shorter session); it is the one submitted first.
    const other = typicalSession(f, { validUntil: f.session.validUntil - 3_600n });
    await frontRun(f, other, await signGrant(f, other));

    let thrown: unknown;
    try {
      await payWithGrant(f);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).to.be.instanceOf(GrantConflictError);
    const conflict = thrown as GrantConflictError;
    expect(conflict.differences).to.deep.equal([
      `validUntil (grant ${f.session.validUntil}, installed ${other.validUntil})`,
    ]);
    expect(conflict.message).to.match(/nothing was sent again; ask the owner which grant is current/);
    expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    expect(await sessionNonce(f)).to.equal(0n);
  });

  it("T33: rethrows the refusal when the grant was not used, and nothing moves", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    // A grant signed by someone else than the owner: refused for its signature, its nonce stays unused.
    const forged: DeferredGrant = { session: f.session, ownerSignature: await signGrant(f, f.session, f.stranger) };

    let thrown: unknown;
    try {
      await payWithGrant(f, forged);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).to.be.instanceOf(UserOpRefusedError);
    expect((thrown as UserOpRefusedError).details?.name).to.equal("SessionOwnerSignatureInvalid");
    expect(await f.sessionModule.isNonceUsed(f.accountAddress, f.session.nonce)).to.equal(false);
    expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
  });

  it("finds no difference between a grant and the session it installed", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await frontRun(f, f.session, f.grant.ownerSignature);
    expect(
      await installedGrantDifferences({ provider: ethers.provider, session: agentSession(f), grant: f.grant }),
    ).to.deep.equal([]);
  });

  it("reports a revoked session and a different budget as differences from the grant", async function () {
    const f = await networkHelpers.loadFixture(fixture);
    await frontRun(f, f.session, f.grant.ownerSignature);
    const revoke = f.sessionModule.interface.encodeFunctionData("revoke", [SESSION_ID]);
    const { ownerCall, executeCall } = await import("../helpers/sessions.js");
    await (await ownerCall(f, executeCall(f, f.sessionModule.target as string, 0n, revoke))).wait();
    const bigger = typicalSession(f, {
      budgets: [{ ...f.session.budgets[0]!, limit: parseEther("2") }, ...f.session.budgets.slice(1)],
    });
    const differences = await installedGrantDifferences({
      provider: ethers.provider,
      session: agentSession(f),
      grant: {
        ...f.grant,
        session: bigger,
      },
    });
    expect(differences).to.deep.equal([
      "the session was revoked",
      `budget ${bigger.budgets[0]!.asset} limit (grant ${parseEther("2")}, installed ${parseEther("1")})`,
    ]);
  });
});
