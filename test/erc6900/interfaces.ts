/**
 * ERC-6900 v0.8 conformance of the interfaces: every selector and ERC-165 interface id computed by the compiler
 * from contracts/interfaces/erc6900 equals the value derived here from the function signatures as the standard's
 * text writes them (user-defined types resolved to their underlying ABI types).
 */
import { expect } from "chai";
import { id, Interface, toBeHex, type InterfaceAbi } from "ethers";
import { network } from "hardhat";

import {
  IExecutionHookModule__factory,
  IExecutionModule__factory,
  IModularAccountView__factory,
  IModularAccount__factory,
  IModule__factory,
  IValidationHookModule__factory,
  IValidationModule__factory,
} from "../../typechain-types/index.js";

const { ethers } = await network.create();

// ABI forms of the standard's types.
const USER_OP = "(address,uint256,bytes,bytes,bytes32,uint256,bytes32,bytes,bytes)"; // PackedUserOperation
const CALL = "(address,uint256,bytes)"; // Call
const MANIFEST = "((bytes4,bool,bool)[],(bytes4,uint32,bool,bool)[],bytes4[])"; // ExecutionManifest
const MODULE_ENTITY = "bytes24";
const VALIDATION_CONFIG = "bytes25";

/** The standard's functions per interface (own functions only, as ERC-165 counts them). */
const STANDARD: Record<string, { abi: InterfaceAbi; functions: string[] }> = {
  IModule: {
    abi: IModule__factory.abi,
    functions: ["onInstall(bytes)", "onUninstall(bytes)", "moduleId()"],
  },
  IValidationModule: {
    abi: IValidationModule__factory.abi,
    functions: [
      `validateUserOp(uint32,${USER_OP},bytes32)`,
      "validateRuntime(address,uint32,address,uint256,bytes,bytes)",
      "validateSignature(address,uint32,address,bytes32,bytes)",
    ],
  },
  IValidationHookModule: {
    abi: IValidationHookModule__factory.abi,
    functions: [
      `preUserOpValidationHook(uint32,${USER_OP},bytes32)`,
      "preRuntimeValidationHook(uint32,address,uint256,bytes,bytes)",
      "preSignatureValidationHook(uint32,address,bytes32,bytes)",
    ],
  },
  IExecutionModule: {
    abi: IExecutionModule__factory.abi,
    functions: ["executionManifest()"],
  },
  IExecutionHookModule: {
    abi: IExecutionHookModule__factory.abi,
    functions: ["preExecutionHook(uint32,address,uint256,bytes)", "postExecutionHook(uint32,bytes)"],
  },
  IModularAccount: {
    abi: IModularAccount__factory.abi,
    functions: [
      "execute(address,uint256,bytes)",
      `executeBatch(${CALL}[])`,
      "executeWithRuntimeValidation(bytes,bytes)",
      `installExecution(address,${MANIFEST},bytes)`,
      `uninstallExecution(address,${MANIFEST},bytes)`,
      `installValidation(${VALIDATION_CONFIG},bytes4[],bytes,bytes[])`,
      `uninstallValidation(${MODULE_ENTITY},bytes,bytes[])`,
      "accountId()",
    ],
  },
  IModularAccountView: {
    abi: IModularAccountView__factory.abi,
    functions: ["getExecutionData(bytes4)", `getValidationData(${MODULE_ENTITY})`],
  },
};

/** The standard's events of IModularAccount. */
const STANDARD_EVENTS = [
  `ExecutionInstalled(address,${MANIFEST})`,
  `ExecutionUninstalled(address,bool,${MANIFEST})`,
  "ValidationInstalled(address,uint32)",
  "ValidationUninstalled(address,uint32,bool)",
];

function selector(signature: string): string {
  return id(signature).slice(0, 10);
}

function interfaceId(signatures: string[]): string {
  const xor = signatures.reduce((acc, signature) => acc ^ BigInt(selector(signature)), 0n);
  return toBeHex(xor, 4);
}

describe("ERC-6900 v0.8 interfaces", function () {
  for (const [name, { abi, functions }] of Object.entries(STANDARD)) {
    describe(name, function () {
      const compiled = new Interface(abi);
      const own = compiled.fragments.filter((f) => f.type === "function").map((f) => f.format("sighash"));

      it("declares exactly the standard's functions, with the standard's selectors", function () {
        const inheritedFromErc165 = name === "IModule" ? ["supportsInterface(bytes4)"] : [];
        const expected = [...functions, ...inheritedFromErc165].map(selector).sort();
        const inherited = name === "IModule" ? [] : STANDARD.IModule!.functions.concat("supportsInterface(bytes4)");
        const actual = own
          .filter((sig) => !inherited.includes(sig))
          .map(selector)
          .sort();
        expect(actual).to.deep.equal(expected);
      });
    });
  }

  it("has the ERC-165 interface ids the standard's signatures give", async function () {
    const reader = await ethers.deployContract("InterfaceIds");
    const ids = await reader.ids();
    const names = [
      "IModule",
      "IValidationModule",
      "IValidationHookModule",
      "IExecutionModule",
      "IExecutionHookModule",
      "IModularAccount",
      "IModularAccountView",
    ];
    const expected = names.map((name) => interfaceId(STANDARD[name]!.functions));
    expect([...ids]).to.deep.equal(expected);
  });

  it("gives the client IStakeManager's interface id as the EntryPoint v0.8 reports it (STAKE_MANAGER_INTERFACE)", async function () {
    const { STAKE_MANAGER_INTERFACE } = await import("../../client/grant.js");
    const entryPoint = await ethers.deployContract("EntryPoint");
    expect(await entryPoint.supportsInterface(STAKE_MANAGER_INTERFACE.interfaceId)).to.equal(true);
    expect(await entryPoint.supportsInterface("0xcf28ef96")).to.equal(false);
  });

  it("gives the client the module interface ids the chain asks (ERC6900_MODULE_INTERFACES)", async function () {
    const { ERC6900_MODULE_INTERFACES } = await import("../../client/grant.js");
    const ids = await (await ethers.deployContract("InterfaceIds")).ids();
    expect(ERC6900_MODULE_INTERFACES.map((entry) => entry.interfaceId)).to.deep.equal([...ids].slice(0, 5));
    expect(ERC6900_MODULE_INTERFACES.map((entry) => entry.name)).to.deep.equal([
      "IModule",
      "IValidationModule",
      "IValidationHookModule",
      "IExecutionModule",
      "IExecutionHookModule",
    ]);
  });

  it("emits IModularAccount's events with the standard's topics", function () {
    const compiled = new Interface(IModularAccount__factory.abi);
    const actual = compiled.fragments
      .filter((f) => f.type === "event")
      .map((f) => f.format("sighash"))
      .sort();
    expect(actual).to.deep.equal([...STANDARD_EVENTS].sort());
  });
});
