/**
 * Leash's integrator client: everything an agent, an owner's tool or a dashboard needs, on ethers v6, with the
 * contracts' TypeChain types. See docs/INTEGRATORS.md for a quick start and the API reference.
 */
export * from "./actions.js";
export * from "./addresses.js";
export * from "./agent.js";
export * from "./agentKey.js";
export * from "./bundler.js";
export * from "./encoding.js";
export * from "./errors.js";
export * from "./grant.js";
export * from "./inputErrors.js";
export * from "./owner.js";
export * from "./ownerAccount.js";
export * from "./parse.js";
export * from "./read.js";
export * from "./session.js";
export * from "./sessionFile.js";
export * from "./signed.js";
export * from "./submit.js";
export * from "./summary.js";
export * from "./userOp.js";
export * from "./contracts.js";
export * from "./sessionHandle.js";
