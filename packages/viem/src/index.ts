/**
 * A Leash session as a viem smart account: {@link toLeashSessionAccount} gives viem's `toSmartAccount` what it needs
 * to send an agent's calls under the session an owner granted on their Ledger, through viem's `createBundlerClient`
 * or permissionless's `createSmartAccountClient`, to any ERC-4337 bundler, with or without an ERC-7677 paymaster.
 *
 * The encoding is `@leashkit/client`'s (calls, nonce key, validation selection, time hint, typed-data signatures) and
 * so are the gas caps and the refusals: this package only adapts them to viem.
 *
 * Why the account estimates gas itself: Leash's validation checks the session key's signature, the op's time hint
 * and the session's scope and budgets while the bundler estimates, so the stub signature viem estimates with is
 * refused. The account's `userOperation.estimateGas` signs the op over provisional limits with the session key,
 * asks the bundler for its estimate, and returns it; the op is then signed again over the estimated limits, which
 * must fit the caps and the session's remaining native budget (THREATS 32) before anything is signed.
 */
import {
  bundlerTimeHint,
  checkGasCaps,
  decodeUserOpRefusal,
  DEFAULT_GAS_CAPS,
  encodeErc1271Signature,
  encodeSessionCalls,
  encodeSessionTypedDataSignature,
  encodeTimeHint,
  encodeValidationSignature,
  ModularAccount__factory,
  SessionKeyValidationModule__factory,
  sessionNonceKey,
  sessionNonceLane,
  SpendLimitHook__factory,
  SESSION_MESSAGE_TYPES,
  sessionModuleDomain,
  type GasCaps,
  type UserOperation as LeashUserOperation,
  type ValidationSelection,
} from "@leashkit/client";
import type { Interface } from "ethers";
import {
  createClient,
  encodeFunctionData,
  getAddress,
  hashTypedData,
  zeroAddress,
  type Address,
  type Chain,
  type Client,
  type Hex,
  type JsonRpcAccount,
  type LocalAccount,
  type Transport,
  type TypedData,
  type TypedDataDefinition,
} from "viem";
import {
  entryPoint07Abi,
  entryPoint07Address,
  entryPoint08Abi,
  entryPoint08Address,
  estimateUserOperationGas,
  getUserOperationHash,
  toPackedUserOperation,
  toSmartAccount,
  type SmartAccount,
  type SmartAccountImplementation,
  type UserOperation,
} from "viem/account-abstraction";
import { call, estimateMaxPriorityFeePerGas, getBlock } from "viem/actions";

// The client's contract interfaces (ethers, from the same ABIs): one definition of each contract's ABI.
const accountInterface = ModularAccount__factory.createInterface();
const sessionModuleInterface = SessionKeyValidationModule__factory.createInterface();
const spendLimitHookInterface = SpendLimitHook__factory.createInterface();

/** The client the account reads through. */
type ReadClient = Client<Transport, Chain | undefined, JsonRpcAccount | LocalAccount | undefined>;

/** Calls a view of `to` through viem, encoded and decoded with the client's interface. */
async function read(client: ReadClient, to: Address, iface: Interface, name: string, args: unknown[] = []) {
  const { data } = await call(client, { to, data: iface.encodeFunctionData(name, args) as Hex });
  if (data === undefined) throw new Error(`${name} at ${to} returned nothing: is the address right on this chain?`);
  return iface.decodeFunctionResult(name, data);
}

// The refusals and gas caps an agent handles, from the client, so that a viem agent imports them from here.
export {
  DEFAULT_GAS_CAPS,
  GasCapExceededError,
  SessionExpiredError,
  SessionNotYetValidError,
  SessionOutOfScopeError,
  SessionRevokedError,
  SessionSignatureError,
  SpendLimitExceededError,
  UserOpRefusedError,
  type GasCaps,
} from "@leashkit/client";

/** The session the agent acts under: what the owner's session file (`loadSessionFile`) or grant tells it. */
export interface LeashSession {
  /** The EntryPoint the account runs behind. */
  entryPoint: string;
  /** The ERC-6900 account. */
  account: string;
  /** Leash's session-key validation module. */
  sessionModule: string;
  /** The session's id (its entity id in the module). */
  sessionId: number;
}

