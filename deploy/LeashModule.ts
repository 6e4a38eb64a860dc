/**
 * Hardhat Ignition module for Leash: the owner and session modules, the spend-limit hook, the account implementation
 * and the factory. Deployed with the `create2` strategy (through CreateX, which Ignition installs on a local Hardhat
 * node), the addresses depend only on the salt, the bytecode and the parameters, so they are the same on every chain.
 *
 * Parameters (module "Leash"):
 * - `entryPoint`: the EntryPoint v0.8 (canonical: 0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108);
 * - `factoryOwner`: who may stake the factory in the EntryPoint.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

export default buildModule("Leash", (m) => {
  const entryPoint = m.getParameter<string>("entryPoint");
  const factoryOwner = m.getParameter<string>("factoryOwner");

  const ownerModule = m.contract("OwnerValidationModule");
  const spendLimitHook = m.contract("SpendLimitHook");
  const sessionModule = m.contract("SessionKeyValidationModule", [spendLimitHook, entryPoint]);
  const accountImplementation = m.contract("ModularAccount", [entryPoint]);
  const factory = m.contract("AccountFactory", [accountImplementation, ownerModule, sessionModule, factoryOwner]);

  return { ownerModule, spendLimitHook, sessionModule, accountImplementation, factory };
});
