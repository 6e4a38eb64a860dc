/**
 * The owner's typed data on a Ledger, clear-signed or not at all.
 *
 * `@nomicfoundation/hardhat-ledger` 3.1.0 answers `eth_signTypedData_v4` by trying the Ethereum app's full EIP-712
 * mode and, on any failure, retrying in hashed mode: an owner's "Reject" then comes back as "Invalid data received
 * (0x6a80)" (the app refuses hashed mode without blind signing), and with blind signing on the device asks a second
 * time showing only two hashes. This signer talks to the app through `@ledgerhq/hw-app-eth` itself, in full mode
 * only:
 * - before anything reaches the screen it checks that the app will clear-sign the message: an app recent enough for
 *   filters, and display rules ("filters") for this chain, contract and schema from Ledger's CAL service (through
 *   hw-app-eth's load config, as the signing itself will fetch them). If not, it refuses with
 *   {@link LedgerBlindSigningRequiredError}, which carries the hashes a blind-signing device would show;
 * - it then has the owner confirm (`onClearSignable`, where a task prints what the device will show and asks);
 * - a rejection on the device is {@link LedgerRejectedError}, refused filters {@link LedgerFiltersRefusedError}.
 *
 * It opens the device the way hardhat-ledger does (`create()` of `@ledgerhq/hw-transport-node-hid`, which tests
 * replace with an emulator) and closes it after each signature. It implements the two members of an ethers `Signer`
 * that client/signed.ts uses.
 */
import { createRequire } from "node:module";

