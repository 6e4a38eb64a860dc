/**
 * Connects `@nomicfoundation/hardhat-ledger` and `@ledgerhq/hw-app-eth` to a running {@link Speculos} through
 * Ledger's own Speculos transport (`@ledgerhq/hw-transport-node-speculos`, APDUs over TCP). Neither the plugin nor
 * the app client is changed: the device simply answers from the emulator.
 *
 * The seam is the same one the home-made emulated device uses (test/helpers/emulatedLedger.ts): hardhat-ledger 3.1.0
 * opens the device with `create()` on the default export of the CommonJS module `@ledgerhq/hw-transport-node-hid`,
 * and `new Eth(transport)`. Its `LedgerHandler` does accept a custom transport factory and `Eth` constructor as a
 * fourth constructor argument, but the plugin's network hook never passes one (only `ledgerAccounts` and
 * `ledgerOptions.derivationFunction` reach it from the config), so replacing `create` is the only way in without
 * patching the plugin.
 */
import { createRequire } from "node:module";

import type { Speculos } from "./speculos.js";

const require = createRequire(import.meta.url);

/** The part of a Ledger transport the tests use. */
export interface LedgerTransport {
  exchange(apdu: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

interface SpeculosTransportClass {
  open(options: { apduPort: number; host?: string }): Promise<LedgerTransport>;
}

interface NodeHidModule {
  default: { create: (...args: unknown[]) => Promise<unknown> };
}

/** One APDU the device answered: its class and instruction bytes, and the status word it answered with. */
export interface ApduExchange {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** e.g. 0x9000 (done), 0x6985 (the owner rejected), 0x6a80 (refused: blind signing is off). */
  status: number;
}

/** Opens a transport to the emulator's APDU port (for hw-app-eth used directly). */
export async function openSpeculosTransport(speculos: Speculos): Promise<LedgerTransport> {
  const SpeculosTransport = (require("@ledgerhq/hw-transport-node-speculos") as { default: SpeculosTransportClass })
    .default;
  return SpeculosTransport.open({ apduPort: speculos.apduPort, host: "127.0.0.1" });
}

/** hardhat-ledger wired to an emulator: the APDUs it exchanged, and how to put the USB transport back. */
export interface SpeculosLedgerSeam {
  /** Every APDU exchanged through transports opened by hardhat-ledger, in order. */
  readonly exchanges: ApduExchange[];
  /** Puts the USB transport back and closes the transports opened here. */
  restore(): Promise<void>;
}

/**
 * Makes hardhat-ledger open `speculos` instead of a USB device, for every network connection whose Ledger handler
 * is created from now on (a connection keeps the transport it opened first: create a new connection per emulator).
 */
export function useSpeculosForHardhatLedger(speculos: Speculos): SpeculosLedgerSeam {
  const nodeHid = require("@ledgerhq/hw-transport-node-hid") as NodeHidModule;
  const original = nodeHid.default.create;
  const opened: LedgerTransport[] = [];
  const exchanges: ApduExchange[] = [];
  nodeHid.default.create = async () => {
    const transport = await openSpeculosTransport(speculos);
    const exchange = transport.exchange.bind(transport);
    // Record the status word of every answer (hw-app-eth turns some into errors that no longer carry it).
    transport.exchange = async (apdu: Buffer) => {
      const response = await exchange(apdu);
      const [cla = 0, ins = 0, p1 = 0, p2 = 0] = apdu;
      exchanges.push({
        cla,
        ins,
        p1,
        p2,
        status: response.length >= 2 ? response.readUInt16BE(response.length - 2) : 0,
      });
      return response;
    };
    opened.push(transport);
    return transport;
  };
  return {
    exchanges,
    async restore() {
      nodeHid.default.create = original;
      await Promise.all(opened.map((transport) => transport.close()));
    },
  };
}
