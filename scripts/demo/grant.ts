/**
 * The grant the demo's owner approves on the Ledger: what `npm run demo` has the (emulated) device sign, and what
 * docs/device/ transcribes from the real app on both models (test/device/transcript.ts). One definition for both.
 */

/** The demo grant's scope and budgets, as `session grant` options, for a deployment whose test USDC is `usdc`. */
export function demoGrantOptions(usdc: string): { allow: string; budget: string } {
  return {
    allow: `${usdc}:transfer(address,uint256)`,
    budget: "100 USDC/day,0.05 ETH/day",
  };
}

/** The fixed validity window of the transcribed demo grant (the demo itself starts now). */
export const DEMO_TRANSCRIPT_WINDOW = { validAfter: "2030-01-01T09:00:00Z", validUntil: "2030-01-08T09:00:00Z" };
