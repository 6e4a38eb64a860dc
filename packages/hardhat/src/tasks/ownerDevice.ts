/**
 * What the owner-action tasks share (grant, revoke, revoke-all, cancel, account create): the owner's Ledger as a
 * clear signer that prints what the device will show and asks first, the `--relayer` that is not the Ledger, and
 * carrying a signed file on chain (the relayer now, or a file for `session submit`).
 */
import { writeFile } from "node:fs/promises";

import type { LeashChainAddresses } from "@leashkit/client";
import { LedgerAccountError, NotConfirmedError } from "./input.js";
import { LedgerClearSigner, type ClearSigningPreview } from "../ledger/ledgerTypedData.js";
import { parseAddress } from "@leashkit/client";
import type { SignedFile } from "@leashkit/client";
import { submitSignedFile } from "@leashkit/client";
import type { TaskEnv } from "./common.js";

/** The device's review as the task prints it: "Contract" and then each field's label and value. */
export function deviceSummaryLines(preview: ClearSigningPreview): [string, string][] {
  return [["Contract", preview.contract], ...preview.fields.map((f): [string, string] => [f.label, f.value])];
}

/** `--relayer` parsed (undefined if not given), refused if it is the Ledger account. */
export function parseRelayer(text: string | undefined, owner: string): string | undefined {
  if (text === undefined) return undefined;
  const relayer = parseAddress(text, "--relayer");
  if (relayer === owner) {
    throw new LedgerAccountError(
      "--relayer is the Ledger account; pick another account of the network (a hot key, the agent, a watchtower)",
      "--relayer",
    );
  }
  return relayer;
}

/**
 * The owner's Ledger for typed data: before the device is asked, prints what it will show, hands the lines to
 * `onSummary`, and asks `question` unless `yes`.
 */
export function ownerDevice(
  env: TaskEnv,
  owner: string,
  options: { yes: boolean; question: string; onSummary?: (lines: [string, string][]) => void },
): LedgerClearSigner {
  const { io } = env;
  return new LedgerClearSigner(owner, env.connection.ethers.provider, {
    derivationFunction: env.connection.networkConfig.ledgerOptions?.derivationFunction,
    async onClearSignable(preview) {
      const lines = deviceSummaryLines(preview);
      options.onSummary?.(lines);
      io.progress("Your Ledger will show:");
      for (const [label, value] of lines) io.progress(`  ${label}: ${value}`);
      if (!options.yes && !(await io.confirm(options.question))) {
        throw new NotConfirmedError("not confirmed: nothing was signed", "--yes");
      }
    },
  });
}

/** Where a signed file went: the file it was written to, or the transaction the relayer sent. */
export interface Delivery {
  file?: string;
  transactionHash?: string;
  submittedBy?: string;
}

/** Carries `signed` on chain: `relayer` submits it now, or (no relayer) it is written to the new file `file`. */
export async function deliverSigned(
  env: TaskEnv,
  signed: SignedFile,
  addresses: LeashChainAddresses,
  relayer: string | undefined,
  file: string,
): Promise<Delivery> {
  if (relayer === undefined) {
    await writeFile(file, JSON.stringify(signed, null, 2) + "\n", { flag: "wx" });
    return { file };
  }
  const submitter = await env.connection.ethers.getSigner(relayer);
  const sent = await submitSignedFile({
    signer: submitter,
    file: signed,
    addresses,
    onProgress: (kind, message) => {
      if (kind !== "prompt") env.io.progress(message); // the relayer signs, not the Ledger
    },
  });
  return { transactionHash: sent.transactionHash, submittedBy: relayer };
}
