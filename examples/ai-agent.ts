/**
 * An AI agent on the Vercel AI SDK acting under a Leash session. Its tools are `@leashkit/agent-tools`'
 * `leashAiTools(...)`: generated from the session's policy on chain (the model sees only the assets, recipients and
 * functions the owner granted), and every call is checked against that policy before anything is signed, so a
 * refusal comes back to the model as a result it can act on (`{ refused: "over_budget", resetsAt, retryable }`).
 *
 * The model here is a scripted stand-in (the AI SDK's own `MockLanguageModelV4`), so the example runs without an LLM
 * or a network: it plays a fixed list of tool calls and then says what the last result was. Give `runAiAgent` any AI
 * SDK model instead (`openai("…")`, `anthropic("…")`) to let a real one decide. test/examples/aiAgent.ts runs it
 * against a local chain with a granted session.
 */
import { generateText, stepCountIs, type LanguageModel } from "ai";
import { MockLanguageModelV4 } from "ai/test";

import { leashAiTools } from "../packages/tools/src/ai.js";
import type { LeashTools, ToolName } from "../packages/tools/src/tools.js";

/** One step of the scripted model: a tool call (name and input). */
export interface ScriptedCall {
  tool: ToolName;
  input: Record<string, unknown>;
}

/** One tool call the agent made, with the tool's result. */
export interface AgentStep {
  tool: string;
  input: unknown;
  output: unknown;
}

/**
 * A stand-in model that makes `script`'s tool calls, one per step, then answers with a sentence naming the last
 * tool's result. It reads nothing it is not given: no key, no network.
 */
export function scriptedModel(script: ScriptedCall[]): MockLanguageModelV4 {
  let step = 0;
  const usage = {
    inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: 0, text: 0, reasoning: 0 },
  };
  return new MockLanguageModelV4({
    doGenerate: async (options) => {
      const call = script[step];
      step += 1;
      if (call !== undefined) {
        return {
          content: [
            { type: "tool-call", toolCallId: `call-${step}`, toolName: call.tool, input: JSON.stringify(call.input) },
          ],
          finishReason: { unified: "tool-calls", raw: "tool_calls" },
          usage,
          warnings: [],
        };
      }
      // The last message holds the last tool result: say what it was.
      const last = options.prompt.at(-1);
      const text = last === undefined ? "Nothing to report." : `Done. Last result: ${JSON.stringify(last.content)}`;
      return { content: [{ type: "text", text }], finishReason: { unified: "stop", raw: "stop" }, usage, warnings: [] };
    },
  });
}

/** Runs the agent: `model` decides, the session's tools act; returns every tool call with its result. */
export async function runAiAgent(parameters: {
  tools: LeashTools;
  model: LanguageModel;
  prompt: string;
  maxSteps?: number;
}): Promise<{ steps: AgentStep[]; text: string }> {
  const result = await generateText({
    model: parameters.model,
    tools: leashAiTools(parameters.tools),
    stopWhen: stepCountIs(parameters.maxSteps ?? 8),
    prompt: parameters.prompt,
  });
  const steps = result.steps.flatMap((step) =>
    step.toolResults.map((toolResult) => ({
      tool: toolResult.toolName,
      input: toolResult.input,
      output: toolResult.output,
    })),
  );
  return { steps, text: result.text };
}
