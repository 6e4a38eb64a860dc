/**
 * Submitting what the owner signed (`session grant --signature-only`, `session revoke[-all] --signature-only`):
 * anyone — the agent, a relayer, a watchtower — sends it to the session module, which checks the owner's signature
 * through the account. The file is checked first against the chain and module it is submitted to.
 */
import type { Signer } from "ethers";

import { SessionKeyValidationModule__factory } from "./contracts.js";
import type { LeashChainAddresses } from "./addresses.js";
import { InvalidSignedFileError, WrongChainError } from "./inputErrors.js";
import { sendOwnerTransaction, type OwnerTransactionResult, type ProgressListener } from "./owner.js";
import type { SignedFile } from "./signed.js";
import { parseAddress } from "./parse.js";

const KINDS = [
  "leash.session-grant",
  "leash.session-revocation",
  "leash.all-sessions-revocation",
  "leash.nonce-cancellation",
] as const;

/** Parses a signed grant / revocation file and checks it is for this chain and session module. */
export function parseSignedFile(text: string, addresses: LeashChainAddresses): SignedFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidSignedFileError(`not a JSON file: ${(error as Error).message}`, "file");
  }
  const record = (value ?? {}) as Record<string, unknown>;
  if (!KINDS.includes(record.kind as (typeof KINDS)[number])) {
    throw new InvalidSignedFileError(`not a Leash signed grant or revocation (kind ${String(record.kind)})`, "file");
  }
  if (String(record.chainId) !== addresses.chainId.toString()) {
    throw new WrongChainError(
      `the file was signed for chain ${String(record.chainId)} but the network is chain ${addresses.chainId}; ` +
        "submit it on its own chain",
      "--network",
    );
  }
  if (parseAddress(String(record.sessionModule), "sessionModule") !== addresses.sessionModule) {
    throw new InvalidSignedFileError(
      `the file is for session module ${String(record.sessionModule)}, not this chain's ${addresses.sessionModule}`,
      "file",
    );
  }
  if (typeof record.signature !== "string" || !/^0x[0-9a-fA-F]+$/.test(record.signature)) {
    throw new InvalidSignedFileError("the file has no signature", "file");
  }
  return value as SignedFile;
}

/** The session module calldata that submits a signed file. */
export function encodeSubmission(file: SignedFile): string {
  const module = SessionKeyValidationModule__factory.createInterface();
  switch (file.kind) {
    case "leash.session-grant":
      return module.encodeFunctionData("grantWithSignature", [file.grant as never, file.signature]);
    case "leash.session-revocation": {
      const r = file.revocation;
      return module.encodeFunctionData("revokeWithSignature", [
        r.account,
        r.sessionId,
        r.grantId,
        r.nonce,
        file.signature,
      ]);
    }
    case "leash.all-sessions-revocation":
      return module.encodeFunctionData("revokeAllWithSignature", [
        file.revocation.account,
        file.revocation.nonce,
        file.signature,
      ]);
    case "leash.nonce-cancellation":
      return module.encodeFunctionData("cancelNonceWithSignature", [
        file.cancellation.account,
        file.cancellation.nonce,
        file.signature,
      ]);
  }
}

/** Sends a signed file to the session module from `signer` (any funded account). */
export async function submitSignedFile(parameters: {
  /** Any funded account of the network (not the Ledger). */
  signer: Signer;
  file: SignedFile;
  addresses: LeashChainAddresses;
  onProgress?: ProgressListener;
}): Promise<OwnerTransactionResult> {
  const { signer, file, addresses, onProgress } = parameters;
  const data = encodeSubmission(file);
  const provider = signer.provider;
  if (provider === null) throw new Error("the submitter has no provider");
  try {
    await provider.call({ from: await signer.getAddress(), to: addresses.sessionModule, data });
  } catch (error) {
    const parsed = SessionKeyValidationModule__factory.createInterface().parseError(
      ((error as { data?: string }).data ?? "0x") as string,
    );
    throw new InvalidSignedFileError(
      `the session module refuses this file${parsed === null ? "" : `: ${parsed.name}(${parsed.args.join(", ")})`}; ` +
        "it may have been submitted already, voided by a kill switch or cancelled",
      "file",
    );
  }
  const receipt = await sendOwnerTransaction({ signer, to: addresses.sessionModule, data, onProgress });
  return { transactionHash: receipt.hash, blockNumber: receipt.blockNumber };
}
