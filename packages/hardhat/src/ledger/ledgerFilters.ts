/**
 * Ledger display rules ("EIP-712 filters") generated from the ERC-7730 descriptors of docs/erc7730, so the labels and
 * formats a Ledger shows are written once, in the descriptors.
 *
 * A filter set tells Ledger's Ethereum app what to show for one message schema on one contract: a message label (the
 * app shows it under "Contract") and, for each displayed field, its path, its label and how to format it. Each entry
 * is signed by a key the app trusts: Ledger's production key on a retail device (Ledger signs the filters of
 * descriptors merged into its clear-signing registry and serves them from its CAL service), Ledger's public test key
 * in test builds. This module produces exactly what is signed (app-ethereum 1.22.0, doc/ethapp.adoc "EIP712
 * filtering", filters v2) and the CAL service's answer shape that `@ledgerhq/hw-app-eth` 7.9.0 reads; the signing key
 * is the caller's.
 *
 * How an ERC-7730 field becomes a filter follows Ledger's own converter (python-erc7730, ERC-7730 → legacy EIP-712):
 * the message label is the format's `intent`, a field keeps its path and label. Formats:
 * - `raw`, `duration`, `unit`, `enum` → raw (the app shows the value as is);
 * - `date` → datetime (the app shows a UTC date);
 * - `addressName` → raw. Ledger's converter makes it a trusted-name filter, but hw-app-eth 7.9.0 cannot send one
 *   (its filter formats are raw, datetime, amount and token), so the address is shown as hex;
 * - `tokenAmount` with a `tokenPath` → the app's amount-with-token pair: a token filter on the token's path (the
 *   app hides the address and names the amount with the token's ticker and decimals) and an amount filter with the
 *   field's label. Their payloads name the device's token slot, so each is signed once per slot ({@link TOKEN_SLOTS});
 *   packages/hardhat/src/ledger/ledgerEip712.ts sends the one for the slot the token got;
 * - `amount` (native, no token field), `calldata`, `nftName` → refused ({@link UnsupportedFilterFormatError}).
 *
 * Labels must fit the Nano S Plus: a label longer than {@link MAX_FILTER_LABEL_LENGTH} characters is refused.
 */
import { createRequire } from "node:module";

import { getAddress } from "ethers";

const require = createRequire(import.meta.url);

/** Magic bytes that start each signed filter payload (app-ethereum, filters v2). */
export const FILTER_MAGIC = { messageInfo: 183, raw: 72, datetime: 33, token: 11, amount: 22 } as const;

/** The device's token slots: a token or amount filter is signed once for each (the slot is in its payload). */
export const TOKEN_SLOTS = 5;

/**
 * The longest field label allowed here. The longest proven whole on the real Nano S Plus is 18 characters ("Signed for
 * account", test/device/revoke.ts); the app truncates longer ones (../shared/ledger/README.md), and where exactly has
 * not been measured yet, so this bound is the project's, to be tightened or confirmed on the device.
 */
export const MAX_FILTER_LABEL_LENGTH = 20;

/** The app-ethereum filter formats this module produces. */
export type FilterFormat = "raw" | "datetime" | "token" | "amount";

/** One EIP-712 field filter before signing. */
export interface FieldFilter {
  /** The field's path in the message, as the app walks it: `contents.account`, `targets.[]`. */
  path: string;
  label: string;
  format: FilterFormat;
}

/** The unsigned filters of one message schema on one contract and chain. */
export interface MessageFilters {
  chainId: bigint;
  /** The EIP-712 domain's verifyingContract. */
  verifyingContract: string;
  /** Ledger's schema hash: sha224 of the alphabetically sorted types JSON (`@ledgerhq/evm-tools`). */
  schemaHash: string;
  /** The primary type the filters are for. */
  primaryType: string;
  /** Shown by the app under "Contract": the descriptor's intent. */
  messageLabel: string;
  /** In the descriptor's order (the app shows them in the message's order). */
  fields: FieldFilter[];
}

