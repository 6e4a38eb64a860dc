/**
 * docs/erc7730: the ERC-7730 clear-signing descriptors. Each has the shape of the ERC-7730 v1 JSON schema (checked
 * structurally here: the schema cannot be fetched in CI), describes exactly the typed data the client has the Ledger
 * sign and functions of the compiled ABI, and gives every signed field a label (or says it is excluded), through a
 * path that exists.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { Interface, type InterfaceAbi, type TypedDataField } from "ethers";

import {
  ALL_SESSIONS_REVOCATION_TYPES,
  NONCE_CANCELLATION_TYPES,
  nestOwnerTypedData,
  SESSION_GRANT_TYPES,
  SESSION_REVOCATION_TYPES,
} from "../../client/session.js";
import { ModularAccount__factory, SessionKeyValidationModule__factory } from "../../typechain-types/index.js";

const DIR = path.join(import.meta.dirname, "../../docs/erc7730");
const SCHEMA = "https://eips.ethereum.org/assets/eip-7730/erc7730-v1.schema.json";
/** Field formats of ERC-7730 v1 and the parameters each accepts. */
const FORMAT_PARAMS: Record<string, string[]> = {
  raw: [],
  addressName: ["types", "sources"],
  calldata: ["calleePath", "selector", "amountPath", "spenderPath"],
  amount: [],
  tokenAmount: ["tokenPath", "token", "nativeCurrencyAddress", "threshold", "message"],
  nftName: ["collectionPath", "collection"],
  date: ["encoding"],
  duration: [],
  unit: ["base", "decimals", "prefix"],
  enum: ["$ref"],
};

interface Field {
  path: string;
  label?: string;
  format?: string;
  params?: Record<string, unknown>;
  fields?: Field[];
}
interface Format {
  intent?: string;
  fields: Field[];
  required?: string[];
  excluded?: string[];
}
interface Descriptor {
  $schema: string;
  context: {
    $id?: string;
    eip712?: {
      domain?: Record<string, unknown>;
      schemas: { primaryType: string; types: Record<string, TypedDataField[]> }[];
    };
    contract?: { abi: InterfaceAbi };
  };
  metadata: { owner: string };
  display: { formats: Record<string, Format> };
}

const files = readdirSync(DIR).filter((file) => file.endsWith(".json"));
const load = (file: string) => JSON.parse(readFileSync(path.join(DIR, file), "utf8")) as Descriptor;

/** Structural errors against ERC-7730 v1 (top-level keys, one binding context, metadata, display formats). */
function shapeErrors(doc: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const allowed = ["$schema", "includes", "context", "metadata", "display"];
  for (const key of Object.keys(doc)) if (!allowed.includes(key)) errors.push(`unknown top-level key ${key}`);
  const d = doc as unknown as Descriptor;
  if (d.$schema !== SCHEMA) errors.push("$schema is not the ERC-7730 v1 schema");
  const contexts = ["contract", "eip712"].filter((key) => key in (d.context ?? {}));
  if (contexts.length !== 1) errors.push(`context must bind exactly one of contract / eip712, has ${contexts.length}`);
  if (typeof d.metadata?.owner !== "string") errors.push("metadata.owner is required");
  const formats = d.display?.formats;
  if (formats === undefined || Object.keys(formats).length === 0) errors.push("display.formats is empty");
  const checkField = (field: Field, where: string) => {
    if (typeof field.path !== "string") errors.push(`${where}: field without path`);
    if (field.fields !== undefined) {
      field.fields.forEach((inner, i) => checkField(inner, `${where}.fields[${i}]`));
      return;
    }
    if (typeof field.label !== "string" || field.label === "") errors.push(`${where}: field without label`);
    const params = FORMAT_PARAMS[field.format ?? ""];
    if (params === undefined) errors.push(`${where}: unknown format ${field.format}`);
    for (const key of Object.keys(field.params ?? {})) {
      if (!params?.includes(key)) errors.push(`${where}: param ${key} is not one of ${field.format}'s`);
    }
  };
  for (const [key, format] of Object.entries(formats ?? {})) {
    if (!Array.isArray(format.fields)) errors.push(`${key}: fields must be an array`);
    (format.fields ?? []).forEach((field, i) => checkField(field, `${key}.fields[${i}]`));
    for (const list of ["required", "excluded"] as const) {
      const value = format[list];
      if (value !== undefined && (!Array.isArray(value) || value.some((item) => typeof item !== "string"))) {
        errors.push(`${key}.${list} must be an array of paths`);
      }
    }
  }
  return errors;
}

/** Every leaf path of EIP-712 struct `type` (arrays as `name.[]`). */
function typedDataLeaves(types: Record<string, TypedDataField[]>, type: string, prefix = ""): string[] {
  return types[type]!.flatMap((field) => {
    let base = field.type;
    let p = `${prefix}${field.name}`;
    while (base.endsWith("[]")) {
      base = base.slice(0, -2);
      p += ".[]";
    }
    return types[base] === undefined ? [p] : typedDataLeaves(types, base, `${p}.`);
  });
}

