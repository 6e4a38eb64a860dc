/**
 * The ERC-6900 v0.8 accounts the compatibility suite runs Leash's modules on: Leash's own account, the ERC-6900
 * reference implementation v0.8.0-rc.6, and Alchemy's Modular Account v2 (develop 14afcd8) as a semi-modular account
 * (owner = its built-in fallback signer) and as a plain account whose owner is its SingleSignerValidationModule.
 * Each behind EntryPoint v0.8 (@account-abstraction/contracts) or v0.7 (the release bytecode from npm).
 *
 * The third-party accounts are deployed from the compiled artifacts of ../shared/fixtures/erc6900-accounts/ (test
 * data only, never copied into the project; LEASH_COMPAT_FIXTURES points elsewhere). Each account kind says how its
 * owner signs a user op and an ERC-1271 message, which is all that differs between them for the owner.
 *
 * The suite runs only under `npm run test:compat`, which sets LEASH_COMPAT_TESTS=1. `npm test` loads these files too
 * (Hardhat's mocha runner takes every file under test/) but then registers no test and deploys nothing.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import {
  AbiCoder,
  concat,
  Contract,
  ContractFactory,
  getBytes,
  hashMessage,
  Interface,
  keccak256,
  parseUnits,
  toBeHex,
  TypedDataEncoder,
  zeroPadValue,
  type InterfaceAbi,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

import { encodeErc1271Signature, encodeValidationConfig, type ModuleFunction } from "../../client/encoding.js";
import { encodeOwnerNestedSignature, nestOwnerTypedData } from "../../client/session.js";
import {
  EntryPoint__factory,
  ModularAccount__factory,
  SessionKeyValidationModule__factory,
  SpendLimitHook__factory,
} from "../../typechain-types/index.js";
import { OWNER_ENTITY_ID, type EntryPointVersion } from "../helpers/fixture.js";
import { sessionFixture, type SessionFixture } from "../helpers/sessions.js";

/** Whether the compatibility suite runs (`npm run test:compat`). */
export const COMPAT_RUN = process.env.LEASH_COMPAT_TESTS === "1";

/** Where the compiled third-party accounts are. */
const FIXTURES =
  process.env.LEASH_COMPAT_FIXTURES ?? path.resolve(import.meta.dirname, "../../../shared/fixtures/erc6900-accounts");

export type AccountKind = "leash" | "reference" | "mav2-semi" | "mav2-single";

export const ACCOUNT_TITLES: Record<AccountKind, string> = {
  leash: "Leash's own account",
  reference: "the ERC-6900 reference account v0.8.0-rc.6",
  "mav2-semi": "Alchemy MAv2 semi-modular (built-in fallback owner)",
  "mav2-single": "Alchemy MAv2 with a SingleSignerValidationModule owner",
};

export interface Artifact {
  abi: InterfaceAbi;
  bytecode: string;
}

/** A compiled fixture of `folder` (test data only). */
export function artifact(folder: string, name: string): Artifact {
  const file = path.join(FIXTURES, folder, `${name}.json`);
  const json = JSON.parse(readFileSync(file, "utf8")) as Artifact;
  return { abi: json.abi, bytecode: json.bytecode };
}

export const REFERENCE = "reference-v0.8.0-rc.6";
export const MAV2 = "alchemy-mav2-14afcd8";

