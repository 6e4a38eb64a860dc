/**
 * client/abis.ts is what scripts/client/abis.ts writes from the compiled contracts: the client's bindings
 * (client/contracts.ts) encode, decode and parse errors exactly as the contracts' own ABIs do, with no bytecode.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { Interface, type InterfaceAbi } from "ethers";

import * as abis from "../../client/abis.js";
import * as contracts from "../../client/contracts.js";
import { CLIENT_CONTRACTS, humanReadable } from "../../scripts/client/abis.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

function compiledAbi(artifact: string): InterfaceAbi {
  return (JSON.parse(readFileSync(path.join(ROOT, "artifacts", artifact), "utf8")) as { abi: InterfaceAbi }).abi;
}

/** Every fragment of an interface, fully formatted, sorted: what two ABIs must share to behave the same. */
function fragments(iface: Interface): string[] {
  return iface.fragments.map((fragment) => fragment.format("full")).sort();
}

describe("the client's ABIs (client/abis.ts)", function () {
  for (const { constant, artifact } of CLIENT_CONTRACTS) {
    it(`${constant} is the compiled ${path.basename(artifact, ".json")}'s ABI, fragment for fragment (else run node scripts/client/abis.ts --write)`, function () {
      const written = (abis as Record<string, readonly string[]>)[constant];
      expect(written, `${constant} is missing from client/abis.ts`).to.not.equal(undefined);
      expect([...written!]).to.deep.equal(humanReadable(compiledAbi(artifact)));
      expect(fragments(new Interface(written as InterfaceAbi))).to.deep.equal(
        fragments(new Interface(compiledAbi(artifact))),
      );
    });
  }

  it("has no constant that no binding uses, and every binding's ABI is one of them", function () {
    const bindings: { abi: readonly string[] }[] = Object.values(contracts);
    const constants = Object.values(abis);
    expect(bindings.length).to.equal(constants.length);
    for (const binding of bindings) expect(constants).to.include(binding.abi);
  });

  it("carries no bytecode: the bindings cannot deploy", function () {
    for (const binding of Object.values(contracts)) {
      expect(Object.keys(binding as object)).to.have.members(["abi", "connect", "createInterface"]);
    }
  });
});
