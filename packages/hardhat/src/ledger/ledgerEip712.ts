/**
 * Clear-signing EIP-712 on Ledger's Ethereum app with amounts shown scaled and named ("100 USDC"), for messages
 * whose amounts sit in arrays, such as a `SessionGrant`'s budgets.
 *
 * `@ledgerhq/hw-app-eth` 7.9.0 sends the app's amount-with-token filters only for token fields outside arrays (it
 * throws "Array of tokens is not supported with a single coin ref" otherwise). This module sends the same APDUs as its
 * `signEIP712Message` (app-ethereum's doc/ethapp.adoc, "EIP712"), reusing its type and value encoders, and differs in
 * one point: amount filters inside arrays.
 * - After filtering is activated, it provides the token information of every token an amount of the message is shown
 *   in (`provideERC20TokenInformation`, at most {@link MAX_DEVICE_TOKENS}, the app's slots), in the order they first
 *   appear. Token information comes from Ledger's crypto-assets service through hw-app-eth's own lookup and load
 *   config (`erc20-signatures.json`), signed by Ledger.
 * - A token filter and its amount filter name the device slot of their token, which is part of what the filter's
 *   signature covers; the filter service therefore answers one signature per slot for these paths (`coin_ref` = the
 *   slot), and the slot a field's token got picks which one is sent.
 * Raw and datetime filters are sent as hw-app-eth sends them. The app checks that an amount's token field equals the
 * token information in its slot, so a ticker can only be shown next to the token it was signed for.
 */
import { createRequire } from "node:module";

import { getAddress } from "ethers";

const require = createRequire(import.meta.url);

/** The app's token slots (app-ethereum MAX_ASSETS). */
export const MAX_DEVICE_TOKENS = 5;

/** APDU fields (app-ethereum 1.22.0). */
const CLA = 0xe0;
const INS_PROVIDE_ERC20 = 0x0a;
const INS_SIGN_EIP712 = 0x0c;
const INS_STRUCT_DEF = 0x1a;
const INS_STRUCT_IMPL = 0x1c;
const INS_FILTERING = 0x1e;
const P2_FILTER = {
  activate: 0x00,
  discarded: 0x01,
  messageInfo: 0x0f,
  datetime: 0xfc,
  token: 0xfd,
  amount: 0xfe,
  raw: 0xff,
};

/** The transport hw-app-eth uses (`@ledgerhq/hw-transport`): one APDU, throws on a status other than 0x9000. */
export interface ApduTransport {
  send(cla: number, ins: number, p1: number, p2: number, data?: Buffer): Promise<Buffer>;
}

/** One field filter as the filter service answers it (`eip712_signatures` v2); token and amount have `coin_ref`. */
export interface ServedFieldFilter {
  path: string;
  label: string;
  format: "raw" | "datetime" | "token" | "amount";
  coin_ref?: number;
  signature: string;
}

/** A message's filters as the filter service answers them. */
export interface ServedFilters {
  contractName: { label: string; signature: string };
  fields: ServedFieldFilter[];
}

