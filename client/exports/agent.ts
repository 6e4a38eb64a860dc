/**
 * `@leashkit/client/agent`: what an agent needs to act under its session: the session handle, sending ops (through
 * a bundler or `handleOps`), its key, gas caps, and the typed refusals.
 */
export {
  createSessionHandle,
  DEFAULT_SESSION_GAS_LIMITS,
  type CanPayAnswer,
  type CheckAnswer,
  type CreateSessionHandleParameters,
  type PayParameters,
  type SendOptions,
  type SessionHandle,
  type SessionHandleBudget,
  type SessionHandleStatus,
  type SessionRefusal,
  type SessionRefusalKind,
} from "../sessionHandle.js";
export {
  encodeSessionCalls,
  GrantConflictError,
  installedGrantDifferences,
  sendSessionUserOp,
  withExecuteUserOp,
  type AgentSession,
  type DeferredGrant,
  type DeferredGrantOutcome,
  type SendSessionUserOpParameters,
  type SendSessionUserOpReturnType,
  type SendVia,
  type SessionCall,
} from "../agent.js";
export {
  agentKeyFileContents,
  createAgentKey,
  parseAgentKeyFile,
  parseAgentPrivateKey,
  type AgentKeyFile,
  type AgentSessionConfig,
} from "../agentKey.js";
export {
  bundlerTimeHint,
  checkGasCaps,
  createBundlerClient,
  DEFAULT_GAS_CAPS,
  estimateUserOpGas,
  fillGasAndSign,
  findUserOpReceipt,
  maxGasCost,
  sendAndWaitForUserOp,
  sendUserOpToBundler,
  toRpcUserOp,
  waitForUserOpReceipt,
  type BundlerClient,
  type CheckGasCapsParameters,
  type FillGasAndSignParameters,
  type GasCaps,
  type RpcUserOperation,
  type SendAndWaitParameters,
  type UserOpGasEstimate,
  type UserOpReceipt,
} from "../bundler.js";
export {
  buildUserOp,
  packUserOp,
  signUserOp,
  type BuildUserOpParameters,
  type UserOperation,
  type UserOpGas,
} from "../userOp.js";
export { sendUserOpDirect, type SendUserOpDirectReturnType } from "../actions.js";
export {
  decodeUserOpRefusal,
  describeRevert,
  GasCapExceededError,
  isRevert,
  NonceConflictError,
  SessionExpiredError,
  SessionNotYetValidError,
  SessionOutOfScopeError,
  SessionRevokedError,
  SessionSignatureError,
  SpendLimitExceededError,
  UserOpOutcomeUnknownError,
  UserOpRefusedError,
  UserOpTimeoutError,
} from "../errors.js";
export {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isTransientRpcError,
  ResilientJsonRpcProvider,
  RpcUnavailableError,
  withRetries,
  type RetryPolicy,
} from "../transport.js";
export {
  parseSessionFile,
  SESSION_FILE_KIND,
  SESSION_FILE_VERSION,
  sessionFileToJson,
  type SessionFile,
} from "../sessionFile.js";
export { EntryPoint__factory } from "../contracts.js";
export { permissionContextOf, sessionOfPermissionContext } from "../permissions.js";