/** The gas limits the account signs over to have the bundler estimate the real ones. */
export interface ProvisionalGas {
  verificationGasLimit: bigint;
  callGasLimit: bigint;
  preVerificationGas: bigint;
  /** Used only when the paymaster's stub data gives no limits. */
  paymasterVerificationGasLimit: bigint;
  /** Used only when the paymaster's stub data gives no limits. */
  paymasterPostOpGasLimit: bigint;
}

/**
 * The default provisional limits: enough for Leash's validation and a token transfer on the accounts Leash is tested
 * on, and small enough that their maximum cost at ordinary fees fits a modest native budget (which the spend-limit
 * hook charges during the estimate too).
 */
export const DEFAULT_PROVISIONAL_GAS: ProvisionalGas = {
  verificationGasLimit: 400_000n,
  callGasLimit: 200_000n,
  preVerificationGas: 60_000n,
  paymasterVerificationGasLimit: 200_000n,
  paymasterPostOpGasLimit: 100_000n,
};

/** What {@link toLeashSessionAccount} needs. */
export interface ToLeashSessionAccountParameters {
  /** A client of the chain the account is on, for reads (a public client). */
  client: ReadClient;
  /**
   * The transport of the bundler the ops go to (the one given to `createBundlerClient`): the account asks it for
   * gas estimates itself, signed with the session key (see the module's description).
   */
  bundlerTransport: Transport;
  /** The session, e.g. the `SessionFile` the owner's `session grant --agent` wrote. */
  session: LeashSession;
  /** The agent's session key. It must sign raw hashes (`sign`), as `privateKeyToAccount` accounts do. */
  signer: LocalAccount;
  /** The EntryPoint's version: "0.8" (default, Leash's) or "0.7" (Alchemy MAv2 accounts in the field). */
  entryPointVersion?: "0.8" | "0.7";
  /**
   * The session's nonce lane this account's ops use (0 to 65,535; default 0). A bundler holds one op per sender and
   * nonce key, so ops meant to be in flight at once go through accounts of different lanes (one account per lane).
   */
  lane?: number;
  /**
   * The most the agent signs for (default `DEFAULT_GAS_CAPS` of `@leashkit/client`). Without `maxFeePerGas` in it, the
   * fee is bounded by the chain's own fees ({@link FEE_BOUND_BASE_FEES}, {@link FEE_BOUND_PRIORITY_FEES}).
   */
  caps?: GasCaps;
  /** The limits signed over for the estimate (default {@link DEFAULT_PROVISIONAL_GAS}); within `caps` too. */
  provisionalGas?: ProvisionalGas;
  /**
   * The time each op claims for the spend-limit hook's budget period. Default: the latest block's time, kept within
   * the local clock (a bundler refuses an op that claims a time it has not reached).
   */
  timeHint?: () => Promise<bigint>;
}

/** The viem smart account {@link toLeashSessionAccount} returns. */
export type LeashSessionAccount = SmartAccount<
  SmartAccountImplementation<typeof entryPoint08Abi | typeof entryPoint07Abi, "0.8" | "0.7">
>;

/** The default fee bound: at most this many times the latest base fee… */
export const FEE_BOUND_BASE_FEES = 4n;
/** …plus this many times the node's priority fee (viem itself offers about 2.4 base fees and 2 priority fees). */
export const FEE_BOUND_PRIORITY_FEES = 4n;

/** A signature the session key could have made: 65 bytes of the right shape, for paymasters' stub data only. */
const STUB_ECDSA: Hex = `0x${"ff".repeat(32)}${"7f".repeat(32)}1c`;

/**
 * Wraps the session in a viem smart account. Its ops:
 * - carry the calls as `executeUserOp` over `execute` / `executeBatch` (so the spend-limit hook measures what
 *   leaves the account), under the session's nonce key of `lane` whatever key viem asks for;
 * - select the session's validation and carry the spend-limit hook's time hint;
 * - are signed by the session key over the EntryPoint's user op hash, no message prefix;
 * - are refused before signing when the bundler's limits are over `caps` or cost more than the session's remaining
 *   native budget (`GasCapExceededError`), and come back as `@leashkit/client`'s typed refusals
 *   (`SessionOutOfScopeError`, `SpendLimitExceededError`, …) when the bundler refuses them during the estimate.
 *
 * `signTypedData` signs EIP-712 data whose domain names a contract the session was granted signing for (ERC-1271);
 * `signMessage` throws, since a session signs no EIP-191 message. The account must be deployed, and the session
 * installed: ops carrying the owner's grant (a deferred install) go through `sendSessionUserOp` of `@leashkit/client`.
 */