interface AbiParam {
  name: string;
  type: string;
  components?: AbiParam[];
}

/** Every leaf path of ABI parameters (tuples by component name, arrays as `name.[]`). */
function abiLeaves(params: readonly AbiParam[], prefix = ""): string[] {
  return params.flatMap((param) => {
    let p = `${prefix}${param.name}`;
    let type = param.type;
    while (type.endsWith("[]")) {
      type = type.slice(0, -2);
      p += ".[]";
    }
    return type === "tuple" ? abiLeaves(param.components ?? [], `${p}.`) : [p];
  });
}

/** The paths fields show: their own, and the token an amount is shown in (ERC-7730 `tokenPath`). */
const fieldPaths = (fields: Field[]): string[] =>
  fields.flatMap((field) =>
    field.fields === undefined
      ? [field.path, ...(typeof field.params?.tokenPath === "string" ? [field.params.tokenPath] : [])]
      : fieldPaths(field.fields).map((inner) => `${field.path}.${inner}`),
  );

/** Checks a format covers exactly `leaves`: each leaf labelled or excluded, no path that does not exist. */
function expectCoverage(format: Format, leaves: string[], where: string) {
  const labelled = fieldPaths(format.fields);
  const excluded = format.excluded ?? [];
  const unknown = [...labelled, ...excluded, ...(format.required ?? [])].filter((p) => !leaves.includes(p));
  expect(unknown, `${where}: paths that do not exist`).to.deep.equal([]);
  const missing = leaves.filter((leaf) => !labelled.includes(leaf) && !excluded.includes(leaf));
  expect(missing, `${where}: signed fields without a label`).to.deep.equal([]);
}

const APP = { domain: {}, primaryType: "" };
const CLIENT_TYPES: Record<string, Record<string, TypedDataField[]>> = {
  SessionGrant: SESSION_GRANT_TYPES,
  SessionRevocation: SESSION_REVOCATION_TYPES,
  AllSessionsRevocation: ALL_SESSIONS_REVOCATION_TYPES,
  NonceCancellation: NONCE_CANCELLATION_TYPES,
};
const COMPILED_ABIS: InterfaceAbi[] = [SessionKeyValidationModule__factory.abi, ModularAccount__factory.abi];

describe("docs/erc7730 clear-signing descriptors", function () {
  it("covers the SessionGrant, both signed revocations, the nonce cancellation, the session module and the account's owner calls", function () {
    expect(files.sort()).to.deep.equal([
      "calldata-leash-account.json",
      "calldata-leash-session-module.json",
      "eip712-leash-all-sessions-revocation.json",
      "eip712-leash-nonce-cancellation.json",
      "eip712-leash-session-grant.json",
      "eip712-leash-session-revocation.json",
    ]);
  });

  for (const file of files) {
    it(`${file} has the ERC-7730 v1 shape`, function () {
      expect(shapeErrors(load(file) as unknown as Record<string, unknown>)).to.deep.equal([]);
    });
  }

  for (const file of files.filter((f) => f.startsWith("eip712-"))) {
    it(`${file} describes exactly the nested typed data the Ledger signs, every field labelled`, function () {
      const doc = load(file);
      const eip712 = doc.context.eip712!;
      expect(eip712.domain).to.deep.equal({ name: "Leash Session Keys", version: "1" });
      const [schema] = eip712.schemas;
      const { EIP712Domain, ...types } = schema!.types;
      expect(EIP712Domain!.map((f) => f.name)).to.deep.equal(["name", "version", "chainId", "verifyingContract"]);
      const contents = types.TypedDataSign![0]!.type;
      const app = { ...APP, types: CLIENT_TYPES[contents]!, primaryType: contents };
      const nested = nestOwnerTypedData(app, {}, "0x0000000000000000000000000000000000000001", 1n);
      expect(types).to.deep.equal(nested.types);
      expect(schema!.primaryType).to.equal(nested.primaryType);
      expectCoverage(doc.display.formats.TypedDataSign!, typedDataLeaves(types, "TypedDataSign"), file);
    });
  }

  for (const file of files.filter((f) => f.startsWith("calldata-"))) {
    it(`${file} formats functions of the compiled ABI, every parameter labelled or excluded`, function () {
      const doc = load(file);
      const described = new Interface(doc.context.contract!.abi);
      for (const [key, format] of Object.entries(doc.display.formats)) {
        const fn = described.getFunction(key);
        expect(fn, `${key} is not in the descriptor's ABI`).to.not.equal(null);
        const compiled = COMPILED_ABIS.map((abi) => new Interface(abi).getFunction(key)).find((f) => f !== null);
        expect(compiled?.format("full"), `${key} differs from the compiled contract`).to.equal(fn!.format("full"));
        const inputs = JSON.parse(fn!.format("json")) as { inputs: AbiParam[] };
        expectCoverage(format, abiLeaves(inputs.inputs), `${file} ${key}`);
      }
    });
  }
});
