/**
 * The session's tools as an MCP server (the TypeScript SDK's low-level `Server`, so the JSON Schemas the model sees
 * are exactly those generated from the policy): `tools/list` gives {@link toolDefinitions}, `tools/call` runs one
 * through {@link createLeashTools}, whose result (a refusal and a malformed input included) is the call's JSON text.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

import type { LeashTools } from "./tools.js";

/** The server's name and version as MCP clients see them. */
export const LEASH_MCP_SERVER_INFO = { name: "leash-session", version: "0.1.0" } as const;

/** An MCP server offering `tools` (not yet connected to a transport). */
export function createLeashMcpServer(tools: LeashTools): Server {
  const server = new Server(LEASH_MCP_SERVER_INFO, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: tools.definitions.map((definition) => ({
      name: definition.name,
      description: definition.description,
      inputSchema: definition.inputSchema,
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const result = await tools.run(request.params.name, request.params.arguments ?? {});
    const failed = "error" in result || "refused" in result;
    return {
      content: [{ type: "text" as const, text: JSON.stringify(result) }],
      structuredContent: result,
      isError: failed,
    };
  });
  return server;
}

/** Serves `tools` over stdio until the client closes the stream. */
export async function serveStdio(tools: LeashTools): Promise<Server> {
  const server = createLeashMcpServer(tools);
  await server.connect(new StdioServerTransport());
  return server;
}