/** A full EIP-712 request (types with EIP712Domain, JSON values). */
export interface Eip712Request {
  domain: Record<string, unknown>;
  types: Record<string, { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

/** Signed token information for the device (`provideERC20TokenInformation` payload). */
export interface DeviceTokenInfo {
  ticker: string;
  decimals: number;
  /** The APDU data: ticker length ‖ ticker ‖ address ‖ decimals ‖ chain id ‖ Ledger's signature. */
  data: Buffer;
}

/** Looks up a token's signed information (Ledger's crypto-assets service), or undefined if it has none. */
export type TokenInfoLookup = (token: string) => Promise<DeviceTokenInfo | undefined>;

/** The message shows amounts in tokens the device cannot be told about: refused before anything is shown. */
export class TokenInformationMissingError extends Error {
  constructor(readonly tokens: string[]) {
    super(
      `Ledger's crypto-assets service has no signed information for ${tokens.join(", ")}, so the device would show ` +
        "their amounts in base units with ??? as ticker",
    );
    this.name = "TokenInformationMissingError";
  }
}

/** More distinct tokens than the device has slots. */
export class TooManyTokensError extends Error {
  constructor(count: number) {
    super(`the message shows amounts in ${count} tokens; the device can name at most ${MAX_DEVICE_TOKENS} at once`);
    this.name = "TooManyTokensError";
  }
}

/** The filter service answered no signature for a token slot the message needs, or an amount has no token before it. */
export class MissingSlotFilterError extends Error {
  constructor(path: string, slot: number) {
    super(
      slot < 0
        ? `the amount at ${path} has no token field before it in its struct: the device could not name it`
        : `the display rules have no signature for ${path} with token slot ${slot}`,
    );
    this.name = "MissingSlotFilterError";
  }
}

interface Eip712Utils {
  makeTypeEntryStructBuffer(entry: { name: string; type: string }): Buffer;
  destructTypeFromString(type: string): [{ name: string; size?: number } | null, (number | null)[]];
  EIP712_TYPE_PROPERTIES: Record<string, unknown>;
  EIP712_TYPE_ENCODERS: Record<string, (value: unknown, sizeInBits?: number) => Buffer>;
}

function utils(): Eip712Utils {
  return require("@ledgerhq/hw-app-eth/lib/modules/EIP712/utils") as Eip712Utils;
}

function withLength(buffer: Buffer): Buffer {
  return Buffer.concat([Buffer.from([buffer.length]), buffer]);
}

function sortedTypes(types: Eip712Request["types"]): [string, { name: string; type: string }[]][] {
  return Object.keys(types)
    .sort()
    .map((name) => [name, types[name]!]);
}

/** The token addresses the message's token-filtered fields hold, in message order (duplicates kept). */
export function tokensShown(request: Eip712Request, filters: ServedFilters): string[] {
  const tokenPaths = new Set(filters.fields.filter((f) => f.format === "token").map((f) => f.path));
  const out: string[] = [];
  walk(request, (path, type, value) => {
    if (type === "address" && tokenPaths.has(path)) out.push(getAddress(String(value)));
  });
  return out;
}

/** Calls `leaf` for each atomic field of the message in the order the app receives it (path with `.[]`). */
function walk(request: Eip712Request, leaf: (path: string, type: string, value: unknown) => void): void {
  const visit = (type: string, value: unknown, path: string): void => {
    if (type.endsWith("]")) {
      const inner = type.slice(0, type.lastIndexOf("["));
      for (const item of value as unknown[]) visit(inner, item, `${path}.[]`);
      return;
    }
    const fields = request.types[type];
    if (fields !== undefined) {
      for (const field of fields) {
        visit(
          field.type,
          (value as Record<string, unknown>)[field.name],
          path === "" ? field.name : `${path}.${field.name}`,
        );
      }
      return;
    }
    leaf(path, type, value);
  };
  visit(request.primaryType, request.message, "");
}

/**
 * Signs `request` on the device at `path` (BIP-32, without `m/`) with `filters`, providing the token information of
 * every amount's token first. Throws the transport's status errors as they come (the caller maps them).
 */
export async function signEip712WithTokenAmounts(
  transport: ApduTransport,
  path: string,
  request: Eip712Request,
  filters: ServedFilters,
  lookup: TokenInfoLookup,
): Promise<{ v: number; r: string; s: string }> {
  const { makeTypeEntryStructBuffer, destructTypeFromString, EIP712_TYPE_PROPERTIES, EIP712_TYPE_ENCODERS } = utils();
  const byPath = new Map<string, ServedFieldFilter[]>();
  for (const field of filters.fields) byPath.set(field.path, [...(byPath.get(field.path) ?? []), field]);

  // Token information first, so that nothing reaches the device when a token cannot be named.
  const distinct = [...new Set(tokensShown(request, filters).map((t) => t.toLowerCase()))];
  if (distinct.length > MAX_DEVICE_TOKENS) throw new TooManyTokensError(distinct.length);
  const infos = await Promise.all(distinct.map(async (token) => [token, await lookup(token)] as const));
  const missing = infos.filter(([, info]) => info === undefined).map(([token]) => getAddress(token));
  if (missing.length !== 0) throw new TokenInformationMissingError(missing);

  // Everything the stream will need, checked before the first APDU: the device shows nothing of a message it could
  // not finish. The app gives the tokens slots 0, 1, … in the order they are provided.
  for (const [filterPath, served] of byPath) {
    if (served[0]!.format !== "token" && served[0]!.format !== "amount") continue;
    for (let slot = 0; slot < distinct.length; slot++) {
      if (!served.some((f) => f.coin_ref === slot)) throw new MissingSlotFilterError(filterPath, slot);
    }
  }
  const tokenSeen = new Set<string>();
  walk(request, (leafPath) => {
    const format = byPath.get(leafPath)?.[0]?.format;
    const struct = leafPath.slice(0, leafPath.lastIndexOf("."));
    if (format === "token") tokenSeen.add(struct);
    if (format === "amount" && !tokenSeen.has(struct)) throw new MissingSlotFilterError(leafPath, -1);
  });

  const send = (ins: number, p1: number, p2: number, data?: Buffer) => transport.send(CLA, ins, p1, p2, data);

  // Struct definitions, sorted by name as the app hashes the schema.
  for (const [name, fields] of sortedTypes(request.types)) {
    await send(INS_STRUCT_DEF, 0x00, 0x00, Buffer.from(name, "utf8"));
    for (const field of fields) await send(INS_STRUCT_DEF, 0x00, 0xff, makeTypeEntryStructBuffer(field));
  }
  await send(INS_FILTERING, 0x01, P2_FILTER.activate);
  const slots = new Map<string, number>();
  for (const [token, info] of infos) {
    const answer = await send(INS_PROVIDE_ERC20, 0x00, 0x00, info!.data);
    slots.set(token, answer[0]!);
  }

  const sendValue = async (type: string, size: number | undefined, value: unknown) => {
    const encoded = EIP712_TYPE_ENCODERS[type.toUpperCase()]!(value, size);
    const data = Buffer.concat([Buffer.from([encoded.length >> 8, encoded.length & 0xff]), encoded]);
    for (let offset = 0; offset < data.length; offset += 255) {
      const last = offset + 255 >= data.length;
      await send(INS_STRUCT_IMPL, last ? 0x00 : 0x01, 0xff, data.subarray(offset, offset + 255));
    }
  };

  const filterFor = (field: ServedFieldFilter[], slot?: number): ServedFieldFilter => {
    if (slot === undefined) return field[0]!;
    const found = field.find((f) => f.coin_ref === slot);
    if (found === undefined) throw new MissingSlotFilterError(field[0]!.path, slot);
    return found;
  };

  const sendFilter = async (served: ServedFieldFilter[], discarded: boolean, slot: number | undefined) => {
    const filter = filterFor(served, slot);
    const signature = withLength(Buffer.from(filter.signature, "hex"));
    const label = withLength(Buffer.from(filter.label, "utf8"));
    const p1 = discarded ? 0x01 : 0x00;
    switch (filter.format) {
      case "raw":
        return send(INS_FILTERING, p1, P2_FILTER.raw, Buffer.concat([label, signature]));
      case "datetime":
        return send(INS_FILTERING, p1, P2_FILTER.datetime, Buffer.concat([label, signature]));
      case "token":
        return send(INS_FILTERING, p1, P2_FILTER.token, Buffer.concat([Buffer.from([slot ?? 0]), signature]));
      case "amount":
        return send(INS_FILTERING, p1, P2_FILTER.amount, Buffer.concat([label, Buffer.from([slot ?? 0]), signature]));
    }
  };

  /** The token an amount at `path` is shown in: the token-filtered sibling field of the same struct. */
  const amountToken = (tokenByStruct: Map<string, string>, path: string): string | undefined =>
    tokenByStruct.get(path.slice(0, path.lastIndexOf(".")));

  const tokenByStruct = new Map<string, string>();
  const visit = async (type: string, value: unknown, path: string): Promise<void> => {
    const [description, sizes] = destructTypeFromString(type);
    if (sizes.length !== 0) {
      const items = value as unknown[];
      const inner = type.slice(0, type.lastIndexOf("["));
      await send(INS_STRUCT_IMPL, 0x00, 0x0f, Buffer.from([items.length]));
      const itemPath = `${path}.[]`;
      if (items.length === 0) {
        // The filters below an empty array are announced as discarded, as hw-app-eth does.
        for (const [filterPath, served] of byPath) {
          if (!filterPath.startsWith(itemPath)) continue;
          await send(INS_FILTERING, 0x00, P2_FILTER.discarded, withLength(Buffer.from(filterPath, "utf8")));
          await sendFilter(served, true, served[0]!.coin_ref);
        }
      }
      for (const item of items) await visit(inner, item, itemPath);
      return;
    }
    const name = description?.name ?? "";
    if (EIP712_TYPE_PROPERTIES[name.toUpperCase()] === undefined) {
      for (const field of request.types[name] ?? []) {
        await visit(
          field.type,
          (value as Record<string, unknown>)[field.name],
          `${path}.${field.name}`.replace(/^\./, ""),
        );
      }
      return;
    }
    const served = byPath.get(path);
    if (served !== undefined) {
      let slot: number | undefined;
      if (served[0]!.format === "token") {
        const token = String(value).toLowerCase();
        tokenByStruct.set(path.slice(0, path.lastIndexOf(".")), token);
        slot = slots.get(token);
      } else if (served[0]!.format === "amount") {
        const token = amountToken(tokenByStruct, path);
        slot = token === undefined ? undefined : slots.get(token);
        if (slot === undefined) throw new MissingSlotFilterError(path, -1);
      }
      await sendFilter(served, false, slot);
    }
    await sendValue(name, description?.size, value);
  };

  await send(INS_STRUCT_IMPL, 0x00, 0x00, Buffer.from("EIP712Domain", "utf8"));
  for (const field of request.types.EIP712Domain ?? []) await visit(field.type, request.domain[field.name], "");
  await send(
    INS_FILTERING,
    0x00,
    P2_FILTER.messageInfo,
    Buffer.concat([
      withLength(Buffer.from(filters.contractName.label, "utf8")),
      Buffer.from([byPath.size]),
      withLength(Buffer.from(filters.contractName.signature, "hex")),
    ]),
  );
  await send(INS_STRUCT_IMPL, 0x00, 0x00, Buffer.from(request.primaryType, "utf8"));
  for (const field of request.types[request.primaryType]!) {
    await visit(field.type, request.message[field.name], field.name);
  }

  const elements = path.split("/").map((element) => {
    const hardened = element.endsWith("'");
    return (Number.parseInt(hardened ? element.slice(0, -1) : element, 10) + (hardened ? 0x80000000 : 0)) >>> 0;
  });
  const pathBuffer = Buffer.alloc(1 + 4 * elements.length);
  pathBuffer[0] = elements.length;
  elements.forEach((element, i) => pathBuffer.writeUInt32BE(element, 1 + 4 * i));
  const answer = await send(INS_SIGN_EIP712, 0x00, 0x01, pathBuffer);
  return {
    v: answer[0]!,
    r: answer.subarray(1, 33).toString("hex"),
    s: answer.subarray(33, 65).toString("hex"),
  };
}