import {
  formatUnits,
  getAddress,
  MaxUint256,
  Signature,
  TypedDataEncoder,
  type Provider,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

import { LeashInputError } from "@leashkit/client";
import {
  signEip712WithTokenAmounts,
  tokensShown,
  TokenInformationMissingError,
  TooManyTokensError,
  MAX_DEVICE_TOKENS,
  type ApduTransport,
  type DeviceTokenInfo,
  type ServedFilters,
} from "./ledgerEip712.js";

const require = createRequire(import.meta.url);

/** The first app-ethereum version hw-app-eth 7.9.0 sends v2 filters (datetime, amounts) to. */
export const MIN_CLEAR_SIGNING_APP_VERSION = "1.11.1";
/** Status words of the Ethereum app. */
const SW_DENIED = 0x6985;
const SW_BLIND_SIGNING_REQUIRED = 0x6a80;
/** INS of the EIP-712 filtering APDU. */
const INS_EIP712_FILTERING = 0x1e;
/** Where hardhat-ledger looks for the owner's address: m/44'/60'/i'/0/0, i up to 20. */
const MAX_DERIVATION_INDEX = 20;

/** The hashes a device in blind-signing mode shows for a message (hashed mode: domain and message). */
export interface TypedDataHashes {
  domainHash: string;
  messageHash: string;
  /** keccak256(0x1901 ‖ domainHash ‖ messageHash): what is signed. */
  digest: string;
}

/**
 * What the app will show, from the filters it will receive and the message: the filters' message label under
 * "Contract", then each filtered field's label and value (decimal numbers, EIP-55 addresses, as the app prints raw
 * fields), in the order the app reaches them in the message.
 */
export interface ClearSigningPreview {
  contract: string;
  fields: { path: string; label: string; value: string }[];
  appVersion: string;
}

/** The Ledger would need blind signing for this message: refused before anything is shown. */
export class LedgerBlindSigningRequiredError extends LeashInputError {
  override readonly name = "LedgerBlindSigningRequiredError";
  constructor(
    reason: string,
    readonly hashes: TypedDataHashes,
  ) {
    super(
      `the Ledger cannot clear-sign this message: ${reason}. It would need blind signing and would show only ` +
        `hashes (domain hash ${hashes.domainHash}, message hash ${hashes.messageHash}); Leash does not ask for ` +
        "that. Nothing was sent to the device",
      "ledger",
    );
  }
}

/** The owner rejected the message on the device. */
export class LedgerRejectedError extends LeashInputError {
  override readonly name = "LedgerRejectedError";
  constructor() {
    super("rejected on the Ledger: nothing was signed", "ledger");
  }
}

/** The device refused the display rules (filters) the CAL service served: they are not signed by a key it trusts. */
export class LedgerFiltersRefusedError extends LeashInputError {
  override readonly name = "LedgerFiltersRefusedError";
  constructor(readonly statusCode: number) {
    super(
      `the Ledger refused the display rules (filters) for this message (status 0x${statusCode.toString(16)}): ` +
        "their signature does not verify with the key this device trusts (Ledger's production key on a retail " +
        "device), so the filter service answered filters this device cannot check. Nothing was signed",
      "ledger",
    );
  }
}

interface LedgerTransport extends ApduTransport {
  exchange(apdu: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

interface EthApp {
  getAddress(path: string, display?: boolean): Promise<{ address: string }>;
  getAppConfiguration(): Promise<{ arbitraryDataEnabled: number; version: string }>;
  signEIP712Message(path: string, message: unknown): Promise<{ v: number; r: string; s: string }>;
}

type MessageFiltersAnswer = ServedFilters;

/** The full EIP-712 JSON request the app receives (EIP712Domain typed from the domain's fields). */
export function typedDataRequest(
  domain: TypedDataDomain,
  types: Record<string, TypedDataField[]>,
  message: Record<string, unknown>,
) {
  const domainFields = (
    [
      ["name", "string"],
      ["version", "string"],
      ["chainId", "uint256"],
      ["verifyingContract", "address"],
      ["salt", "bytes32"],
    ] as const
  ).filter(([name]) => domain[name] !== undefined && domain[name] !== null);
  const primaryType = TypedDataEncoder.getPrimaryType(types);
  const json = (value: unknown): unknown =>
    JSON.parse(JSON.stringify(value, (_key, item: unknown) => (typeof item === "bigint" ? item.toString() : item)));
  return {
    domain: json({
      ...domain,
      ...(domain.chainId === undefined || domain.chainId === null ? {} : { chainId: Number(domain.chainId) }),
    }) as Record<string, unknown>,
    types: { EIP712Domain: domainFields.map(([name, type]) => ({ name, type })), ...types },
    primaryType,
    message: json(message) as Record<string, unknown>,
  };
}

/** The hashes of a typed message (what a blind-signing device would show). */
export function typedDataHashes(
  domain: TypedDataDomain,
  types: Record<string, TypedDataField[]>,
  message: Record<string, unknown>,
): TypedDataHashes {
  return {
    domainHash: TypedDataEncoder.hashDomain(domain),
    messageHash: TypedDataEncoder.from(types).hash(message),
    digest: TypedDataEncoder.hash(domain, types, message),
  };
}

/** A token's ticker and decimals as the device shows its amounts. */
export interface ShownToken {
  ticker: string;
  decimals: number;
}

/** An amount as the app prints an amount joined with its token: scaled, trailing zeros dropped, then the ticker. */
export function deviceAmount(value: bigint, token: ShownToken): string {
  if (value === MaxUint256) return `Unlimited ${token.ticker}`;
  const text = formatUnits(value, token.decimals).replace(/\.0$/, "");
  return `${text} ${token.ticker}`;
}

/** A raw field as the app prints it: addresses EIP-55, bytes as 0x and uppercase hex, the rest as is. */
export function deviceRaw(type: string, value: unknown): string {
  if (type === "address") return getAddress(String(value));
  if (/^bytes\d*$/.test(type)) return `0x${String(value).slice(2).toUpperCase()}`;
  return String(value);
}

/** A unix time as the app prints a datetime field: `YYYY-MM-DD hh:mm:ss AM UTC` (12-hour clock, UTC). */
export function deviceDate(seconds: bigint): string {
  const iso = new Date(Number(seconds) * 1000).toISOString();
  const hours = Number(iso.slice(11, 13));
  const hour12 = String(hours % 12 === 0 ? 12 : hours % 12).padStart(2, "0");
  return `${iso.slice(0, 10)} ${hour12}:${iso.slice(14, 19)} ${hours < 12 ? "AM" : "PM"} UTC`;
}

/**
 * The filtered fields of `request` in message order (the order the app shows them), with their values as the app
 * prints them: raw numbers in decimal, addresses EIP-55, datetimes as UTC dates, amounts scaled with their token's
 * ticker (`tokens`, by lowercase address); token fields are not shown (they name the amount after them).
 */
function previewFields(
  request: ReturnType<typeof typedDataRequest>,
  filters: MessageFiltersAnswer,
  tokens: ReadonlyMap<string, ShownToken>,
): ClearSigningPreview["fields"] {
  const out: ClearSigningPreview["fields"] = [];
  let token: ShownToken | undefined;
  const walk = (type: string, value: unknown, path: string): void => {
    if (type.endsWith("[]")) {
      for (const item of value as unknown[]) walk(type.slice(0, -2), item, `${path}.[]`);
      return;
    }
    const fields = request.types[type as keyof typeof request.types];
    if (fields !== undefined) {
      for (const field of fields) {
        walk(
          field.type,
          (value as Record<string, unknown>)[field.name],
          path === "" ? field.name : `${path}.${field.name}`,
        );
      }
      return;
    }
    const filter = filters.fields.find((f) => f.path === path);
    if (filter === undefined) return;
    switch (filter.format) {
      case "token":
        token = tokens.get(String(value).toLowerCase());
        return;
      case "amount":
        out.push({
          path,
          label: filter.label,
          value: deviceAmount(BigInt(String(value)), token ?? { ticker: "???", decimals: 0 }),
        });
        return;
      case "datetime":
        out.push({ path, label: filter.label, value: deviceDate(BigInt(String(value))) });
        return;
      default:
        out.push({ path, label: filter.label, value: deviceRaw(type, value) });
    }
  };
  walk(request.primaryType, request.message, "");
  return out;
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown })?.statusCode;
  return typeof code === "number" ? code : undefined;
}

function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split(/[.-]/).map(Number);
  const b = minimum.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** Options of {@link LedgerClearSigner}. */
export interface LedgerClearSignerOptions {
  /** Derivation path for account index i (hardhat-ledger's `ledgerOptions.derivationFunction`). */
  derivationFunction?: (index: number) => string;
  /**
   * Called once the message is known to be clear-signable, before the device is asked: print what it will show and
   * confirm (throw to stop; nothing has been shown then).
   */
  onClearSignable?: (preview: ClearSigningPreview) => Promise<void>;
}

/** The owner's Ledger for typed data: clear-signs in full EIP-712 mode, never falls back to hashed signing. */
export class LedgerClearSigner {
  readonly address: string;
  readonly provider: Provider | null;
  #options: LedgerClearSignerOptions;
  #path: string | undefined;

  constructor(address: string, provider: Provider | null, options: LedgerClearSignerOptions = {}) {
    this.address = getAddress(address);
    this.provider = provider;
    this.#options = options;
  }

  async getAddress(): Promise<string> {
    return this.address;
  }

  /** ethers' `Signer.signTypedData`: clear-signs on the device, or throws one of this module's errors. */
  async signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    message: Record<string, unknown>,
  ): Promise<string> {
    const request = typedDataRequest(domain, types, message);
    const hashes = typedDataHashes(domain, types, message);
    const transport = await this.#open();
    let lastApdu: Buffer | undefined;
    const exchange = transport.exchange.bind(transport);
    transport.exchange = async (apdu: Buffer) => {
      lastApdu = apdu;
      return exchange(apdu);
    };
    try {
      const eth = this.#eth(transport);
      const { version } = await eth.getAppConfiguration();
      if (!versionAtLeast(version, MIN_CLEAR_SIGNING_APP_VERSION)) {
        throw new LedgerBlindSigningRequiredError(
          `the Ethereum app is version ${version}; clear-signing needs ${MIN_CLEAR_SIGNING_APP_VERSION} or later`,
          hashes,
        );
      }
      const filters = await this.#filters(request);
      if (filters === undefined) {
        throw new LedgerBlindSigningRequiredError(
          `Ledger's filter service has no display rules for ${request.primaryType} on chain ` +
            `${String(request.domain.chainId)} at ${String(request.domain.verifyingContract)} (Leash's ERC-7730 ` +
            "descriptors are not in Ledger's registry for this chain yet)",
          hashes,
        );
      }
      // Amounts shown with their token (the app's amount-with-token filters) need the tokens' signed information;
      // hw-app-eth cannot send those filters for amounts in arrays, packages/hardhat/src/ledger/ledgerEip712.ts does.
      const withAmounts = filters.fields.some((f) => f.format === "token" || f.format === "amount");
      const tokens = withAmounts
        ? await this.#tokenInfos(request, filters, hashes)
        : new Map<string, DeviceTokenInfo>();
      const path = await this.#derivePath(eth);
      await this.#options.onClearSignable?.({
        contract: filters.contractName.label,
        fields: previewFields(request, filters, tokens),
        appVersion: version,
      });
      let signed: { v: number; r: string; s: string };
      try {
        signed = withAmounts
          ? await signEip712WithTokenAmounts(transport, path, request, filters, async (t) =>
              tokens.get(t.toLowerCase()),
            )
          : await eth.signEIP712Message(path, request);
      } catch (error) {
        const status = statusOf(error);
        if (status === SW_DENIED) throw new LedgerRejectedError();
        if (status !== undefined && lastApdu?.[1] === INS_EIP712_FILTERING) throw new LedgerFiltersRefusedError(status);
        if (status === SW_BLIND_SIGNING_REQUIRED) {
          throw new LedgerBlindSigningRequiredError("the Ethereum app refused it without blind signing", hashes);
        }
        throw error;
      }
      return Signature.from({
        r: `0x${signed.r.padStart(64, "0")}`,
        s: `0x${signed.s.padStart(64, "0")}`,
        v: signed.v < 27 ? signed.v + 27 : signed.v,
      }).serialized;
    } finally {
      await transport.close();
    }
  }

  /**
   * Has the owner check their address on the device's screen ("Verify Ethereum address") and confirm it: what an
   * account created for them without any signature (the factory call carries only the address) will be owned by.
   * Throws {@link LedgerRejectedError} if the owner rejects it.
   */
  async verifyAddressOnDevice(): Promise<void> {
    const transport = await this.#open();
    try {
      const eth = this.#eth(transport);
      const path = await this.#derivePath(eth);
      let shown: string;
      try {
        shown = (await eth.getAddress(path, true)).address;
      } catch (error) {
        if (statusOf(error) === SW_DENIED) throw new LedgerRejectedError();
        throw error;
      }
      if (getAddress(shown) !== this.address) {
        throw new LeashInputError(`the Ledger showed ${shown}, not the owner ${this.address}`, "ledgerAccounts");
      }
    } finally {
      await transport.close();
    }
  }

  async #open(): Promise<LedgerTransport> {
    const hid = require("@ledgerhq/hw-transport-node-hid") as {
      default: { create: (openTimeout?: number, listenTimeout?: number) => Promise<LedgerTransport> };
    };
    return hid.default.create(3000, 3000);
  }

  #eth(transport: LedgerTransport): EthApp {
    const Eth = (require("@ledgerhq/hw-app-eth") as { default: new (transport: LedgerTransport) => EthApp }).default;
    return new Eth(transport);
  }

  /** The filters hw-app-eth will send for `request` (the same lookup, through the same load config). */
  async #filters(request: ReturnType<typeof typedDataRequest>): Promise<MessageFiltersAnswer | undefined> {
    const { getLoadConfig } = require("@ledgerhq/hw-app-eth/lib/services/ledger/loadConfig") as {
      getLoadConfig: (config?: Record<string, unknown>) => Record<string, unknown>;
    };
    const { getFiltersForMessage } = require("@ledgerhq/evm-tools/lib/message/EIP712/index") as {
      getFiltersForMessage: (...args: unknown[]) => Promise<MessageFiltersAnswer | undefined>;
    };
    const config = getLoadConfig({});
    return getFiltersForMessage(
      request,
      false,
      config.calServiceURL,
      config.staticEIP712SignaturesV1,
      config.staticEIP712SignaturesV2,
    );
  }

  /** The signed information of every token the message shows an amount in, from Ledger's crypto-assets service. */
  async #tokenInfos(
    request: ReturnType<typeof typedDataRequest>,
    filters: MessageFiltersAnswer,
    hashes: TypedDataHashes,
  ): Promise<Map<string, DeviceTokenInfo>> {
    const erc20 = require("@ledgerhq/hw-app-eth/lib/services/ledger/erc20") as {
      findERC20SignaturesInfo: (config: Record<string, unknown>, chainId: number) => Promise<string | null>;
      byContractAddressAndChainId: (
        token: string,
        chainId: number,
        blob: string | null,
        config: Record<string, unknown>,
      ) => { ticker: string; decimals: number; data: Buffer } | undefined | null;
    };
    const chainId = Number(request.domain.chainId);
    const blob = await erc20.findERC20SignaturesInfo({}, chainId);
    const out = new Map<string, DeviceTokenInfo>();
    const missing: string[] = [];
    for (const token of new Set(tokensShown(request, filters).map((t) => t.toLowerCase()))) {
      const entry = erc20.byContractAddressAndChainId(token, chainId, blob, {});
      if (entry === undefined || entry === null) missing.push(getAddress(token));
      else out.set(token, { ticker: entry.ticker, decimals: entry.decimals, data: entry.data });
    }
    if (missing.length !== 0) {
      throw new LedgerBlindSigningRequiredError(new TokenInformationMissingError(missing).message, hashes);
    }
    if (out.size > MAX_DEVICE_TOKENS)
      throw new LedgerBlindSigningRequiredError(new TooManyTokensError(out.size).message, hashes);
    return out;
  }

  async #derivePath(eth: EthApp): Promise<string> {
    if (this.#path !== undefined) return this.#path;
    const derive = this.#options.derivationFunction ?? ((i: number) => `m/44'/60'/${i}'/0/0`);
    for (let i = 0; i <= MAX_DERIVATION_INDEX; i++) {
      const path = derive(i).replace(/^m\//, "");
      if (getAddress((await eth.getAddress(path)).address) === this.address) {
        this.#path = path;
        return path;
      }
    }
    throw new LeashInputError(
      `the connected Ledger does not hold ${this.address} on ${derive(0)} … ${derive(MAX_DERIVATION_INDEX)}`,
      "ledgerAccounts",
    );
  }
}
