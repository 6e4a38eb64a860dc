/**
 * The screens of the demo grant on the real app, on each model, kept in docs/device/ so they cannot go stale:
 * - `demo-grant-nanosp.txt`: the Nano S Plus review, one screen a line;
 * - `demo-grant-flex.txt` and `demo-grant-flex-<n>.png`: the Flex review, one page a line, and a screenshot of each
 *   page.
 *
 * The test walks the review again and expects the same text (the grant's nonce is random: it is written `<nonce>`).
 * `npm run device:transcripts` rewrites the files (and the screenshots) instead; commit what changed.
 *
 * It also renders the same typed data with an independent ERC-7730 implementation (`@ethereum-sourcify/clear-signing`,
 * Sourcify's reference TypeScript implementation) from docs/erc7730's descriptor, and expects the same labels and
 * values as the device shows (see {@link independentRendering} for the differences of notation it normalises).
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";

import { formatTypedData, isFieldGroup, type DisplayField } from "@ethereum-sourcify/clear-signing";
import { id, TypedDataEncoder } from "ethers";

import { grantTypedDataForOwner } from "../../client/signed.js";
import type { GrantPlan } from "../../client/grant.js";
import { demoGrantOptions, DEMO_TRANSCRIPT_WINDOW } from "../../scripts/demo/grant.js";
import { runGrant } from "../../packages/hardhat/src/tasks/session/grant.js";
import { testEnv } from "../helpers/tasks.js";
import { DEVICE_NETWORK_NAME, startGrantChain, type GrantChain } from "./grantChain.js";
import { describeOnDevices, reviewFields, reviewOnDevice, transcript } from "./harness.js";
import { formatScreen, type Screen } from "./speculos.js";
import { useSpeculosForHardhatLedger, type SpeculosLedgerSeam } from "./speculosTransport.js";

const DOCS = path.join(import.meta.dirname, "../../docs/device");
const GRANT_DESCRIPTOR = path.join(import.meta.dirname, "../../docs/erc7730/eip712-leash-session-grant.json");

/**
 * The owner's typed data for `plan`, rendered by the independent ERC-7730 implementation from docs/erc7730's
 * descriptor, offline (the descriptor and the tokens come from here, nothing is fetched), as [label, value] pairs
 * written as the device writes them. Its notation differs from the app's in two places, normalised here: dates
 * (`2030-01-01 09:00:00Z` → `2030-01-01 09:00:00 AM UTC`) and bytes (lowercase → uppercase hex). It keys formats by
 * the full EIP-712 type string (ERC-7730 v2) and names the message's intent where the app shows "Contract".
 */
export async function independentRendering(
  plan: GrantPlan,
  tokens: Record<string, { symbol: string; decimals: number }>,
) {
  const { nested } = grantTypedDataForOwner(plan);
  const descriptor = JSON.parse(readFileSync(GRANT_DESCRIPTOR, "utf8")) as {
    context: { eip712: { deployments: { chainId: number; address: string }[]; schemas: { primaryType: string }[] } };
    display: { formats: Record<string, unknown> };
  };
  const types = { EIP712Domain: domainType(), ...nested.types };
  const encodeType = TypedDataEncoder.from(nested.types).encodeType("TypedDataSign");
  const chainId = Number(plan.addresses.chainId);
  const module = plan.addresses.sessionModule;
  descriptor.context.eip712.deployments = [{ chainId, address: module }];
  descriptor.display.formats = { [encodeType]: descriptor.display.formats.TypedDataSign };
  const resolver = {
    index: {
      calldataIndex: {},
      typedDataIndex: {
        [`eip155:${chainId}:${module.toLowerCase()}`]: {
          TypedDataSign: [{ path: "grant.json", encodeTypeHashes: [id(encodeType)] }],
        },
      },
    },
    fetchDescriptor: async () => descriptor,
  };
  const json = JSON.parse(
    JSON.stringify(nested.message, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
  );
  const model = await formatTypedData(
    {
      account: plan.session.account,
      types,
      primaryType: "TypedDataSign",
      domain: { ...nested.domain, chainId } as never,
      message: json,
    } as never,
    {
      descriptorResolverOptions: { type: "custom", resolver } as never,
      externalDataProvider: {
        resolveToken: async (_chain: number, address: string) => {
          const token = tokens[address.toLowerCase()];
          return token === undefined ? null : { name: token.symbol, symbol: token.symbol, decimals: token.decimals };
        },
        resolveChainInfo: async () => ({
          name: DEVICE_NETWORK_NAME,
          nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
        }),
      } as never,
    },
  );
  const fields: DisplayField[] = (model.fields ?? []).flatMap((item) => (isFieldGroup(item) ? item.fields : [item]));
  const written = (value: string) =>
    value
      .replace(/^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}:\d{2})Z$/, (_m, date: string, hours: string, rest: string) => {
        const h = Number(hours);
        return `${date} ${String(h % 12 === 0 ? 12 : h % 12).padStart(2, "0")}:${rest} ${h < 12 ? "AM" : "PM"} UTC`;
      })
      .replace(/^0x([0-9a-f]{64})$/, (_m, hex: string) => `0x${hex.toUpperCase()}`);
  return {
    intent: model.intent,
    warnings: (model.warnings ?? []).map((w) => w.code),
    fields: fields.map((field): [string, string] => [field.label, written(String(field.value))]),
  };
}

