/**
 * Leash's integrator client on ethers v6, by role; each role is also its own subpath:
 * - `@leashkit/client/agent`: an agent acting under its session (session handle, ops, key, gas caps, refusals);
 * - `@leashkit/client/owner`: an owner's tool (grants, revocations, the typed data the Ledger shows, input errors);
 * - `@leashkit/client/read`: a dashboard or watchtower (sessions, state, budgets);
 * - `@leashkit/client/encoding`: the byte layouts and the contracts' ABI-only bindings;
 * - `@leashkit/client/node`: the Node-only file helpers (not part of this entry point).
 * See docs/INTEGRATORS.md for a quick start and the API reference.
 */
export * from "./exports/agent.js";
export * from "./exports/owner.js";
export * from "./exports/read.js";
export * from "./exports/encoding.js";
