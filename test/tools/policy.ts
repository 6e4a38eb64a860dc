/**
 * The agent tools' start-up check (packages/tools/src/policy.ts, issue 16): the tools describe the session file only
 * once the chain enforces exactly that file (grant, account, hook, budgets, paymasters, token decimals), and a file
 * whose budgets share a symbol is refused, since the model pays by symbol.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { Wallet } from "ethers";

import type { SessionFile } from "../../client/sessionFile.js";
import { parseSessionFile, sessionFileToJson } from "../../client/sessionFile.js";
import { policyOf, readAgentPolicy } from "../../packages/tools/src/policy.js";
import {
  grantByTransaction,
  sessionFileOf,
  sessionFixture,
  typicalSession,
  type SessionFixture,
} from "../helpers/sessions.js";

const { ethers, networkHelpers } = await network.create();

/** The typical session granted, and its session file. */
async function granted() {
  const f = await sessionFixture(ethers, networkHelpers);
  const description = typicalSession(f);
  await (await grantByTransaction(f, description)).wait();
  return { ...f, file: sessionFileOf(f, description) };
}

/** What readAgentPolicy throws for the file `edit` makes of the granted one (undefined: it accepted the file). */
async function refusalOf(f: SessionFixture & { file: SessionFile }, edit: (file: SessionFile) => SessionFile) {
  try {
    await readAgentPolicy({ session: edit(structuredClone(f.file)), provider: ethers.provider });
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

describe("agent tools: the session file is checked against what the chain enforces before any tool is offered", function () {
  it("accepts the file of the grant the account enforces, and offers its assets", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const policy = await readAgentPolicy({ session: f.file, provider: ethers.provider });
    expect(policy.assets.map((asset) => asset.symbol)).to.deep.equal(["ETH", "USDC"]);
  });

  it("refuses a file whose budget limit is not the hook's, naming the budget and both limits", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const message = await refusalOf(f, (file) => {
      file.budgets[1]!.limit *= 2n;
      return file;
    });
    expect(message).to.contain("budget USDC limit: file 200000000, chain 100000000");
  });

  it("refuses a file whose budget period or per-call cap is not the hook's", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const message = await refusalOf(f, (file) => {
      file.budgets[0]!.period = 3_600n;
      file.budgets[0]!.perCallCap = 1n;
      return file;
    });
    expect(message).to.contain("budget ETH period: file 3600, chain 86400");
    expect(message).to.contain("budget ETH perCallCap: file 1, chain 0");
  });

  it("refuses a file that omits a budget the hook holds, which would refuse or charge what the tools do not show", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const message = await refusalOf(f, (file) => ({ ...file, budgets: [file.budgets[0]!] }));
    expect(message).to.contain(`the hook holds a budget for ${f.usdc.target} that the file does not list`);
  });

  it("refuses a file whose token decimals are not the token's: the model's amounts would be scaled wrong", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const message = await refusalOf(f, (file) => {
      file.budgets[1]!.decimals = 18;
      return file;
    });
    expect(message).to.contain("budget USDC decimals: file 18, token 6");
  });

  it("refuses a file naming a spend-limit hook the account does not run for the session", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const other = Wallet.createRandom().address;
    const message = await refusalOf(f, (file) => ({ ...file, spendLimitHook: other }));
    expect(message).to.contain(`spendLimitHook: file ${other}`);
    expect(message).to.contain(`the account runs no spend-limit hook ${other}`);
  });

  it("refuses a file listing a paymaster the hook does not allow", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const paymaster = Wallet.createRandom().address;
    const message = await refusalOf(f, (file) => ({ ...file, paymasters: [paymaster] }));
    expect(message).to.contain(`paymaster ${paymaster}: listed in the file, not allowed on chain`);
  });

  it("refuses a file whose budgets share a symbol, so that the model cannot pay one token for the other", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const message = await refusalOf(f, (file) => {
      file.budgets[0]!.symbol = "usdc";
      return file;
    });
    expect(message).to.match(/two budgets of the session file share the symbol/);
  });

  it("refuses a token budget labelled ETH, the native currency's name in every tool", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const message = await refusalOf(f, (file) => {
      file.budgets[1]!.symbol = "ETH";
      return file;
    });
    expect(message).to.match(/share the symbol ETH/);
  });

  it("accepts a file spelling its selectors in upper case, as its parser does", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const text = sessionFileToJson(f.file).replace(/"0xa9059cbb"/g, '"0xA9059CBB"');
    expect(text).to.contain("0xA9059CBB");
    const policy = await readAgentPolicy({
      session: parseSessionFile(text, "test", f.file.chainId),
      provider: ethers.provider,
    });
    expect(policy.functions.map((fn) => fn.signature)).to.deep.equal(["transfer(address,uint256)"]);
  });

  it("does not offer a function of a budgeted token other than the four spends: the hook refuses every one", async function () {
    const f = await networkHelpers.loadFixture(granted);
    const file = structuredClone(f.file);
    file.scope.push({ target: f.usdc.target as string, selector: "0x42966c68", function: "burn(uint256)", rules: [] });
    const policy = policyOf(file);
    expect(policy.functions.map((fn) => fn.signature)).to.deep.equal(["transfer(address,uint256)"]);
    expect(policy.notOffered.join("; ")).to.contain(
      "burn(uint256) of USDC (the spend-limit hook refuses every function",
    );
  });
});