/** A filter set in the shape Ledger's CAL service answers (`eip712_signatures`, v2), signatures as DER hex. */
export interface SignedMessageFilters {
  contractName: { label: string; signature: string };
  /** Token and amount filters come once per device token slot, `coin_ref` being the slot. */
  fields: { path: string; label: string; format: FilterFormat; coin_ref?: number; signature: string }[];
}

/** Signs one filter payload: DER ECDSA (secp256k1) over sha256 of the payload, as hex. */
export type FilterPayloadSigner = (payload: Buffer) => string;

/** An ERC-7730 field format this module cannot turn into a filter the app and hw-app-eth 7.9.0 accept. */
export class UnsupportedFilterFormatError extends Error {
  constructor(path: string, format: string) {
    super(
      `field ${path}: ERC-7730 format "${format}" has no Ledger filter here yet (only raw, date, duration, unit, ` +
        "enum and addressName, shown as an address)",
    );
    this.name = "UnsupportedFilterFormatError";
  }
}

/** A label the Nano S Plus would cut. */
export class FilterLabelTooLongError extends Error {
  constructor(path: string, label: string) {
    super(
      `field ${path}: label "${label}" has ${label.length} characters; the Nano S Plus shows at most ` +
        `${MAX_FILTER_LABEL_LENGTH}`,
    );
    this.name = "FilterLabelTooLongError";
  }
}

type TypedDataTypes = Record<string, { name: string; type: string }[]>;

interface DescriptorField {
  path: string;
  label?: string;
  format?: string;
  params?: Record<string, unknown>;
  fields?: DescriptorField[];
}

/** The part of an ERC-7730 EIP-712 descriptor the filters come from. */
export interface Eip712Descriptor {
  context: {
    eip712: {
      deployments: { chainId: number; address: string }[];
      schemas: { primaryType: string; types: TypedDataTypes }[];
    };
  };
  metadata: { owner: string };
  display: { formats: Record<string, { intent?: string; fields: DescriptorField[] }> };
}

const FORMATS: Record<string, FilterFormat | undefined> = {
  raw: "raw",
  duration: "raw",
  unit: "raw",
  enum: "raw",
  addressName: "raw",
  date: "datetime",
};

/** Ledger's schema hash of `types` (EIP712Domain included), as the app and the CAL service compute it. */
export function ledgerSchemaHash(types: TypedDataTypes): string {
  const tools = require("@ledgerhq/evm-tools/lib/message/EIP712/index") as {
    getSchemaHashForMessage: (message: { types: TypedDataTypes }) => string;
  };
  return tools.getSchemaHashForMessage({ types });
}

function flatten(fields: DescriptorField[], prefix: string): DescriptorField[] {
  return fields.flatMap((field) => {
    const path = prefix === "" ? field.path : `${prefix}.${field.path}`;
    return field.fields === undefined ? [{ ...field, path }] : flatten(field.fields, path);
  });
}

/**
 * The filters of each schema of an ERC-7730 EIP-712 descriptor, for each of its deployments (or for `deployment`
 * only: the chain and contract the message is signed for).
 */