/** Typed data the owner signs for an app (the session module's grants and revocations). */
export interface AppTypedData {
  domain: TypedDataDomain;
  types: Record<string, TypedDataField[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

/** What differs between the accounts for their owner. */
export interface OwnerScheme {
  /** The owner's validation (global, user op, signature). */
  validation: ModuleFunction;
  /** The validation's own segment of a user op signature, for the EntryPoint's user op hash. */
  signUserOpHash(hash: string): string;
  /** The account's ERC-1271 signature (ModuleEntity ‖ segments) of `typed` by the owner. */
  signTypedData(typed: AppTypedData): Promise<string>;
  /** The module the owner's validation lives in, and its calldata handing the account to `to` (the guard attack). */
  takeover?: { module: Contract; calldata(to: string): string; ownerOf(): Promise<string> };
}

export interface CompatFixture extends SessionFixture {
  kind: AccountKind;
  scheme: OwnerScheme;
}

const PERSONAL_SIGN_TYPEHASH = keccak256(Buffer.from("PersonalSign(bytes prefixed)"));
/** Alchemy MAv2's ERC7739ReplaySafeWrapperLib domain typehashes, as that library hashes them. */
const MAV2_ACCOUNT_DOMAIN_TYPEHASH = "0x47e79534a245952e8b16893a336b85a3d9ea9fa8c573f3d803afb92a79469218";
const MAV2_MODULE_DOMAIN_TYPEHASH = "0x71062c282d40422f744945d587dbf4ecfd4f9cfad1d35d62c944373009d96162";
const EMPTY_HASH = keccak256("0x");

function word(value: bigint | string): string {
  return zeroPadValue(toBeHex(value), 32);
}

/**
 * The digest MAv2's ERC-7739 wrapper has its signer sign for `hash` in the `PersonalSign` workflow: EIP-712 over
 * `PersonalSign(hash)` in the account's domain (fallback signer) or the module's (SingleSigner), built word by word
 * exactly as ERC7739ReplaySafeWrapperLib does: both domain separators hash five words (typehash, empty name, empty
 * version, chain id, verifying contract; the module variant stores the account after them but does not hash it).
 */
function mav2PersonalSignDigest(hash: string, chainId: bigint, domainTypehash: string, verifyingContract: string) {
  const domain = keccak256(concat([domainTypehash, EMPTY_HASH, EMPTY_HASH, word(chainId), word(verifyingContract)]));
  return keccak256(concat(["0x1901", domain, keccak256(concat([PERSONAL_SIGN_TYPEHASH, hash]))]));
}

/** MAv2's signature type byte for an EOA signer. */
const MAV2_EOA = "0x00";

/** Deploys a compiled fixture from the first signer. */
export async function deploy(ethers: HardhatEthers, a: Artifact, args: unknown[] = []): Promise<Contract> {
  const [deployer] = await ethers.getSigners();
  const contract = await new ContractFactory(a.abi, a.bytecode, deployer).deploy(...args);
  await contract.waitForDeployment();
  return contract as Contract;
}

/** An account of a third-party kind, with the owner's validation and the module it lives in (none: built in). */
export interface ForeignAccount {
  address: string;
  validation: ModuleFunction;
  ownerModule?: Contract;
}

/**
 * Deploys the contracts of a third-party account kind behind `entryPoint` (the reference: its SingleSigner module
 * and implementation; MAv2: its implementations, SingleSigner module and factory) and returns a function that
 * creates an account of that kind for an owner.
 */
export async function foreignAccounts(
  ethers: HardhatEthers,
  kind: Exclude<AccountKind, "leash">,
  entryPoint: string,
): Promise<(owner: string, salt?: bigint) => Promise<ForeignAccount>> {
  if (kind === "reference") {
    const signer = await deploy(ethers, artifact(REFERENCE, "SingleSignerValidationModule"));
    const implementation = await deploy(ethers, artifact(REFERENCE, "ReferenceModularAccount"), [entryPoint]);
    const validation = { module: signer.target as string, entityId: 0 };
    return async (owner) => {
      const init = implementation.interface.encodeFunctionData("initializeWithValidation", [
        encodeValidationConfig(validation, { isGlobal: true, isSignatureValidation: true, isUserOpValidation: true }),
        [],
        AbiCoder.defaultAbiCoder().encode(["uint32", "address"], [0, owner]),
        [],
      ]);
      const proxy = await deploy(ethers, artifact(REFERENCE, "ERC1967Proxy"), [implementation.target, init]);
      return { address: proxy.target as string, validation, ownerModule: signer };
    };
  }
  const signer = await deploy(ethers, artifact(MAV2, "SingleSignerValidationModule"));
  const implementation = await deploy(ethers, artifact(MAV2, "ModularAccount"), [entryPoint]);
  const semiModular = await deploy(ethers, artifact(MAV2, "SemiModularAccountBytecode"), [entryPoint]);
  const [deployer] = await ethers.getSigners();
  const factory = await deploy(ethers, artifact(MAV2, "AccountFactory"), [
    entryPoint,
    implementation.target,
    semiModular.target,
    signer.target,
    await deployer!.getAddress(),
  ]);
  return async (owner, salt = 0n) => {
    if (kind === "mav2-semi") {
      await (await factory.getFunction("createSemiModularAccount")(owner, salt)).wait();
      const address = (await factory.getFunction("getAddressSemiModular")(owner, salt)) as string;
      // The fallback validation: ModuleEntity(address(0), 0).
      return { address, validation: { module: "0x0000000000000000000000000000000000000000", entityId: 0 } };
    }
    await (await factory.getFunction("createAccount")(owner, salt, 0)).wait();
    const address = (await factory.getFunction("getAddress(address,uint256,uint32)")(owner, salt, 0)) as string;
    return { address, validation: { module: signer.target as string, entityId: 0 }, ownerModule: signer };
  };
}

/** Deploys Leash and an account of `kind` owned by the fixture's owner, holding 10 ETH and 1,000 USDC. */
export async function compatFixture(
  kind: AccountKind,
  ethers: HardhatEthers,
  networkHelpers: NetworkHelpers,
  entryPointVersion: EntryPointVersion = "0.8",
): Promise<CompatFixture> {
  const f = await sessionFixture(ethers, networkHelpers, entryPointVersion);
  const { owner } = f;
  const entryPoint = f.entryPoint.target as string;
  const { chainId } = f.addresses;
  let address: string;
  let scheme: OwnerScheme;
  if (kind === "leash") {
    address = f.accountAddress;
    const validation = { module: f.ownerModule.target as string, entityId: OWNER_ENTITY_ID };
    scheme = {
      validation,
      signUserOpHash: (hash) => owner.signingKey.sign(hash).serialized,
      async signTypedData(typed) {
        const app = { domain: typed.domain, types: typed.types, primaryType: typed.primaryType };
        const nested = nestOwnerTypedData(app, typed.message, address, chainId);
        const ecdsa = await owner.signTypedData(nested.domain, nested.types, nested.message);
        return encodeOwnerNestedSignature(validation, ecdsa, app, typed.message);
      },
      takeover: {
        module: f.ownerModule as unknown as Contract,
        calldata: (to) => f.ownerModule.interface.encodeFunctionData("transferOwnership", [OWNER_ENTITY_ID, to]),
        ownerOf: () => f.ownerModule.owner(OWNER_ENTITY_ID, address),
      },
    };
  } else {
    const created = await (await foreignAccounts(ethers, kind, entryPoint))(owner.address);
    address = created.address;
    const { validation, ownerModule } = created;
    const eoaSignature = (digest: string) => owner.signingKey.sign(digest).serialized;
    const userOpSignature = (hash: string) => eoaSignature(hashMessage(getBytes(hash)));
    if (kind === "reference") {
      scheme = {
        validation,
        signUserOpHash: userOpSignature,
        async signTypedData(typed) {
          const digest = TypedDataEncoder.hash(typed.domain, typed.types, typed.message);
          const replaySafe = (await ownerModule!.getFunction("replaySafeHash")(address, digest)) as string;
          return encodeErc1271Signature(validation, eoaSignature(replaySafe));
        },
        takeover: singleSignerTakeover(ownerModule!, () => address),
      };
    } else {
      // MAv2: ERC-7739's PersonalSign over the account's domain (built-in signer) or the module's (SingleSigner).
      const [domainTypehash, verifyingContract] =
        kind === "mav2-semi"
          ? [MAV2_ACCOUNT_DOMAIN_TYPEHASH, address]
          : [MAV2_MODULE_DOMAIN_TYPEHASH, ownerModule!.target as string];
      scheme = {
        validation,
        signUserOpHash: (hash) => concat([MAV2_EOA, userOpSignature(hash)]),
        async signTypedData(typed) {
          const digest = TypedDataEncoder.hash(typed.domain, typed.types, typed.message);
          const inner = mav2PersonalSignDigest(digest, chainId, domainTypehash, verifyingContract);
          return encodeErc1271Signature(validation, concat([MAV2_EOA, eoaSignature(inner)]));
        },
        ...(ownerModule === undefined ? {} : { takeover: singleSignerTakeover(ownerModule, () => address) }),
      };
    }
  }
  if (kind !== "leash") {
    const [funder] = await ethers.getSigners();
    await (await funder!.sendTransaction({ to: address, value: 10n * 10n ** 18n })).wait();
    await (await f.usdc.mint(address, parseUnits("1000", 6))).wait();
  }
  const account = ModularAccount__factory.connect(address, f.owner);
  const now = BigInt(await networkHelpers.time.latest());
  return { ...f, kind, scheme, account, accountAddress: address, now };
}

/** The reference's / MAv2's SingleSignerValidationModule: `transferSigner(0, to)` hands the account to `to`. */
function singleSignerTakeover(signer: Contract, account: () => string): OwnerScheme["takeover"] {
  return {
    module: signer,
    calldata: (to) => signer.interface.encodeFunctionData("transferSigner", [0, to]),
    ownerOf: async () => (await signer.getFunction("signers")(0, account())) as string,
  };
}

/**
 * Every custom error any of the accounts or modules may revert with, to name a refusal: Leash's, the EntryPoint's,
 * the fixtures' ABIs, and the errors MAv2 declares in its libraries (absent from its account's ABI).
 */
const MAV2_LIBRARY_ERRORS = [
  "error ModuleInstallCallbackFailed(address module, bytes revertReason)",
  "error PostExecHookReverted(bytes24 moduleFunction, bytes revertReason)",
  "error PreExecHookReverted(bytes24 moduleFunction, bytes revertReason)",
  "error PreRuntimeValidationHookReverted(bytes24 moduleFunction, bytes revertReason)",
  "error PreSignatureValidationHookReverted(bytes24 moduleFunction, bytes revertReason)",
  "error PreUserOpValidationHookReverted(bytes24 moduleFunction, bytes revertReason)",
  "error RuntimeValidationFunctionReverted(bytes24 moduleFunction, bytes revertReason)",
  "error SignatureValidationFunctionReverted(bytes24 moduleFunction, bytes revertReason)",
  "error UserOpValidationFunctionReverted(bytes24 moduleFunction, bytes revertReason)",
  "error Erc4337FunctionNotAllowed()",
  "error ExecutionFunctionAlreadySet()",
  "error ExecutionHookAlreadySet(bytes25 hookConfig)",
  "error IModuleFunctionNotAllowed()",
  "error InterfaceNotSupported(address module)",
  "error NullModule()",
  "error Error(string)",
];

function errorFragments(): string[] {
  const abis: InterfaceAbi[] = [
    EntryPoint__factory.abi,
    ModularAccount__factory.abi,
    SessionKeyValidationModule__factory.abi,
    SpendLimitHook__factory.abi,
    MAV2_LIBRARY_ERRORS,
  ];
  // Every fixture's errors (accounts and permission modules), where the fixtures are there to read.
  for (const folder of [REFERENCE, MAV2]) {
    if (!existsSync(path.join(FIXTURES, folder))) continue;
    for (const file of readdirSync(path.join(FIXTURES, folder))) {
      if (file.endsWith(".json")) abis.push(artifact(folder, file.slice(0, -5)).abi);
    }
  }
  const seen = new Map<string, string>();
  for (const abi of abis) {
    for (const fragment of new Interface(abi).fragments) {
      if (fragment.type !== "error") continue;
      const sighash = fragment.format("sighash");
      if (!seen.has(sighash)) seen.set(sighash, fragment.format("full"));
    }
  }
  return [...seen.values()];
}

let errors: Interface | undefined;

/**
 * Names a revert: `Outer(args) > Inner(args)`, following every `bytes` argument that is itself revert data (the
 * EntryPoint's FailedOpWithRevert, the accounts' wrappers of a module's revert).
 */
export function describeRevert(data: string): string {
  errors ??= new Interface(errorFragments());
  let parsed;
  try {
    parsed = errors.parseError(data);
  } catch {
    parsed = null;
  }
  if (parsed === null) return data === "0x" ? "empty revert" : `unknown ${data.slice(0, 10)}`;
  const args: string[] = [];
  let inner = "";
  parsed.fragment.inputs.forEach((input, i) => {
    const value = parsed.args[i] as unknown;
    if (input.type === "bytes" && typeof value === "string" && value.length >= 10) inner = describeRevert(value);
    else args.push(String(value));
  });
  const self = `${parsed.name}(${args.join(", ")})`;
  return inner === "" ? self : `${self} > ${inner}`;
}
