/**
 * `@leashkit/client/encoding`: the byte layouts, for tools that build ops and installs themselves: ERC-6900 module
 * entities, validation selections and signatures, session configs, spend-limit installs, nonce keys, time hints, the
 * session's call encoding, packed user ops, and the contracts' ABI-only bindings.
 */
export {
  DIRECT_CALL_ENTITY_ID,
  encodeErc1271Signature,
  encodeExecutionHook,
  encodeHookInstall,
  encodeModuleEntity,
  encodeValidationConfig,
  encodeValidationHook,
  encodeValidationSignature,
  type DeferredInstall,
  type ModuleFunction,
  type ValidationFlagsInput,
  type ValidationSelection,
} from "../encoding.js";
export {
  encodeArgumentRules,
  encodeDeferredGrant,
  encodeSessionConfig,
  encodeSessionTypedDataSignature,
  encodeSpendLimitInstall,
  encodeTimeHint,
  isPseudoAsset,
  MAX_RULE_VALUE,
  NATIVE_ASSET,
  OPERATIONS_ASSET,
  SELECTOR_ANY,
  SELECTOR_NO_CALLDATA,
  SELECTOR_SIGN,
  SESSION_MESSAGE_TYPES,
  SESSION_SELECTORS,
  sessionInstallArgs,
  sessionNonceKey,
  sessionNonceLane,
  SESSION_NONCE_LANES,
  sessionUninstallArgs,
  SPONSORED_FEE_ASSET,
  SPONSORED_GAS_ASSET,
  type ArgumentRule,
  type BudgetEntry,
  type LeashAddresses,
  type ScopeEntry,
  type SessionDescription,
} from "../session.js";
export { encodeSessionCalls, withExecuteUserOp } from "../agent.js";
export { packUserOp, type UserOperation } from "../userOp.js";
export {
  AccountFactory__factory,
  EntryPoint__factory,
  ModularAccount__factory,
  OwnerValidationModule__factory,
  SessionGrantReader__factory,
  SessionKeyValidationModule__factory,
  SpendLimitHook__factory,
  type AccountFactory,
  type ContractBinding,
  type EntryPoint,
  type ModularAccount,
  type OwnerValidationModule,
  type SessionGrantReader,
  type SessionKeyValidationModule,
  type SpendLimitHook,
} from "../contracts.js";
