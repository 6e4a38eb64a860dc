/**
 * The contracts the client talks to, as bindings built from their ABIs (client/abis.ts, checked against the compiled
 * contracts by test/client/abis.ts) and typed with the contracts' TypeChain types. They have the two functions of
 * TypeChain's factories the client needs, `connect(address, runner)` and `createInterface()`, without the creation
 * bytecode those factories carry: deploying is the repository's business (deploy/), not an integrator's.
 */
import { Contract, Interface, type ContractRunner, type InterfaceAbi } from "ethers";

import type {
  EntryPoint,
  EntryPointInterface,
} from "../typechain-types/@account-abstraction/contracts/core/EntryPoint.js";
import type { AccountFactory, AccountFactoryInterface } from "../typechain-types/contracts/account/AccountFactory.js";
import type { ModularAccount, ModularAccountInterface } from "../typechain-types/contracts/account/ModularAccount.js";
import type {
  OwnerValidationModule,
  OwnerValidationModuleInterface,
} from "../typechain-types/contracts/modules/OwnerValidationModule.js";
import type {
  SessionGrantReader,
  SessionGrantReaderInterface,
} from "../typechain-types/contracts/modules/SessionGrantReader.js";
import type {
  SessionKeyValidationModule,
  SessionKeyValidationModuleInterface,
} from "../typechain-types/contracts/modules/SessionKeyValidationModule.js";
import type { SpendLimitHook, SpendLimitHookInterface } from "../typechain-types/contracts/modules/SpendLimitHook.js";
import {
  ACCOUNT_FACTORY_ABI,
  ENTRY_POINT_ABI,
  MODULAR_ACCOUNT_ABI,
  OWNER_VALIDATION_MODULE_ABI,
  SESSION_GRANT_READER_ABI,
  SESSION_KEY_VALIDATION_MODULE_ABI,
  SPEND_LIMIT_HOOK_ABI,
} from "./abis.js";

export type {
  AccountFactory,
  EntryPoint,
  ModularAccount,
  OwnerValidationModule,
  SessionGrantReader,
  SessionKeyValidationModule,
  SpendLimitHook,
};

/** A contract's binding: its ABI, a typed contract at an address, and its typed interface. */
export interface ContractBinding<C, I extends Interface> {
  readonly abi: readonly string[];
  /** The contract at `address`, reading and sending through `runner` (a provider or a signer). */
  connect(address: string, runner?: ContractRunner | null): C;
  /** The contract's interface, to encode calls and decode results, events and errors. */
  createInterface(): I;
}

function binding<C, I extends Interface>(abi: readonly string[]): ContractBinding<C, I> {
  return {
    abi,
    connect: (address, runner) => new Contract(address, abi as InterfaceAbi, runner) as unknown as C,
    createInterface: () => new Interface(abi as InterfaceAbi) as unknown as I,
  };
}

/** The ERC-4337 EntryPoint (v0.8's ABI; v0.7 has the same functions the client calls). */
export const EntryPoint__factory = binding<EntryPoint, EntryPointInterface>(ENTRY_POINT_ABI);
/** Leash's modular account (ERC-6900 v0.8; `execute`, `executeBatch`, `executeUserOp` are the standard's). */
export const ModularAccount__factory = binding<ModularAccount, ModularAccountInterface>(MODULAR_ACCOUNT_ABI);
/** Leash's account factory. */
export const AccountFactory__factory = binding<AccountFactory, AccountFactoryInterface>(ACCOUNT_FACTORY_ABI);
/** Leash's owner validation module. */
export const OwnerValidationModule__factory = binding<OwnerValidationModule, OwnerValidationModuleInterface>(
  OWNER_VALIDATION_MODULE_ABI,
);
/** The session-key validation module. */
export const SessionKeyValidationModule__factory = binding<
  SessionKeyValidationModule,
  SessionKeyValidationModuleInterface
>(SESSION_KEY_VALIDATION_MODULE_ABI);
/** The spend-limit hook. */
export const SpendLimitHook__factory = binding<SpendLimitHook, SpendLimitHookInterface>(SPEND_LIMIT_HOOK_ABI);
/** The session module's grant reader (what a signed grant reads as). */
export const SessionGrantReader__factory = binding<SessionGrantReader, SessionGrantReaderInterface>(
  SESSION_GRANT_READER_ABI,
);