export async function toLeashSessionAccount(parameters: ToLeashSessionAccountParameters): Promise<LeashSessionAccount> {
  const { client, signer } = parameters;
  if (signer.sign === undefined) {
    throw new Error("the session key must sign raw hashes: pass a privateKeyToAccount(...) account as signer");
  }
  const sign = signer.sign.bind(signer);
  if (client.chain === undefined) {
    throw new Error("the client needs its chain (createPublicClient({ chain, transport })): viem reads chain.id");
  }
  const version = parameters.entryPointVersion ?? "0.8";
  const entryPoint = {
    abi: version === "0.8" ? entryPoint08Abi : entryPoint07Abi,
    address: getAddress(parameters.session.entryPoint),
    version,
  } as const;
  const canonical = version === "0.8" ? entryPoint08Address : entryPoint07Address;
  if (entryPoint.address !== canonical) {
    throw new Error(
      `the session's EntryPoint ${entryPoint.address} is not the canonical v${version} one (${canonical}): pass the ` +
        "version it runs (entryPointVersion)",
    );
  }
  const account = getAddress(parameters.session.account);
  const sessionModule = getAddress(parameters.session.sessionModule);
  const { sessionId } = parameters.session;
  const lane = parameters.lane ?? 0;
  const nonceKey = sessionNonceKey(sessionModule, sessionId, lane);
  const caps = parameters.caps ?? DEFAULT_GAS_CAPS;
  const provisional = parameters.provisionalGas ?? DEFAULT_PROVISIONAL_GAS;
  const bundler = createClient({ transport: parameters.bundlerTransport, chain: client.chain });
  const chainId = client.chain.id;

  const timeHint =
    parameters.timeHint ?? (async () => bundlerTimeHint((await getBlock(client, { blockTag: "latest" })).timestamp));
  const selection = (time: bigint): ValidationSelection => ({
    validation: { module: sessionModule, entityId: sessionId },
    isGlobal: false,
    hookData: [encodeTimeHint(time)],
  });
  const hashOf = (op: UserOperation) =>
    getUserOperationHash({
      userOperation: { ...op, sender: account, signature: "0x" },
      entryPointAddress: entryPoint.address,
      entryPointVersion: version,
      chainId,
    });
  const signOp = async (op: UserOperation): Promise<Hex> => {
    const signature = await sign({ hash: hashOf(op) });
    return encodeValidationSignature(selection(await timeHint()), signature) as Hex;
  };

  /**
   * Refuses, before signing, an op whose nonce (one the caller set) is in no lane of the session: the module would
   * refuse it, and a bundler would spend a round trip to say so.
   */
  const assertSessionNonce = (nonce: bigint) => {
    if (sessionNonceLane(nonce >> 64n, sessionModule, sessionId) === undefined) {
      throw new Error(
        `the op's nonce key 0x${(nonce >> 64n).toString(16)} is not one of session ${sessionId}'s nonce keys: leave ` +
          "the nonce to the account, or pick a lane with toLeashSessionAccount({ lane })",
      );
    }
  };

  /**
   * The caps an op is checked against: `caps`, with a `maxFeePerGas` bound read from the chain (not from the bundler,
   * whose fee answer the op would otherwise sign blindly) unless `caps` sets one: FEE_BOUND_BASE_FEES times the latest
   * base fee plus FEE_BOUND_PRIORITY_FEES times the node's priority fee.
   */
  const capsNow = async (): Promise<GasCaps> => {
    if (caps.maxFeePerGas !== undefined) return caps;
    const [block, priority] = await Promise.all([
      getBlock(client, { blockTag: "latest" }),
      estimateMaxPriorityFeePerGas(client),
    ]);
    const baseFee = block.baseFeePerGas ?? 0n;
    return { ...caps, maxFeePerGas: FEE_BOUND_BASE_FEES * baseFee + FEE_BOUND_PRIORITY_FEES * priority };
  };
  /** Refuses, before anything is signed, an op over the caps or, when the account pays, over the native budget. */
  const checkOp = async (op: UserOperation, service: string) => {
    const sponsored = op.paymaster !== undefined && op.paymaster !== zeroAddress;
    checkGasCaps({
      op: toLeashOp(op),
      caps: await capsNow(),
      service,
      nativeBudget: sponsored ? undefined : await nativeBudget(op),
    });
  };

  /** The session's remaining native budget less the op's call values, or undefined without a native budget. */
  const nativeBudget = async (op: UserOperation): Promise<bigint | undefined> => {
    const [hook] = (await read(client, sessionModule, sessionModuleInterface, "SPEND_LIMIT_HOOK")) as unknown as [
      Address,
    ];
    if (hook === zeroAddress) return undefined;
    const [native] = (await read(client, hook, spendLimitHookInterface, "NATIVE")) as unknown as [Address];
    const [remaining] = (await read(client, hook, spendLimitHookInterface, "remainingBudget", [
      account,
      sessionId,
      native,
    ])) as unknown as [bigint];
    const values = decodeSessionCalls(op.callData).reduce((sum, call) => sum + call.value, 0n);
    return remaining > values ? remaining - values : 0n;
  };

  const implementation = {
    client,
    entryPoint,
    async getAddress() {
      return account;
    },
    async encodeCalls(calls) {
      return encodeSessionCalls(
        calls.map((call) => ({ target: call.to, value: call.value ?? 0n, data: call.data ?? "0x" })),
      ) as Hex;
    },
    async decodeCalls(data) {
      return decodeSessionCalls(data);
    },
    async getFactoryArgs() {
      return { factory: undefined, factoryData: undefined };
    },
    // viem passes a key of its own (a timestamp by default): a session's ops use the session's nonce key of `lane`.
    async getNonce() {
      const { data } = await call(client, {
        to: entryPoint.address,
        data: encodeFunctionData({ abi: entryPoint.abi, functionName: "getNonce", args: [account, nonceKey] }),
      });
      if (data === undefined) throw new Error(`the EntryPoint ${entryPoint.address} is not deployed on this chain`);
      return BigInt(data);
    },
    async getStubSignature() {
      return encodeValidationSignature(selection(await timeHint()), STUB_ECDSA) as Hex;
    },
    async signMessage() {
      throw new Error(
        "a Leash session signs no EIP-191 message: it signs EIP-712 data of a contract the owner granted signing " +
          "for (signTypedData)",
      );
    },
    async signTypedData(typedData) {
      const definition = typedData as unknown as TypedDataDefinition<TypedData, string>;
      const { domain } = definition;
      if (domain?.verifyingContract === undefined) {
        throw new Error("a session signs only typed data whose domain names its verifyingContract");
      }
      const hash = hashTypedData(definition);
      // Computed here, not asked of the node: the key signs only the SessionMessage of this typed data.
      const moduleDomain = sessionModuleDomain({ chainId: BigInt(chainId), sessionModule });
      const digest = hashTypedData({
        domain: {
          name: moduleDomain.name ?? undefined,
          version: moduleDomain.version ?? undefined,
          chainId,
          verifyingContract: sessionModule,
        },
        types: SESSION_MESSAGE_TYPES,
        primaryType: "SessionMessage",
        message: { account, sessionId, hash },
      });
      const agentSignature = await sign({ hash: digest });
      const types = Object.fromEntries(
        Object.entries(definition.types).filter(([name]) => name !== "EIP712Domain"),
      ) as Record<string, { name: string; type: string }[]>;
      const validationData = encodeSessionTypedDataSignature(
        {
          domain: {
            name: domain.name,
            version: domain.version,
            chainId: domain.chainId === undefined ? undefined : BigInt(domain.chainId),
            verifyingContract: domain.verifyingContract,
            salt: domain.salt,
          },
          types,
          primaryType: definition.primaryType,
        },
        definition.message as Record<string, unknown>,
        agentSignature,
      );
      return encodeErc1271Signature({ module: sessionModule, entityId: sessionId }, validationData) as Hex;
    },
    async signUserOperation(request) {
      const op = { ...request, sender: account } as UserOperation;
      assertSessionNonce(op.nonce);
      // A sponsored op's gas is the paymaster's: only the caps bound it. Otherwise the account pays, from the budget.
      await checkOp(op, "bundler");
      return signOp(op);
    },
    userOperation: {
      async estimateGas(request) {
        const paymaster = request.paymaster !== undefined && request.paymaster !== zeroAddress;
        const op = {
          ...request,
          sender: account,
          verificationGasLimit: provisional.verificationGasLimit,
          callGasLimit: provisional.callGasLimit,
          preVerificationGas: provisional.preVerificationGas,
          ...(paymaster
            ? {
                paymasterVerificationGasLimit:
                  request.paymasterVerificationGasLimit ?? provisional.paymasterVerificationGasLimit,
                paymasterPostOpGasLimit: request.paymasterPostOpGasLimit ?? provisional.paymasterPostOpGasLimit,
              }
            : {}),
        } as UserOperation;
        // The provisional op is a valid op too (the bundler may send it): it is checked like the final one.
        assertSessionNonce(op.nonce);
        await checkOp(op, "caller (provisional gas)");
        const signed = { ...op, signature: await signOp(op) };
        try {
          const estimate = await estimateUserOperationGas(bundler, {
            ...signed,
            entryPointAddress: entryPoint.address,
          } as Parameters<typeof estimateUserOperationGas>[1]);
          return {
            verificationGasLimit: estimate.verificationGasLimit,
            callGasLimit: estimate.callGasLimit,
            preVerificationGas: estimate.preVerificationGas,
            ...(paymaster
              ? {
                  paymasterVerificationGasLimit:
                    estimate.paymasterVerificationGasLimit ?? op.paymasterVerificationGasLimit,
                  paymasterPostOpGasLimit: estimate.paymasterPostOpGasLimit ?? op.paymasterPostOpGasLimit,
                }
              : {}),
          };
        } catch (error) {
          throw decodeUserOpRefusal(error) ?? error;
        }
      },
    },
  } satisfies SmartAccountImplementation<typeof entryPoint08Abi | typeof entryPoint07Abi, "0.8" | "0.7">;
  return toSmartAccount(implementation) as Promise<LeashSessionAccount>;
}

