/**
 * An emulated Ledger for tests and the local demo: a transport that answers the Ethereum app's APDUs with keys
 * derived from a known mnemonic, plugged in where `@nomicfoundation/hardhat-ledger` opens
 * `@ledgerhq/hw-transport-node-hid`. The plugin and `@ledgerhq/hw-app-eth` then run unchanged, and every request the
 * "device" received is recorded, decoded, so tests can check that what was signed is what was shown.
 *
 * Supported instructions (CLA 0xE0): 0x02 get address, 0x04 sign transaction (EIP-1559, chunked), 0x06 app
 * configuration, 0x08 sign personal message (chunked), 0x0C sign EIP-712 in hashed mode (P2 = 0) or in full mode
 * (P2 = 1) after the struct definitions (0x1A), implementations (0x1C) and filters (0x1E); and CLA 0xB0 0x01, the
 * app's name and version. The full mode rebuilds the typed data from the stream, so what was signed can be checked,
 * and records what a real app would show under the filters' labels.
 *
 * What it models of Ledger's real app (test/device/ proves the app itself): a device with **blind signing enabled**
 * (the app configuration says so): calldata transactions and hashed EIP-712 are signed, as the real app signs them
 * only with that setting on. With `rejectNext` the owner rejects the next signing request (status 0x6985, as the real
 * app answers). It does not check filter signatures (the device suite does, with Ledger's test key).
 */
import { createRequire } from "node:module";

