/**
 * `@leashkit/client/read`: what a dashboard or a watchtower reads: sessions of an account, one session's state and
 * budgets, the one rule for a session's state.
 */
export {
  listSessions,
  readSessionStatus,
  sessionStateOf,
  type ReadSessionsParameters,
  type SessionBudgetStatus,
  type SessionListEntry,
  type SessionState,
  type SessionStatusReport,
} from "../read.js";
export {
  getSessionStatus,
  type BudgetStatus,
  type GetSessionStatusParameters,
  type SessionStatus,
} from "../actions.js";
export { parseSessionFile, type SessionFile } from "../sessionFile.js";
export { SessionKeyValidationModule__factory, SpendLimitHook__factory } from "../contracts.js";
