/**
 * Replaces the Ledger's USB transport with the emulated device of test/helpers/emulatedLedger.ts (keys of Hardhat's
 * public test mnemonic) in a Hardhat CLI process, to run the Leash tasks on a local node without a device:
 *
 *   LEASH_EMULATED_LEDGER=1 NODE_OPTIONS="--experimental-strip-types --import ./scripts/emulated-ledger-preload.mjs" \
 *     npx hardhat session grant --network localhost …
 *
 * WARNING: the emulated device signs with publicly known keys. Never use it with real funds; it does nothing unless
 * LEASH_EMULATED_LEDGER=1 is set, and says so on stderr when it is.
 */
if (process.env.LEASH_EMULATED_LEDGER === "1" && /hardhat(\.js)?$/.test(process.argv[1] ?? "")) {
  const { EmulatedLedger } = await import("../test/helpers/emulatedLedger.ts");
  new EmulatedLedger("test test test test test test test test test test test junk").install();
  // Ledger's filter service has no display rules for a local deployment: serve the docs/erc7730 ones, test-signed.
  // Its module imports the client's `.ts` files by their `.js` names, which plain type stripping does not map.
  const { registerHooks } = await import("node:module");
  registerHooks({
    resolve(specifier, context, next) {
      try {
        return next(specifier, context);
      } catch (error) {
        if (!specifier.startsWith(".") || !specifier.endsWith(".js")) throw error;
        return next(`${specifier.slice(0, -3)}.ts`, context);
      }
    },
  });
  const { startCalStandIn } = await import("../test/helpers/calStandIn.ts");
  // Token information, as Ledger's crypto-assets service serves it for the tokens it lists: ETH at the zero address,
  // and the tokens of the chain's address book (deployments/<chainId>.json), their decimals read from the node.
  const { readFile } = await import("node:fs/promises");
  const rpc = async (to, data) => {
    const response = await fetch(process.env.LEASH_RPC_URL ?? "http://127.0.0.1:8545", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [{ to, data }, "latest"] }),
    });
    return (await response.json()).result;
  };
  const tokens = async (chainId) => {
    const served = [{ address: "0x0000000000000000000000000000000000000000", ticker: "ETH", decimals: 18 }];
    const book = JSON.parse(await readFile(`deployments/${chainId}.json`, "utf8").catch(() => "{}"));
    for (const [symbol, address] of Object.entries(book.tokens ?? {})) {
      const decimals = Number.parseInt((await rpc(address, "0x313ce567")) ?? "0x", 16); // decimals()
      if (Number.isSafeInteger(decimals)) served.push({ address, ticker: symbol, decimals });
    }
    return served;
  };
  const cal = await startCalStandIn({ tokens });
  process.once("beforeExit", () => void cal.stop());
  process.stderr.write("[leash] EMULATED LEDGER (public test keys): local testing only, never real funds\n");
}