export function filtersFromDescriptor(
  descriptor: Eip712Descriptor,
  deployment?: { chainId: bigint; verifyingContract: string },
): MessageFilters[] {
  const deployments =
    deployment === undefined
      ? descriptor.context.eip712.deployments.map((d) => ({
          chainId: BigInt(d.chainId),
          verifyingContract: getAddress(d.address),
        }))
      : [{ chainId: deployment.chainId, verifyingContract: getAddress(deployment.verifyingContract) }];
  const out: MessageFilters[] = [];
  for (const schema of descriptor.context.eip712.schemas) {
    const format = descriptor.display.formats[schema.primaryType];
    if (format === undefined) continue;
    // ERC-7730 writes array elements `a.[]` or `a[]`; the app's paths are `a.[]`.
    const appPath = (p: string) => p.replace(/(?<!\.)\[\]/g, ".[]");
    const fields = flatten(format.fields, "").flatMap((field): FieldFilter[] => {
      const label = field.label ?? field.path;
      if (label.length > MAX_FILTER_LABEL_LENGTH) throw new FilterLabelTooLongError(field.path, label);
      const tokenPath = field.params?.tokenPath;
      if (field.format === "tokenAmount" && typeof tokenPath === "string") {
        return [
          { path: appPath(tokenPath), label: "", format: "token" },
          { path: appPath(field.path), label, format: "amount" },
        ];
      }
      const mapped = FORMATS[field.format ?? "raw"];
      if (mapped === undefined) throw new UnsupportedFilterFormatError(field.path, field.format ?? "");
      return [{ path: appPath(field.path), label, format: mapped }];
    });
    const schemaHash = ledgerSchemaHash(schema.types);
    for (const { chainId, verifyingContract } of deployments) {
      out.push({
        chainId,
        verifyingContract,
        schemaHash,
        primaryType: schema.primaryType,
        messageLabel: format.intent ?? schema.primaryType,
        fields,
      });
    }
  }
  return out;
}

/** The bytes every payload of `filters` starts with after its magic: chain id (8 bytes), contract, schema hash. */
function payloadHead(filters: MessageFilters): Buffer {
  const chainId = Buffer.alloc(8);
  chainId.writeBigUInt64BE(filters.chainId);
  return Buffer.concat([
    chainId,
    Buffer.from(filters.verifyingContract.slice(2), "hex"),
    Buffer.from(filters.schemaHash, "hex"),
  ]);
}

/** What the app checks the message-info signature against. */
export function messageInfoPayload(filters: MessageFilters): Buffer {
  return Buffer.concat([
    Buffer.from([FILTER_MAGIC.messageInfo]),
    payloadHead(filters),
    Buffer.from([filters.fields.length]),
    Buffer.from(filters.messageLabel, "utf8"),
  ]);
}

/**
 * What the app checks a field filter's signature against: magic ‖ head ‖ path, then the label (raw, datetime), the
 * token slot (token) or the label and the token slot (amount).
 */
export function fieldFilterPayload(filters: MessageFilters, field: FieldFilter, slot = 0): Buffer {
  const head = [Buffer.from([FILTER_MAGIC[field.format]]), payloadHead(filters), Buffer.from(field.path, "utf8")];
  switch (field.format) {
    case "token":
      return Buffer.concat([...head, Buffer.from([slot])]);
    case "amount":
      return Buffer.concat([...head, Buffer.from(field.label, "utf8"), Buffer.from([slot])]);
    default:
      return Buffer.concat([...head, Buffer.from(field.label, "utf8")]);
  }
}

/** Signs `filters` with `sign` (a test key in tests) into the CAL service's shape; token and amount once per slot. */
export function signFilters(filters: MessageFilters, sign: FilterPayloadSigner): SignedMessageFilters {
  return {
    contractName: { label: filters.messageLabel, signature: sign(messageInfoPayload(filters)) },
    fields: filters.fields.flatMap((field) =>
      field.format === "token" || field.format === "amount"
        ? Array.from({ length: TOKEN_SLOTS }, (_, slot) => ({
            ...field,
            coin_ref: slot,
            signature: sign(fieldFilterPayload(filters, field, slot)),
          }))
        : [{ ...field, signature: sign(fieldFilterPayload(filters, field)) }],
    ),
  };
}

/**
 * The body of the CAL service's `GET /v1/dapps?output=eip712_signatures&eip712_signatures_version=v2…` answer for
 * these signed filter sets (one entry; hw-app-eth finds a message's filters by contract and schema hash).
 */
export function calEip712SignaturesResponse(
  sets: { filters: MessageFilters; signed: SignedMessageFilters }[],
): unknown[] {
  const byContract: Record<string, Record<string, SignedMessageFilters>> = {};
  for (const { filters, signed } of sets) {
    const contract = filters.verifyingContract.toLowerCase();
    byContract[contract] = { ...byContract[contract], [filters.schemaHash]: signed };
  }
  return [{ eip712_signatures: byContract }];
}