import {
  concat,
  decodeRlp,
  getBytes,
  hashMessage,
  HDNodeWallet,
  hexlify,
  keccak256,
  Mnemonic,
  Transaction,
  toUtf8String,
  getAddress,
  TypedDataEncoder,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

const require = createRequire(import.meta.url);

/** Status words of the Ethereum app. */
const SW_OK = [0x90, 0x00];
const SW_INS_NOT_SUPPORTED = [0x6d, 0x00];
const SW_CLA_NOT_SUPPORTED = [0x6e, 0x00];
const SW_WRONG_DATA = [0x6a, 0x80];
const SW_DENIED = [0x69, 0x85];

const CLA_ETH = 0xe0;
const INS_GET_ADDRESS = 0x02;
const INS_SIGN_TX = 0x04;
const INS_APP_CONFIGURATION = 0x06;
const INS_SIGN_PERSONAL = 0x08;
const INS_SIGN_EIP712 = 0x0c;
const INS_EIP712_STRUCT_DEF = 0x1a;
const INS_EIP712_STRUCT_IMPL = 0x1c;
const INS_EIP712_FILTERING = 0x1e;
const INS_PROVIDE_ERC20 = 0x0a;
const CLA_DASHBOARD = 0xb0;
const INS_APP_AND_VERSION = 0x01;
const P1_FIRST_CHUNK = 0x00;
/** Version the emulated Ethereum app reports (flags: blind signing on; major, minor, patch). */
const APP_CONFIGURATION = [0x01, 0x01, 0x16, 0x00];
const APP_NAME = "Ethereum";
const APP_VERSION = "1.22.0";

/** One request the emulated device signed, decoded. */
export type LedgerRequest =
  | { kind: "transaction"; path: string; transaction: Transaction }
  | { kind: "eip712-hashed"; path: string; domainHash: string; messageHash: string }
  | {
      kind: "eip712";
      path: string;
      domain: TypedDataDomain;
      types: Record<string, TypedDataField[]>;
      primaryType: string;
      message: Record<string, unknown>;
      /** The filters' message label (shown under "Contract"), if filters were sent. */
      contract?: string;
      /** Each filtered field as a real app shows it raw: label, value (decimal numbers, EIP-55 addresses). */
      shown: [label: string, value: string][];
    }
  | { kind: "personal-message"; path: string; message: string };

interface TransportInstance {
  exchange(apdu: Buffer): Promise<Buffer>;
}

interface TransportModule {
  default: { create: (...args: unknown[]) => Promise<TransportInstance> };
}

function parsePath(data: Uint8Array): { path: string; rest: Uint8Array } {
  const count = data[0] ?? 0;
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const offset = 1 + 4 * i;
    const value =
      ((data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!) >>> 0;
    parts.push(value >= 0x80000000 ? `${value - 0x80000000}'` : `${value}`);
  }
  return { path: `m/${parts.join("/")}`, rest: data.subarray(1 + 4 * count) };
}

/** Total length of the RLP item at the start of `bytes`, or undefined if its header is incomplete. */
function rlpLength(bytes: Uint8Array): number | undefined {
  const first = bytes[0];
  if (first === undefined) return undefined;
  if (first < 0x80) return 1;
  if (first < 0xb8) return 1 + first - 0x80;
  if (first < 0xc0 || first >= 0xf8) {
    const lengthBytes = first < 0xc0 ? first - 0xb7 : first - 0xf7;
    if (bytes.length < 1 + lengthBytes) return undefined;
    let length = 0;
    for (let i = 1; i <= lengthBytes; i++) length = length * 256 + bytes[i]!;
    return 1 + lengthBytes + length;
  }
  return 1 + first - 0xc0;
}

/** An emulated Ledger holding the accounts of `mnemonic` on their usual derivation paths. */
export class EmulatedLedger {
  /** Everything the device was asked to sign, in order. */
  readonly requests: LedgerRequest[] = [];
  #mnemonic: Mnemonic;
  #txBuffer: { path: string; bytes: Uint8Array } | undefined;
  #messageBuffer: { path: string; length: number; bytes: Uint8Array } | undefined;
  #restore: (() => void) | undefined;
  #eip712 = new Eip712Stream();
  /** The owner rejects the next signing request on the device (then this resets). */
  rejectNext = false;

  constructor(mnemonicPhrase: string) {
    this.#mnemonic = Mnemonic.fromPhrase(mnemonicPhrase);
  }

  /** Makes `@ledgerhq/hw-transport-node-hid` open this device instead of a USB one, until {uninstall}. */
  install(): void {
    if (this.#restore !== undefined) return;
    const transportModule = require("@ledgerhq/hw-transport-node-hid") as TransportModule;
    const TransportBase = (require("@ledgerhq/hw-transport") as { default: new () => TransportInstance }).default;
    const device = this;
    class EmulatedTransport extends TransportBase {
      override async exchange(apdu: Buffer): Promise<Buffer> {
        return Buffer.from(device.handle(new Uint8Array(apdu)));
      }
    }
    const original = transportModule.default.create;
    transportModule.default.create = async () => new EmulatedTransport();
    this.#restore = () => {
      transportModule.default.create = original;
    };
  }

  /** Puts the real USB transport back. */
  uninstall(): void {
    this.#restore?.();
    this.#restore = undefined;
  }

  /** Answers one APDU (CLA, INS, P1, P2, Lc, data) with data ‖ status word. */
  handle(apdu: Uint8Array): Uint8Array {
    const [cla, ins, p1, p2] = [apdu[0], apdu[1], apdu[2], apdu[3]];
    const data = apdu.subarray(5, 5 + (apdu[4] ?? 0));
    if (cla === CLA_DASHBOARD && ins === INS_APP_AND_VERSION) {
      const name = new TextEncoder().encode(APP_NAME);
      const version = new TextEncoder().encode(APP_VERSION);
      return new Uint8Array([0x01, name.length, ...name, version.length, ...version, 0x01, 0x00, ...SW_OK]);
    }
    if (cla !== CLA_ETH) return new Uint8Array(SW_CLA_NOT_SUPPORTED);
    const signing =
      ins === INS_SIGN_EIP712 ||
      (ins === INS_SIGN_TX && p1 === P1_FIRST_CHUNK) ||
      (ins === INS_SIGN_PERSONAL && p1 === P1_FIRST_CHUNK);
    if (signing && this.rejectNext) {
      this.rejectNext = false;
      this.#txBuffer = undefined;
      this.#messageBuffer = undefined;
      this.#eip712 = new Eip712Stream();
      return new Uint8Array(SW_DENIED);
    }
    try {
      switch (ins) {
        case INS_EIP712_STRUCT_DEF:
          this.#eip712.structDefinition(p2!, data);
          return new Uint8Array(SW_OK);
        case INS_EIP712_STRUCT_IMPL:
          this.#eip712.structImplementation(p1!, p2!, data);
          return new Uint8Array(SW_OK);
        case INS_EIP712_FILTERING:
          this.#eip712.filter(p2!, data);
          return new Uint8Array(SW_OK);
        case INS_GET_ADDRESS:
          return this.#getAddress(data);
        case INS_APP_CONFIGURATION:
          return new Uint8Array([...APP_CONFIGURATION, ...SW_OK]);
        case INS_SIGN_TX:
          return this.#signTransaction(p1 === P1_FIRST_CHUNK, data);
        case INS_SIGN_PERSONAL:
          return this.#signPersonalMessage(p1 === P1_FIRST_CHUNK, data);
        case INS_SIGN_EIP712:
          if (p2 === 0) return this.#signEip712Hashed(data);
          return p2 === 1 ? this.#signEip712Full(data) : new Uint8Array(SW_INS_NOT_SUPPORTED);
        case INS_PROVIDE_ERC20:
          // The app answers the token slot it used, round-robin over its MAX_ASSETS (5); a new filtering session
          // (activation) starts over at slot 0.
          return new Uint8Array([this.#eip712.nextTokenSlot(), ...SW_OK]);
        default:
          // Other clear-signing provisioning (plugin / domain info) needs no answer data.
          return new Uint8Array(SW_OK);
      }
    } catch {
      return new Uint8Array(SW_WRONG_DATA);
    }
  }

  /** The wallet at `path` (for tests that need the expected address or signature). */
  wallet(path: string): HDNodeWallet {
    return HDNodeWallet.fromMnemonic(this.#mnemonic, path);
  }

  #getAddress(data: Uint8Array): Uint8Array {
    const { path } = parsePath(data);
    const wallet = this.wallet(path);
    const publicKey = getBytes(wallet.signingKey.publicKey);
    const address = new TextEncoder().encode(wallet.address.slice(2));
    return new Uint8Array([publicKey.length, ...publicKey, address.length, ...address, ...SW_OK]);
  }

  #signTransaction(first: boolean, data: Uint8Array): Uint8Array {
    if (first) {
      const { path, rest } = parsePath(data);
      this.#txBuffer = { path, bytes: rest };
    } else if (this.#txBuffer !== undefined) {
      this.#txBuffer = { path: this.#txBuffer.path, bytes: concatBytes(this.#txBuffer.bytes, data) };
    } else {
      return new Uint8Array(SW_WRONG_DATA);
    }
    const { path, bytes } = this.#txBuffer;
    const typed = bytes[0] !== undefined && bytes[0] < 0x7f;
    const body = typed ? bytes.subarray(1) : bytes;
    const total = rlpLength(body);
    if (total === undefined || body.length < total) return new Uint8Array(SW_OK); // wait for more chunks
    decodeRlp(body); // throws on a malformed transaction
    this.#txBuffer = undefined;
    const unsigned = Transaction.from(hexlify(bytes));
    const signature = this.wallet(path).signingKey.sign(keccak256(bytes));
    this.requests.push({ kind: "transaction", path, transaction: unsigned });
    const v = typed ? signature.yParity : signature.v;
    return new Uint8Array([v, ...getBytes(signature.r), ...getBytes(signature.s), ...SW_OK]);
  }

  #signPersonalMessage(first: boolean, data: Uint8Array): Uint8Array {
    if (first) {
      const { path, rest } = parsePath(data);
      const length = ((rest[0]! << 24) | (rest[1]! << 16) | (rest[2]! << 8) | rest[3]!) >>> 0;
      this.#messageBuffer = { path, length, bytes: rest.subarray(4) };
    } else if (this.#messageBuffer !== undefined) {
      this.#messageBuffer.bytes = concatBytes(this.#messageBuffer.bytes, data);
    } else {
      return new Uint8Array(SW_WRONG_DATA);
    }
    const { path, length, bytes } = this.#messageBuffer;
    if (bytes.length < length) return new Uint8Array(SW_OK);
    this.#messageBuffer = undefined;
    const signature = this.wallet(path).signingKey.sign(hashMessage(bytes));
    let message: string;
    try {
      message = toUtf8String(bytes);
    } catch {
      message = hexlify(bytes);
    }
    this.requests.push({ kind: "personal-message", path, message });
    return new Uint8Array([signature.v, ...getBytes(signature.r), ...getBytes(signature.s), ...SW_OK]);
  }

  #signEip712Full(data: Uint8Array): Uint8Array {
    const { path } = parsePath(data);
    const stream = this.#eip712;
    this.#eip712 = new Eip712Stream();
    const typed = stream.typedData();
    const signature = this.wallet(path).signingKey.sign(
      TypedDataEncoder.hash(typed.domain, typed.types, typed.message),
    );
    this.requests.push({ kind: "eip712", path, ...typed, contract: stream.contract, shown: stream.shown });
    return new Uint8Array([signature.v, ...getBytes(signature.r), ...getBytes(signature.s), ...SW_OK]);
  }

  #signEip712Hashed(data: Uint8Array): Uint8Array {
    const { path, rest } = parsePath(data);
    const domainHash = hexlify(rest.subarray(0, 32));
    const messageHash = hexlify(rest.subarray(32, 64));
    const digest = keccak256(concat(["0x1901", domainHash, messageHash]));
    const signature = this.wallet(path).signingKey.sign(digest);
    this.requests.push({ kind: "eip712-hashed", path, domainHash, messageHash });
    return new Uint8Array([signature.v, ...getBytes(signature.r), ...getBytes(signature.s), ...SW_OK]);
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

type StreamEvent = { array: number } | { value: Uint8Array };

/**
 * One EIP-712 message streamed in full mode, as hw-app-eth 7.9.0 sends it: the types (struct name, then each field's
 * type descriptor), then the domain's and the primary type's values (a root, then array sizes and field values in
 * order), with filters announcing the label of the next field.
 */
class Eip712Stream {
  readonly types: Record<string, TypedDataField[]> = {};
  readonly roots: { name: string; events: StreamEvent[] }[] = [];
  readonly shown: [string, string][] = [];
  contract: string | undefined;
  #currentStruct: string | undefined;
  #pendingValue: Uint8Array | undefined;
  #nextLabel: string | undefined;

  structDefinition(p2: number, data: Uint8Array): void {
    if (p2 === 0x00) {
      this.#currentStruct = new TextDecoder().decode(data);
      this.types[this.#currentStruct] = [];
      return;
    }
    let offset = 0;
    const desc = data[offset++]!;
    const isArray = (desc & 0x80) !== 0;
    const hasSize = (desc & 0x40) !== 0;
    const key = desc & 0x0f;
    let base: string;
    let customName = "";
    if (key === 0) {
      const length = data[offset++]!;
      customName = new TextDecoder().decode(data.subarray(offset, offset + length));
      offset += length;
    }
    const size = hasSize ? data[offset++]! : 0;
    base = ["", `int${size * 8}`, `uint${size * 8}`, "address", "bool", "string", `bytes${size}`, "bytes"][key]!;
    if (key === 0) base = customName;
    if (isArray) {
      const levels = data[offset++]!;
      for (let i = 0; i < levels; i++) base += data[offset++] === 1 ? `[${data[offset++]}]` : "[]";
    }
    const nameLength = data[offset++]!;
    const name = new TextDecoder().decode(data.subarray(offset, offset + nameLength));
    this.types[this.#currentStruct!]!.push({ name, type: base });
  }

  structImplementation(p1: number, p2: number, data: Uint8Array): void {
    if (p2 === 0x00) {
      this.roots.push({ name: new TextDecoder().decode(data), events: [] });
    } else if (p2 === 0x0f) {
      this.roots.at(-1)!.events.push({ array: data[0]! });
    } else {
      const joined = concatBytes(this.#pendingValue ?? new Uint8Array(), data);
      if (p1 === 0x01) {
        this.#pendingValue = joined;
        return;
      }
      this.#pendingValue = undefined;
      const length = (joined[0]! << 8) | joined[1]!;
      this.roots.at(-1)!.events.push({ value: joined.subarray(2, 2 + length) });
      if (this.#nextLabel !== undefined) {
        this.#pendingLabels.push([this.#nextLabel, this.roots.at(-1)!.events.length - 1, this.roots.length - 1]);
        this.#nextLabel = undefined;
      }
    }
  }

  /** Labels waiting for their values' types (known once the whole message is decoded). */
  #pendingLabels: [label: string, event: number, root: number][] = [];

  #tokenSlot = 0;

  nextTokenSlot(): number {
    const slot = this.#tokenSlot;
    this.#tokenSlot = (slot + 1) % 5;
    return slot;
  }

  filter(p2: number, data: Uint8Array): void {
    if (p2 === 0x00) this.#tokenSlot = 0; // activation forgets the tokens provided before
    if (p2 === 0x00 || p2 === 0x01) return; // activate, discarded path
    if (p2 === 0xfd) return; // a token field: not shown, it names the amount after it
    const length = data[0]!;
    const label = new TextDecoder().decode(data.subarray(1, 1 + length));
    if (p2 === 0x0f) this.contract = label;
    else this.#nextLabel = label;
  }

  typedData() {
    const { EIP712Domain: domainFields, ...types } = this.types;
    const [domainRoot, messageRoot] = this.roots;
    if (domainRoot === undefined || messageRoot === undefined || domainFields === undefined) {
      throw new Error("incomplete EIP-712 stream");
    }
    const formatted = new Map<string, string>();
    const decode = (root: number, type: string, events: StreamEvent[], cursor: { i: number }): unknown => {
      const array = /^(.*)\[(\d*)\]$/.exec(type);
      if (array !== null) {
        const event = events[cursor.i++] as { array: number };
        return Array.from({ length: event.array }, () => decode(root, array[1]!, events, cursor));
      }
      const struct = this.types[type];
      if (struct !== undefined) {
        return Object.fromEntries(struct.map((field) => [field.name, decode(root, field.type, events, cursor)]));
      }
      const index = cursor.i;
      const bytes = (events[cursor.i++] as { value: Uint8Array }).value;
      const value = decodeValue(type, bytes);
      formatted.set(`${root}:${index}`, String(value));
      return value;
    };
    const domainCursor = { i: 0 };
    const domain = Object.fromEntries(
      domainFields.map((field) => [field.name, decode(0, field.type, domainRoot.events, domainCursor)]),
    ) as TypedDataDomain;
    const message = decode(1, messageRoot.name, messageRoot.events, { i: 0 }) as Record<string, unknown>;
    for (const [label, event, root] of this.#pendingLabels)
      this.shown.push([label, formatted.get(`${root}:${event}`)!]);
    return { domain, types, primaryType: messageRoot.name, message };
  }
}

function decodeValue(type: string, bytes: Uint8Array): unknown {
  if (type === "address") return getAddress(hexlify(bytes).padEnd(42, "0"));
  if (type === "bool") return bytes.some((b) => b !== 0);
  if (type === "string") return toUtf8String(bytes);
  if (type === "bytes") return hexlify(bytes);
  const fixed = /^bytes(\d+)$/.exec(type);
  if (fixed !== null) return hexlify(bytes).padEnd(2 + 2 * Number(fixed[1]), "0");
  const int = /^(u?)int(\d+)$/.exec(type);
  if (int !== null) {
    const unsigned = bytes.length === 0 ? 0n : BigInt(hexlify(bytes));
    if (int[1] === "u") return unsigned;
    const bits = BigInt(Number(int[2]));
    return unsigned >= 1n << (bits - 1n) ? unsigned - (1n << bits) : unsigned;
  }
  throw new Error(`unsupported EIP-712 type ${type}`);
}
