/**
 * An emulated Ledger for tests and the local demo: a transport that answers the Ethereum app's APDUs with keys
 * derived from a known mnemonic, plugged in where `@nomicfoundation/hardhat-ledger` opens
 * `@ledgerhq/hw-transport-node-hid`. The plugin and `@ledgerhq/hw-app-eth` then run unchanged, and every request the
 * "device" received is recorded, decoded, so tests can check that what was signed is what was shown.
 *
 * Supported instructions (CLA 0xE0): 0x02 get address, 0x04 sign transaction (EIP-1559, chunked), 0x06 app
 * configuration, 0x08 sign personal message (chunked), 0x0C sign EIP-712 hashed message (P2 = 0). The full
 * EIP-712 mode (CLA 0xB0 app query, then struct streaming) answers "not supported", so hw-app-eth falls back to the
 * hashed mode, as it does on a device without it; the recorded hashes are then compared with the typed data.
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
} from "ethers";

const require = createRequire(import.meta.url);

/** Status words of the Ethereum app. */
const SW_OK = [0x90, 0x00];
const SW_INS_NOT_SUPPORTED = [0x6d, 0x00];
const SW_CLA_NOT_SUPPORTED = [0x6e, 0x00];
const SW_WRONG_DATA = [0x6a, 0x80];

const CLA_ETH = 0xe0;
const INS_GET_ADDRESS = 0x02;
const INS_SIGN_TX = 0x04;
const INS_APP_CONFIGURATION = 0x06;
const INS_SIGN_PERSONAL = 0x08;
const INS_SIGN_EIP712 = 0x0c;
const P1_FIRST_CHUNK = 0x00;
/** Version the emulated Ethereum app reports (flags, major, minor, patch). */
const APP_CONFIGURATION = [0x01, 0x01, 0x0d, 0x00];

/** One request the emulated device signed, decoded. */
export type LedgerRequest =
  | { kind: "transaction"; path: string; transaction: Transaction }
  | { kind: "eip712-hashed"; path: string; domainHash: string; messageHash: string }
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
    if (cla !== CLA_ETH) return new Uint8Array(SW_CLA_NOT_SUPPORTED);
    try {
      switch (ins) {
        case INS_GET_ADDRESS:
          return this.#getAddress(data);
        case INS_APP_CONFIGURATION:
          return new Uint8Array([...APP_CONFIGURATION, ...SW_OK]);
        case INS_SIGN_TX:
          return this.#signTransaction(p1 === P1_FIRST_CHUNK, data);
        case INS_SIGN_PERSONAL:
          return this.#signPersonalMessage(p1 === P1_FIRST_CHUNK, data);
        case INS_SIGN_EIP712:
          return p2 === 0 ? this.#signEip712Hashed(data) : new Uint8Array(SW_INS_NOT_SUPPORTED);
        default:
          // Clear-signing provisioning (token / plugin / domain info) needs no answer data.
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
