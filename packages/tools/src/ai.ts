/**
 * The session's tools for the Vercel AI SDK (`ai`): the same definitions and runner as the MCP server, as a `ToolSet`
 * for `generateText` / `streamText` / agents. Each tool's input schema is the JSON Schema generated from the policy,
 * and its result is the runner's JSON (a refusal or a malformed-input error included), for the model to act on.
 */
import { jsonSchema, tool, type JSONSchema7, type ToolSet } from "ai";

import type { LeashTools } from "./tools.js";

/** The tools as an AI SDK `ToolSet`, keyed by tool name. */
export function leashAiTools(tools: LeashTools): ToolSet {
  return Object.fromEntries(
    tools.definitions.map((definition) => [
      definition.name,
      tool({
        description: definition.description,
        inputSchema: jsonSchema(definition.inputSchema as JSONSchema7),
        execute: async (input: unknown) => tools.run(definition.name, input),
      }),
    ]),
  );
}