function domainType() {
  return [
    { name: "name", type: "string" },
    { name: "version", type: "string" },
    { name: "chainId", type: "uint256" },
    { name: "verifyingContract", type: "address" },
  ];
}
const UPDATE = process.env.LEASH_UPDATE_TRANSCRIPTS === "1";

/** The screens as text, one a line, with the grant's random nonce written `<nonce>`. */
export function transcriptText(screens: readonly Screen[], nonce: string): string {
  const lines = screens.map((screen) => {
    const out: string[] = [];
    for (let i = 0; i < screen.length; i++) {
      out.push(screen[i]!);
      if (screen[i] !== "Nonce") continue;
      // The nonce's digits wrap over the lines after its label.
      let digits = "";
      let j = i + 1;
      while (j < screen.length && nonce.startsWith(digits + screen[j]!) && digits.length < nonce.length) {
        digits += screen[j]!;
        j++;
      }
      if (digits === nonce) {
        out.push("<nonce>");
        i = j - 1;
      }
    }
    return formatScreen(out);
  });
  return lines.join("\n") + "\n";
}

describeOnDevices("the demo grant's screens in docs/device", (device, model) => {
  let chain: GrantChain;
  let seam: SpeculosLedgerSeam;
  const until = model === "nanosp" ? "Sign message" : "Hold to sign";

  before(async function () {
    chain = await startGrantChain();
  });

  after(async function () {
    await seam?.restore();
    await chain?.close();
  });

  it(`${UPDATE ? "writes" : "matches"} docs/device/demo-grant-${model}.txt`, async function () {
    const { connection, f } = chain;
    seam ??= useSpeculosForHardhatLedger(device());
    const shots: Buffer[] = [];
    const { env } = testEnv(connection, f.dir);
    const grant = runGrant(
      {
        account: f.account,
        agent: f.agent.address,
        ...demoGrantOptions(f.addresses.tokens.USDC!),
        ...DEMO_TRANSCRIPT_WINDOW,
        sessionId: "1",
        relayer: chain.relayer,
        signatureOnly: false,
        yes: true,
        addresses: f.addressesFile,
        json: false,
      },
      env,
    );
    const { review, result } = await reviewOnDevice(device(), grant, {
      until,
      approve: true,
      onScreen: model === "flex" && UPDATE ? async () => void shots.push(await device().screenshot()) : undefined,
    });
    if ("error" in result) throw result.error;
    const nonce = result.value.plan.session.nonce.toString();
    const text = transcriptText(review.screens, nonce);
    const file = path.join(DOCS, `demo-grant-${model}.txt`);
    if (UPDATE) {
      writeFileSync(file, text);
      shots.forEach((png, i) => writeFileSync(path.join(DOCS, `demo-grant-flex-${i + 1}.png`), png));
      return;
    }
    expect(text, `${transcript(review.screens)}\n(run npm run device:transcripts to rewrite the file)`).to.equal(
      readFileSync(file, "utf8"),
    );
  });

  it(`shows on the ${model === "nanosp" ? "Nano S Plus" : "Flex"} what an independent ERC-7730 implementation renders`, async function () {
    const { connection, f } = chain;
    seam ??= useSpeculosForHardhatLedger(device());
    const { env } = testEnv(connection, f.dir);
    const grant = runGrant(
      {
        account: f.account,
        agent: f.agent.address,
        ...demoGrantOptions(f.addresses.tokens.USDC!),
        ...DEMO_TRANSCRIPT_WINDOW,
        sessionId: "2",
        relayer: chain.relayer,
        signatureOnly: false,
        yes: true,
        addresses: f.addressesFile,
        json: false,
      },
      env,
    );
    const { review, result } = await reviewOnDevice(device(), grant, { until, approve: true });
    if ("error" in result) throw result.error;
    const rendered = await independentRendering(result.value.plan, {
      [f.addresses.tokens.USDC!.toLowerCase()]: { symbol: "USDC", decimals: 6 },
    });
    expect(rendered.intent).to.equal("Grant an agent a session key");
    const shown = reviewFields(review.screens, [
      ...new Set(["Contract", "Network", ...rendered.fields.map(([l]) => l)]),
    ])
      .fields.filter(([label]) => label !== "Contract" && label !== "Network")
      .map(([label, value]): string => `${label}: ${value.replace(/\s/g, "")}`);
    // The implementation lists an array's fields path by path (every Budget, then every Budget period…), the app
    // element by element: the same fields, in another order.
    const independent = rendered.fields.map(([label, value]) => `${label}: ${value.replace(/\s/g, "")}`);
    expect([...shown].sort(), transcript(review.screens)).to.deep.equal([...independent].sort());
    expect(independent).to.have.length(shown.length);
    expect(shown).to.include.members(["Budget: 100USDC", "Budget period: 1day", "Function: transfer(address,uint256)"]);
  });
});
