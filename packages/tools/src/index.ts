/**
 * `@leashkit/agent-tools`: an AI agent's tools for one Leash session, generated from the session's on-chain policy.
 * Framework-free definitions and runner here; the MCP server in `@leashkit/agent-tools/mcp` and the `leash-mcp` bin.
 */
export {
  createLeashTools,
  toolDefinitions,
  ToolInputError,
  type JsonSchema,
  type JsonSchemaObject,
  type JsonValue,
  type LeashTools,
  type ToolDefinition,
  type ToolLogger,
  type ToolName,
  type ToolResult,
} from "./tools.js";
export { sessionHistory, type HistoryEntry } from "./history.js";
export {
  describeRule,
  grantDifferences,
  policyOf,
  readAgentPolicy,
  type AgentPolicy,
  type PolicyAsset,
  type PolicyFunction,
} from "./policy.js";
