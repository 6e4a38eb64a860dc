/**
 * ERC-6900 v0.8 value encodings (ModuleEntity, ValidationConfig, HookConfig) and the account's
 * validation-selection layout for `userOp.signature`, runtime `authorization` and ERC-1271 signatures.
 *
 * Layouts (all left-aligned, big-endian):
 * - ModuleEntity     = module (20) ‖ entityId (4)
 * - ValidationConfig = ModuleEntity ‖ flags (1): bit 2 isGlobal, bit 1 isSignatureValidation, bit 0 isUserOpValidation
 * - HookConfig       = ModuleEntity ‖ flags (1): bit 2 hasPre, bit 1 hasPost, bit 0 isValidationHook
 * - user op signature / runtime authorization =
 *     ModuleEntity ‖ flags (1) ‖ [length (4) ‖ abi.encode(installer, data)] ‖ { index (1) ‖ length (4) ‖ hookData }*
 *     ‖ 0xFF ‖ validationData
 *   flags: bit 0 isGlobal, bit 1 a deferred install follows (user ops only)
 * - ERC-1271 signature = the same without the isGlobal byte.
 */
import { AbiCoder, concat, getAddress, isHexString, toBeHex, zeroPadValue } from "ethers";

/** The entity id that marks a direct-call validation (ERC-6900). */
export const DIRECT_CALL_ENTITY_ID = 0xffffffff;

/** Index byte that starts the validation's own segment in a signature. */
const VALIDATION_SEGMENT = "0xff";
/** Largest hook index a segment can address (0xFF is the validation's own marker). */
const MAX_HOOK_INDEX = 254;

/** A module function: a module address and an entity id. */
export interface ModuleFunction {
  module: string;
  entityId: number;
}

/** The flags of a validation installation. */
export interface ValidationFlagsInput {
  isGlobal: boolean;
  isSignatureValidation: boolean;
  isUserOpValidation: boolean;
}

function assertEntityId(entityId: number): void {
  if (!Number.isInteger(entityId) || entityId < 0 || entityId > 0xffffffff) {
    throw new RangeError(`entityId must be an integer in [0, 2^32 - 1], got ${entityId}`);
  }
}

function uint32Hex(value: number): string {
  return zeroPadValue(toBeHex(value), 4);
}

/** Packs a ModuleEntity (bytes24). */
export function encodeModuleEntity({ module, entityId }: ModuleFunction): string {
  assertEntityId(entityId);
  return concat([getAddress(module), uint32Hex(entityId)]);
}

/** Packs a ValidationConfig (bytes25). */
export function encodeValidationConfig(fn: ModuleFunction, flags: ValidationFlagsInput): string {
  const bits = (flags.isGlobal ? 4 : 0) | (flags.isSignatureValidation ? 2 : 0) | (flags.isUserOpValidation ? 1 : 0);
  return concat([encodeModuleEntity(fn), toBeHex(bits, 1)]);
}

/** Packs a validation HookConfig (bytes25). */
export function encodeValidationHook(fn: ModuleFunction): string {
  return concat([encodeModuleEntity(fn), "0x01"]);
}

/** Packs an execution HookConfig (bytes25). */
export function encodeExecutionHook(fn: ModuleFunction, hooks: { pre: boolean; post: boolean }): string {
  if (!hooks.pre && !hooks.post) throw new Error("an execution hook needs a pre hook, a post hook, or both");
  const bits = (hooks.pre ? 4 : 0) | (hooks.post ? 2 : 0);
  return concat([encodeModuleEntity(fn), toBeHex(bits, 1)]);
}

/** One item of `installValidation`'s `hooks`: the HookConfig followed by the hook module's onInstall data. */
export function encodeHookInstall(hookConfig: string, installData = "0x"): string {
  return concat([hookConfig, installData]);
}

function encodeSegments(hookData: readonly (string | undefined)[], validationData: string): string {
  const parts: string[] = [];
  hookData.forEach((data, index) => {
    if (data === undefined || data === "0x") return;
    if (index > MAX_HOOK_INDEX) throw new RangeError(`hook index ${index} exceeds ${MAX_HOOK_INDEX}`);
    if (!isHexString(data)) throw new TypeError(`hook data #${index} must be a 0x-prefixed hex string`);
    const length = (data.length - 2) / 2;
    parts.push(toBeHex(index, 1), zeroPadValue(toBeHex(length), 4), data);
  });
  parts.push(VALIDATION_SEGMENT, validationData);
  return concat(parts);
}

/** What the account hands a trusted installer's `installDeferred(data)` before validating the op (user ops only). */
export interface DeferredInstall {
  /** The installer: a module holding a direct-call validation for `installValidation` on the account. */
  installer: string;
  /** The installer's data, e.g. `abi.encode(SessionGrant, ownerSignature)` for the session module. */
  data: string;
}

/** What selects a validation and feeds its hooks. */
export interface ValidationSelection {
  validation: ModuleFunction;
  /** Use the validation's global flag (true) or its selector list (false). */
  isGlobal: boolean;
  /** Data per validation hook, by hook index; undefined or "0x" for none. */
  hookData?: readonly (string | undefined)[];
  /** User ops only: install the op's validation first (e.g. an owner-signed session grant). */
  deferredInstall?: DeferredInstall;
}

/** Selection flag bits of the account's signature layout. */
const GLOBAL_FLAG = 1;
const DEFERRED_INSTALL_FLAG = 2;

/** Encodes `userOp.signature` (or a runtime `authorization`) for the account. */
export function encodeValidationSignature(selection: ValidationSelection, validationData: string): string {
  const flags = (selection.isGlobal ? GLOBAL_FLAG : 0) | (selection.deferredInstall ? DEFERRED_INSTALL_FLAG : 0);
  const parts = [encodeModuleEntity(selection.validation), toBeHex(flags, 1)];
  if (selection.deferredInstall !== undefined) {
    const payload = AbiCoder.defaultAbiCoder().encode(
      ["address", "bytes"],
      [selection.deferredInstall.installer, selection.deferredInstall.data],
    );
    parts.push(zeroPadValue(toBeHex((payload.length - 2) / 2), 4), payload);
  }
  parts.push(encodeSegments(selection.hookData ?? [], validationData));
  return concat(parts);
}

/** Encodes an ERC-1271 signature for the account's `isValidSignature`. */
export function encodeErc1271Signature(
  validation: ModuleFunction,
  validationData: string,
  hookData: readonly (string | undefined)[] = [],
): string {
  return concat([encodeModuleEntity(validation), encodeSegments(hookData, validationData)]);
}