/** The op in `@leashkit/client`'s packed-fields shape, for its gas checks. */
function toLeashOp(op: UserOperation): LeashUserOperation {
  const packed = toPackedUserOperation({ ...op, signature: op.signature ?? "0x" });
  return {
    sender: op.sender,
    nonce: op.nonce,
    initCode: packed.initCode,
    callData: op.callData,
    verificationGasLimit: op.verificationGasLimit,
    callGasLimit: op.callGasLimit,
    preVerificationGas: op.preVerificationGas,
    maxFeePerGas: op.maxFeePerGas,
    maxPriorityFeePerGas: op.maxPriorityFeePerGas,
    paymasterAndData: packed.paymasterAndData,
    signature: op.signature ?? "0x",
  };
}

/** The calls of `executeUserOp` ‖ `execute` / `executeBatch` calldata, as the account will make them. */
function decodeSessionCalls(data: Hex): { to: Address; value: bigint; data: Hex }[] {
  const executeUserOp = accountInterface.getFunction("executeUserOp").selector;
  const inner = data.startsWith(executeUserOp) ? `0x${data.slice(10)}` : data;
  const decoded = accountInterface.parseTransaction({ data: inner });
  if (decoded?.name === "execute") {
    const [to, value, callData] = decoded.args as unknown as [Address, bigint, Hex];
    return [{ to, value, data: callData }];
  }
  if (decoded?.name === "executeBatch") {
    const [calls] = decoded.args as unknown as [{ target: Address; value: bigint; data: Hex }[]];
    return calls.map((call) => ({ to: call.target, value: call.value, data: call.data }));
  }
  throw new Error(`a session's op calls execute or executeBatch, not ${decoded?.name ?? "an unknown function"}`);
}
