/**
 * The modular account, through the real EntryPoint v0.8. The owner module's own tests (its signatures, its install
 * state, transferOwnership) are in test/modules/OwnerValidationModule.ts.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { concat, parseEther, Wallet, ZeroAddress } from "ethers";

import {
  DIRECT_CALL_ENTITY_ID,
  encodeErc1271Signature,
  encodeExecutionHook,
  encodeHookInstall,
  encodeModuleEntity,
  encodeValidationConfig,
  encodeValidationHook,
  encodeValidationSignature,
} from "../../client/encoding.js";
import {
  modularAccountFixture,
  ONE_CENT_ETH,
  ownerAuthorization,
  ownerOp,
  ownerSelection,
  type AccountFixture,
} from "../helpers/account.js";
import { createAccount, fund, OWNER_ENTITY_ID, testWallet } from "../helpers/fixture.js";
import { buildSignedOp, opRevertData, opSucceeded, sendOp } from "../helpers/userOps.js";

const { ethers, networkHelpers } = await network.create();

async function accountFixture() {
  return modularAccountFixture(ethers);
}

describe("ModularAccount", function () {
  describe("creation", function () {
    it("deploys at the factory's counterfactual address through initCode in the first user op", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const newOwner = testWallet(ethers, "m/44'/60'/4'/0/0");
      const predicted = await f.factory.getAccountAddress(newOwner.address, 7n);
      expect(await ethers.provider.getCode(predicted)).to.equal("0x");
      await fund(ethers, predicted);

      const initCode = concat([
        f.factory.target as string,
        f.factory.interface.encodeFunctionData("createAccount", [newOwner.address, 7n]),
      ]);
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: predicted,
        callData,
        initCode,
        selection: ownerSelection(f),
        signer: newOwner,
      });
      const receipt = await sendOp(ethers, f.entryPoint, op);

      expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
      expect(await ethers.provider.getCode(predicted)).to.not.equal("0x");
      expect(await f.ownerModule.owner(OWNER_ENTITY_ID, predicted)).to.equal(newOwner.address);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);
    });

    it("returns the existing account when created twice, without redeploying", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const before = await f.factory.getAccountAddress(f.owner.address, 0n);
      await expect(f.factory.createAccount(f.owner.address, 0n)).to.not.emit(f.factory, "AccountCreated");
      expect(await f.factory.getAccountAddress(f.owner.address, 0n)).to.equal(before);
    });

    it("binds the owner into the address: another owner with the same salt gets another account", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      expect(await f.factory.getAccountAddress(f.stranger.address, 0n)).to.not.equal(await f.account.getAddress());
    });

    it("lets the factory's owner, and no one else, stake it in the EntryPoint (ERC-7562 for first ops)", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await f.factory.addStake(86_400, { value: parseEther("1") })).wait();
      const info = await f.entryPoint.getDepositInfo(f.factory.target as string);
      expect([info.staked, info.stake, info.unstakeDelaySec]).to.deep.equal([true, parseEther("1"), 86_400n]);
      await expect(f.factory.connect(f.stranger).addStake(86_400, { value: 1n }))
        .to.be.revertedWithCustomError(f.factory, "OwnableUnauthorizedAccount")
        .withArgs(f.stranger.address);
    });

    it("reverts with AccountFactoryZeroOwner for a zero owner", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await expect(f.factory.createAccount(ZeroAddress, 0n)).to.be.revertedWithCustomError(
        f.factory,
        "AccountFactoryZeroOwner",
      );
    });

    it("cannot be initialized a second time", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const config = encodeValidationConfig(
        { module: f.ownerModule.target as string, entityId: 9 },
        { isGlobal: true, isSignatureValidation: true, isUserOpValidation: true },
      );
      const installData = ethers.AbiCoder.defaultAbiCoder().encode(["uint32", "address"], [9, f.stranger.address]);
      await expect(
        f.account.initialize([{ validationConfig: config, selectors: [], installData, hooks: [] }]),
      ).to.be.revertedWithCustomError(f.account, "InvalidInitialization");
    });

    it("reports its account id and the standard's interfaces", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      expect(await f.account.accountId()).to.equal("leash.modular-account.0.1.0");
      const reader = await ethers.deployContract("InterfaceIds");
      const ids = await reader.ids();
      expect(await f.account.supportsInterface(ids[5]!)).to.equal(true); // IModularAccount
      expect(await f.account.supportsInterface(ids[6]!)).to.equal(true); // IModularAccountView
      expect(await f.account.supportsInterface("0x1626ba7e")).to.equal(true); // IERC1271
      expect(await f.account.supportsInterface("0x01ffc9a7")).to.equal(true); // IERC165
      expect(await f.account.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("owner user operations", function () {
    it("sends native currency with an owner-signed execute", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const receipt = await sendOp(ethers, f.entryPoint, await ownerOp(f, callData));
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);
    });

    it("runs every call of an owner-signed executeBatch", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const other = Wallet.createRandom().address;
      const callData = f.account.interface.encodeFunctionData("executeBatch", [
        [
          { target: f.recipient, value: ONE_CENT_ETH, data: "0x" },
          { target: other, value: 2n * ONE_CENT_ETH, data: "0x" },
        ],
      ]);
      const receipt = await sendOp(ethers, f.entryPoint, await ownerOp(f, callData));
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);
      expect(await ethers.provider.getBalance(other)).to.equal(2n * ONE_CENT_ETH);
    });

    it("reverts the whole batch if one call reverts", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const callData = f.account.interface.encodeFunctionData("executeBatch", [
        [
          { target: f.recipient, value: ONE_CENT_ETH, data: "0x" },
          { target: f.recipient, value: parseEther("1000"), data: "0x" }, // more than the account holds
        ],
      ]);
      const receipt = await sendOp(ethers, f.entryPoint, await ownerOp(f, callData));
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(false);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("is refused (AA23) when the selection prefix names a validation that is not installed", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const notInstalled = { module: f.ownerModule.target as string, entityId: 5 };
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: await f.account.getAddress(),
        callData,
        selection: { validation: notInstalled, isGlobal: true },
        signer: f.owner,
      });
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.account.interface.encodeErrorResult("AccountValidationNotInstalled", [encodeModuleEntity(notInstalled)]),
        );
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });
  });

  describe("owner runtime calls", function () {
    it("lets the owner's EOA execute through executeWithRuntimeValidation", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const data = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      await (await f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f))).wait();
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);
    });

    it("reverts with AccountUnauthorizedCaller when anyone calls execute directly", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await expect(f.account.connect(f.owner).execute(f.recipient, ONE_CENT_ETH, "0x"))
        .to.be.revertedWithCustomError(f.account, "AccountUnauthorizedCaller")
        .withArgs(f.owner.address, f.account.interface.getFunction("execute").selector);
    });

    it("reverts with AccountNotFromEntryPoint when anyone but the EntryPoint calls validateUserOp or executeUserOp", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const op = await ownerOp(f, callData);
      const { packUserOp } = await import("../../client/userOp.js");
      await expect(f.account.connect(f.owner).validateUserOp(packUserOp(op), ethers.ZeroHash, 0n))
        .to.be.revertedWithCustomError(f.account, "AccountNotFromEntryPoint")
        .withArgs(f.owner.address);
      await expect(f.account.connect(f.owner).executeUserOp(packUserOp(op), ethers.ZeroHash))
        .to.be.revertedWithCustomError(f.account, "AccountNotFromEntryPoint")
        .withArgs(f.owner.address);
    });
  });

  describe("ERC-1271", function () {
    const MAGIC = "0x1626ba7e";

    it("reverts with AccountSignatureValidationNotAllowed for a validation not installed for signatures", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const validation = { module: f.ownerModule.target as string, entityId: 77 };
      await expect(f.account.isValidSignature(ethers.ZeroHash, encodeErc1271Signature(validation, "0x")))
        .to.be.revertedWithCustomError(f.account, "AccountSignatureValidationNotAllowed")
        .withArgs(encodeModuleEntity(validation));
    });

    it("answers the ERC-7739 detection request with an empty signature, which selects no validation", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      // ERC-7739 "Support detection": isValidSignature(0x7739…7739, "") returns bytes4(0x7739000X), X the version.
      expect(await f.account.isValidSignature("0x" + "7739".repeat(16), "0x")).to.equal("0x77390001");
    });

    it("reverts with AccountValidationSelectionMalformed for any other hash with an empty signature", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await expect(f.account.isValidSignature(ethers.id("not the detection hash"), "0x")).to.be.revertedWithCustomError(
        f.account,
        "AccountValidationSelectionMalformed",
      );
    });

    it("reports as its ERC-5267 domain the owner module's account-bound domain", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const accountAddress = await f.account.getAddress();
      const { chainId } = await ethers.provider.getNetwork();
      const domain = await f.account.eip712Domain();
      // ERC-5267: fields 0x0f = name, version, chainId and verifyingContract; no salt, no extensions.
      expect([...domain.slice(0, 6), [...domain[6]]]).to.deep.equal([
        "0x0f",
        await f.ownerModule.DOMAIN_NAME(),
        await f.ownerModule.DOMAIN_VERSION(),
        chainId,
        accountAddress,
        ethers.ZeroHash,
        [],
      ]);
      const separator = ethers.TypedDataEncoder.hashDomain({
        name: domain.name,
        version: domain.version,
        chainId: domain.chainId,
        verifyingContract: domain.verifyingContract,
      });
      expect(separator).to.equal(await f.ownerModule.domainSeparator(accountAddress));
    });

    it("accepts the owner's nested (ERC-7739) signature built only from what eip712Domain() returns", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const { chainId } = await ethers.provider.getNetwork();
      // What a standard app does: read the account's domain (ERC-5267), then nest its typed data (ERC-7739).
      const domain = await f.account.eip712Domain();
      const appDomain = { name: "Some App", version: "2", chainId, verifyingContract: f.recipient };
      const types = { Order: [{ name: "amount", type: "uint256" }] };
      const contents = { amount: 7n };
      const nested = {
        TypedDataSign: [
          { name: "contents", type: "Order" },
          { name: "name", type: "string" },
          { name: "version", type: "string" },
          { name: "chainId", type: "uint256" },
          { name: "verifyingContract", type: "address" },
          { name: "salt", type: "bytes32" },
        ],
        ...types,
      };
      const message = {
        contents,
        name: domain.name,
        version: domain.version,
        chainId: domain.chainId,
        verifyingContract: domain.verifyingContract,
        salt: domain.salt,
      };
      const ecdsa = await f.owner.signTypedData(appDomain, nested, message);
      const descr = ethers.toUtf8Bytes("Order(uint256 amount)");
      const encoded = concat([
        ecdsa,
        ethers.TypedDataEncoder.hashDomain(appDomain),
        ethers.TypedDataEncoder.from(types).hash(contents),
        descr,
        ethers.toBeHex(descr.length, 2),
      ]);
      const hash = ethers.TypedDataEncoder.hash(appDomain, types, contents);
      const validation = { module: f.ownerModule.target as string, entityId: 0 };
      expect(await f.account.isValidSignature(hash, encodeErc1271Signature(validation, encoded))).to.equal(MAGIC);
      // The ERC-7739 PersonalSign wrapper in the same domain (fields 0x0f: no salt in EIP712Domain).
      const personal = {
        name: domain.name,
        version: domain.version,
        chainId,
        verifyingContract: domain.verifyingContract,
      };
      const prefixed = ethers.concat([
        ethers.toUtf8Bytes("\x19Ethereum Signed Message:\n5"),
        ethers.toUtf8Bytes("hello"),
      ]);
      const wrapped = await f.owner.signTypedData(
        personal,
        { PersonalSign: [{ name: "prefixed", type: "bytes" }] },
        { prefixed },
      );
      expect(
        await f.account.isValidSignature(ethers.hashMessage("hello"), encodeErc1271Signature(validation, wrapped)),
      ).to.equal(MAGIC);
    });
  });

  describe("installValidation / uninstallValidation with hooks", function () {
    const SECOND_ENTITY = 1;

    /** Installs a second owner-module validation (selector: execute only) with a validation and an exec hook. */
    async function installHookedValidation(f: AccountFixture) {
      const hookModule = f.hooks.target as string;
      const config = encodeValidationConfig(
        { module: f.ownerModule.target as string, entityId: SECOND_ENTITY },
        { isGlobal: false, isSignatureValidation: false, isUserOpValidation: true },
      );
      const hooks = [
        encodeHookInstall(encodeValidationHook({ module: hookModule, entityId: 11 }), "0xaa"),
        encodeHookInstall(encodeExecutionHook({ module: hookModule, entityId: 12 }, { pre: true, post: true }), "0xbb"),
      ];
      const installData = ethers.AbiCoder.defaultAbiCoder().encode(
        ["uint32", "address"],
        [SECOND_ENTITY, f.stranger.address],
      );
      const selector = f.account.interface.getFunction("execute").selector;
      const data = f.account.interface.encodeFunctionData("installValidation", [
        config,
        [selector],
        installData,
        hooks,
      ]);
      return f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f));
    }

    const secondSelection = (f: AccountFixture, hookData?: string[]) => ({
      validation: { module: f.ownerModule.target as string, entityId: SECOND_ENTITY },
      isGlobal: false,
      hookData,
    });

    it("installs the validation, its hooks, and calls each module's onInstall with its data", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const accountAddress = await f.account.getAddress();
      await expect(installHookedValidation(f))
        .to.emit(f.account, "ValidationInstalled")
        .withArgs(f.ownerModule.target, SECOND_ENTITY);
      expect(await f.hooks.installCount(accountAddress)).to.equal(2n);
      expect(await f.ownerModule.owner(SECOND_ENTITY, accountAddress)).to.equal(f.stranger.address);

      const view = await f.account.getValidationData(
        encodeModuleEntity({ module: f.ownerModule.target as string, entityId: SECOND_ENTITY }),
      );
      expect(view.validationFlags).to.equal(1n);
      expect(view.selectors).to.deep.equal([f.account.interface.getFunction("execute").selector]);
      expect(view.validationHooks).to.deep.equal([
        encodeValidationHook({ module: f.hooks.target as string, entityId: 11 }),
      ]);
      expect(view.executionHooks).to.deep.equal([
        encodeExecutionHook({ module: f.hooks.target as string, entityId: 12 }, { pre: true, post: true }),
      ]);
    });

    it("reverts with AccountValidationAlreadyInstalled when the same validation is installed twice", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      await expect(installHookedValidation(f)).to.be.revertedWithCustomError(
        f.account,
        "AccountValidationAlreadyInstalled",
      );
    });

    it("runs the validation hook with its own data segment and the execution hooks with the full executeUserOp calldata", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const accountAddress = await f.account.getAddress();
      const inner = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const callData = concat([f.account.interface.getFunction("executeUserOp").selector, inner]);
      const { op, hash } = await buildSignedOp(f.entryPoint, {
        sender: accountAddress,
        callData,
        selection: secondSelection(f, ["0xc0ffee"]),
        signer: f.stranger,
      });
      const receipt = await sendOp(ethers, f.entryPoint, op);
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(true);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);

      const events = receipt.logs.map((log) => f.hooks.interface.parseLog(log)).filter((parsed) => parsed !== null);
      const validationHook = events.find((e) => e.name === "PreUserOpValidationHookCalled");
      expect(validationHook?.args.toArray()).to.deep.equal([accountAddress, 11n, hash, "0xc0ffee"]);
      const pre = events.find((e) => e.name === "PreExecutionHookCalled");
      const packed = f.account.interface.encodeFunctionData("executeUserOp", [
        (await import("../../client/userOp.js")).packUserOp(op),
        hash,
      ]);
      expect(pre?.args.toArray()).to.deep.equal([accountAddress, 12n, f.entryPoint.target, 0n, packed]);
      const post = events.find((e) => e.name === "PostExecutionHookCalled");
      expect(post?.args.entityId).to.equal(12n);
    });

    it("reverts with AccountRequiresExecuteUserOp when an op of a validation with execution hooks skips executeUserOp", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const callData = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: await f.account.getAddress(),
        callData,
        selection: secondSelection(f),
        signer: f.stranger,
      });
      await expect(sendOp(ethers, f.entryPoint, op)).to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert");
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("refuses (AA23) a selector-scoped validation used for a function outside its selectors", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const inner = f.account.interface.encodeFunctionData("executeBatch", [[]]);
      const callData = concat([f.account.interface.getFunction("executeUserOp").selector, inner]);
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: await f.account.getAddress(),
        callData,
        selection: secondSelection(f),
        signer: f.stranger,
      });
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.account.interface.encodeErrorResult("AccountValidationNotApplicable", [
            encodeModuleEntity({ module: f.ownerModule.target as string, entityId: SECOND_ENTITY }),
            f.account.interface.getFunction("executeBatch").selector,
          ]),
        );
    });

    it("refuses a selector-scoped validation that calls the account itself to install a validation", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const accountAddress = await f.account.getAddress();
      const install = f.account.interface.encodeFunctionData("uninstallValidation", [
        encodeModuleEntity({ module: f.ownerModule.target as string, entityId: OWNER_ENTITY_ID }),
        "0x",
        [],
      ]);
      const inner = f.account.interface.encodeFunctionData("execute", [accountAddress, 0n, install]);
      const callData = concat([f.account.interface.getFunction("executeUserOp").selector, inner]);
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: accountAddress,
        callData,
        selection: secondSelection(f),
        signer: f.stranger,
      });
      await expect(sendOp(ethers, f.entryPoint, op))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert")
        .withArgs(
          0n,
          "AA23 reverted",
          f.account.interface.encodeErrorResult("AccountValidationNotApplicable", [
            encodeModuleEntity({ module: f.ownerModule.target as string, entityId: SECOND_ENTITY }),
            f.account.interface.getFunction("uninstallValidation").selector,
          ]),
        );
      expect(await f.ownerModule.owner(OWNER_ENTITY_ID, accountAddress)).to.equal(f.owner.address);
    });

    it("refuses hook data addressed to a hook that does not exist", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const inner = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const callData = concat([f.account.interface.getFunction("executeUserOp").selector, inner]);
      const { op } = await buildSignedOp(f.entryPoint, {
        sender: await f.account.getAddress(),
        callData,
        selection: secondSelection(f, [undefined as unknown as string, "0x01"]),
        signer: f.stranger,
      });
      await expect(sendOp(ethers, f.entryPoint, op)).to.be.revertedWithCustomError(f.entryPoint, "FailedOpWithRevert");
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("runs the runtime validation hook and the execution hooks with the inner data on executeWithRuntimeValidation", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const accountAddress = await f.account.getAddress();
      const data = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const authorization = encodeValidationSignature(secondSelection(f, ["0xbeef"]), "0x");
      await expect(f.account.connect(f.stranger).executeWithRuntimeValidation(data, authorization))
        .to.emit(f.hooks, "PreRuntimeValidationHookCalled")
        .withArgs(accountAddress, 11n, f.stranger.address, 0n, data, "0xbeef")
        .and.to.emit(f.hooks, "PreExecutionHookCalled")
        .withArgs(accountAddress, 12n, f.stranger.address, 0n, data);
    });

    it("reverts the call when a validation hook refuses it", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      await (await f.hooks.setFailOn(await f.account.getAddress(), 2)).wait(); // PreRuntime
      const data = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      const authorization = encodeValidationSignature(secondSelection(f), "0x");
      await expect(f.account.connect(f.stranger).executeWithRuntimeValidation(data, authorization))
        .to.be.revertedWithCustomError(f.hooks, "RecordingHookRefused")
        .withArgs(2);
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(0n);
    });

    it("uninstalls the validation and its hooks even if a hook's onUninstall reverts, and reports it", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const accountAddress = await f.account.getAddress();
      await (await f.hooks.setFailOn(accountAddress, 6)).wait(); // OnUninstall
      const entity = encodeModuleEntity({ module: f.ownerModule.target as string, entityId: SECOND_ENTITY });
      const uninstallData = ethers.AbiCoder.defaultAbiCoder().encode(["uint32"], [SECOND_ENTITY]);
      const data = f.account.interface.encodeFunctionData("uninstallValidation", [
        entity,
        uninstallData,
        ["0x01", "0x02"],
      ]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.emit(f.account, "ValidationUninstalled")
        .withArgs(f.ownerModule.target, SECOND_ENTITY, false);

      const view = await f.account.getValidationData(entity);
      expect(view.validationFlags).to.equal(0n);
      expect(view.selectors).to.deep.equal([]);
      expect(view.validationHooks).to.deep.equal([]);
      expect(view.executionHooks).to.deep.equal([]);
      expect(await f.ownerModule.owner(SECOND_ENTITY, accountAddress)).to.equal(ZeroAddress);

      const pay = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      await expect(
        f.account
          .connect(f.stranger)
          .executeWithRuntimeValidation(pay, encodeValidationSignature(secondSelection(f), "0x")),
      )
        .to.be.revertedWithCustomError(f.account, "AccountValidationNotInstalled")
        .withArgs(entity);
    });

    it("reverts with AccountHookUninstallDataLength when hook uninstall data does not match the hooks", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installHookedValidation(f)).wait();
      const entity = encodeModuleEntity({ module: f.ownerModule.target as string, entityId: SECOND_ENTITY });
      const data = f.account.interface.encodeFunctionData("uninstallValidation", [entity, "0x", ["0x01"]]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.be.revertedWithCustomError(f.account, "AccountHookUninstallDataLength")
        .withArgs(2n, 1n);
    });

    it("reverts with AccountModuleInvalid when the validation module is not an ERC-6900 validation module", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const config = encodeValidationConfig(
        { module: f.recipient, entityId: 3 },
        { isGlobal: true, isSignatureValidation: true, isUserOpValidation: true },
      );
      const data = f.account.interface.encodeFunctionData("installValidation", [config, [], "0x", []]);
      await expect(
        f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)),
      ).to.be.revertedWithCustomError(f.account, "AccountModuleInvalid");
    });
  });

  describe("direct-call validation", function () {
    /** Gives `caller` a direct-call validation for `execute` only, with the recording validation hook. */
    async function installDirectCall(f: AccountFixture, caller: string) {
      const config = encodeValidationConfig(
        { module: caller, entityId: DIRECT_CALL_ENTITY_ID },
        { isGlobal: false, isSignatureValidation: false, isUserOpValidation: false },
      );
      const selector = f.account.interface.getFunction("execute").selector;
      const hooks = [encodeHookInstall(encodeValidationHook({ module: f.hooks.target as string, entityId: 21 }))];
      const data = f.account.interface.encodeFunctionData("installValidation", [config, [selector], "0x", hooks]);
      await (await f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f))).wait();
    }

    it("lets a module holding a direct-call validation for execute call it, running its validation hook", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const caller = await ethers.deployContract("DirectCallerModule");
      await installDirectCall(f, caller.target as string);
      const accountAddress = await f.account.getAddress();
      const data = f.account.interface.encodeFunctionData("execute", [f.recipient, ONE_CENT_ETH, "0x"]);
      await expect(caller.forward(accountAddress, data))
        .to.emit(f.hooks, "PreRuntimeValidationHookCalled")
        .withArgs(accountAddress, 21n, caller.target, 0n, data, "0x");
      expect(await ethers.provider.getBalance(f.recipient)).to.equal(ONE_CENT_ETH);
    });

    it("refuses that module a function outside its direct-call selectors", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const caller = await ethers.deployContract("DirectCallerModule");
      await installDirectCall(f, caller.target as string);
      const data = f.account.interface.encodeFunctionData("upgradeToAndCall", [f.recipient, "0x"]);
      await expect(caller.forward(await f.account.getAddress(), data))
        .to.be.revertedWithCustomError(f.account, "AccountValidationNotApplicable")
        .withArgs(
          encodeModuleEntity({ module: caller.target as string, entityId: DIRECT_CALL_ENTITY_ID }),
          f.account.interface.getFunction("upgradeToAndCall").selector,
        );
    });

    it("refuses that module an execute aimed at the account itself", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const caller = await ethers.deployContract("DirectCallerModule");
      await installDirectCall(f, caller.target as string);
      const accountAddress = await f.account.getAddress();
      const inner = f.account.interface.encodeFunctionData("installValidation", [
        encodeValidationConfig(
          { module: caller.target as string, entityId: 1 },
          { isGlobal: true, isSignatureValidation: true, isUserOpValidation: true },
        ),
        [],
        "0x",
        [],
      ]);
      const data = f.account.interface.encodeFunctionData("execute", [accountAddress, 0n, inner]);
      await expect(caller.forward(accountAddress, data))
        .to.be.revertedWithCustomError(f.account, "AccountValidationNotApplicable")
        .withArgs(
          encodeModuleEntity({ module: caller.target as string, entityId: DIRECT_CALL_ENTITY_ID }),
          f.account.interface.getFunction("installValidation").selector,
        );
    });

    it("refuses any other caller", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const caller = await ethers.deployContract("DirectCallerModule");
      await installDirectCall(f, caller.target as string);
      await expect(f.account.connect(f.stranger).execute(f.recipient, ONE_CENT_ETH, "0x"))
        .to.be.revertedWithCustomError(f.account, "AccountUnauthorizedCaller")
        .withArgs(f.stranger.address, f.account.interface.getFunction("execute").selector);
    });
  });

  describe("installExecution / uninstallExecution", function () {
    async function installGreeter(f: AccountFixture) {
      const manifest = await f.greeter.executionManifest();
      const data = f.account.interface.encodeFunctionData("installExecution", [
        f.greeter.target as string,
        manifest,
        "0x",
      ]);
      return f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f));
    }

    it("routes an installed execution function to its module and advertises its interface", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await expect(installGreeter(f)).to.emit(f.account, "ExecutionInstalled");
      const accountAddress = await f.account.getAddress();
      const greetData = f.greeter.interface.encodeFunctionData("greet", ["leash"]);
      await (await f.account.connect(f.owner).executeWithRuntimeValidation(greetData, ownerAuthorization(f))).wait();
      expect(await f.greeter.greeting(accountAddress)).to.equal("leash");
      expect(await f.account.supportsInterface(await f.greeter.GREETER_INTERFACE_ID())).to.equal(true);
      const view = await f.account.getExecutionData(f.greeter.interface.getFunction("greet").selector);
      expect([view.module, view.skipRuntimeValidation, view.allowGlobalValidation]).to.deep.equal([
        f.greeter.target,
        false,
        true,
      ]);
    });

    it("lets anyone call a function installed with skipRuntimeValidation, and no one call a validated one directly", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installGreeter(f)).wait();
      const accountAddress = await f.account.getAddress();
      const asGreeter = f.greeter.attach(accountAddress) as typeof f.greeter;
      expect(await asGreeter.connect(f.stranger).ping()).to.equal(42n);
      await expect(asGreeter.connect(f.stranger).greet("x"))
        .to.be.revertedWithCustomError(f.account, "AccountUnauthorizedCaller")
        .withArgs(f.stranger.address, f.greeter.interface.getFunction("greet").selector);
    });

    it("reverts with AccountExecutionSelectorConflict when a manifest claims a native selector", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const manifest = {
        executionFunctions: [
          {
            executionSelector: f.account.interface.getFunction("execute").selector,
            skipRuntimeValidation: true,
            allowGlobalValidation: false,
          },
        ],
        executionHooks: [],
        interfaceIds: [],
      };
      const data = f.account.interface.encodeFunctionData("installExecution", [
        f.greeter.target as string,
        manifest,
        "0x",
      ]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.be.revertedWithCustomError(f.account, "AccountExecutionSelectorConflict")
        .withArgs(f.account.interface.getFunction("execute").selector);
    });

    it("reverts with AccountExecutionNotInstalled when uninstalling a module that has no execution install", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const empty = { executionFunctions: [], executionHooks: [], interfaceIds: [] };
      const data = f.account.interface.encodeFunctionData("uninstallExecution", [
        f.ownerModule.target as string,
        empty,
        "0x",
      ]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.be.revertedWithCustomError(f.account, "AccountExecutionNotInstalled")
        .withArgs(f.ownerModule.target);
      expect(await f.account.isModuleInstalled(f.ownerModule.target as string)).to.equal(true);
    });

    it("reverts with AccountExecutionManifestMismatch when uninstalling with another manifest than installed", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installGreeter(f)).wait();
      const partial = { executionFunctions: [], executionHooks: [], interfaceIds: [] };
      const data = f.account.interface.encodeFunctionData("uninstallExecution", [
        f.greeter.target as string,
        partial,
        "0x",
      ]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.be.revertedWithCustomError(f.account, "AccountExecutionManifestMismatch")
        .withArgs(f.greeter.target);
      expect(await f.account.isModuleInstalled(f.greeter.target as string)).to.equal(true);
    });

    it("removes the functions and the interface on uninstall", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      await (await installGreeter(f)).wait();
      const manifest = await f.greeter.executionManifest();
      const data = f.account.interface.encodeFunctionData("uninstallExecution", [
        f.greeter.target as string,
        manifest,
        "0x00",
      ]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f))).to.emit(
        f.account,
        "ExecutionUninstalled",
      );
      expect(await f.account.supportsInterface(await f.greeter.GREETER_INTERFACE_ID())).to.equal(false);
      const asGreeter = f.greeter.attach(await f.account.getAddress()) as typeof f.greeter;
      await expect(asGreeter.connect(f.stranger).ping())
        .to.be.revertedWithCustomError(f.account, "AccountUnrecognizedFunction")
        .withArgs(f.greeter.interface.getFunction("ping").selector);
    });
  });

  describe("upgrade", function () {
    const IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc";

    it("lets the owner upgrade the implementation", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const next = await ethers.deployContract("ModularAccount", [f.entryPoint.target as string]);
      const data = f.account.interface.encodeFunctionData("upgradeToAndCall", [next.target as string, "0x"]);
      await expect(f.account.connect(f.owner).executeWithRuntimeValidation(data, ownerAuthorization(f)))
        .to.emit(f.account, "Upgraded")
        .withArgs(next.target);
      const slot = await ethers.provider.getStorage(await f.account.getAddress(), IMPLEMENTATION_SLOT);
      expect(ethers.getAddress(ethers.dataSlice(slot, 12))).to.equal(next.target);
    });

    it("refuses an upgrade by a non-owner, on the runtime path and by a direct call", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const next = await ethers.deployContract("ModularAccount", [f.entryPoint.target as string]);
      const data = f.account.interface.encodeFunctionData("upgradeToAndCall", [next.target as string, "0x"]);
      await expect(
        f.account.connect(f.stranger).executeWithRuntimeValidation(data, ownerAuthorization(f)),
      ).to.be.revertedWithCustomError(f.ownerModule, "OwnerValidationUnauthorized");
      await expect(f.account.connect(f.stranger).upgradeToAndCall(next.target as string, "0x"))
        .to.be.revertedWithCustomError(f.account, "AccountUnauthorizedCaller")
        .withArgs(f.stranger.address, f.account.interface.getFunction("upgradeToAndCall").selector);
      const slot = await ethers.provider.getStorage(await f.account.getAddress(), IMPLEMENTATION_SLOT);
      expect(ethers.getAddress(ethers.dataSlice(slot, 12))).to.equal(f.implementation.target);
    });

    it("refuses an upgrade in an op signed by a non-owner", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      const next = await ethers.deployContract("ModularAccount", [f.entryPoint.target as string]);
      const callData = f.account.interface.encodeFunctionData("upgradeToAndCall", [next.target as string, "0x"]);
      await expect(sendOp(ethers, f.entryPoint, await ownerOp(f, callData, f.stranger)))
        .to.be.revertedWithCustomError(f.entryPoint, "FailedOp")
        .withArgs(0n, "AA24 signature error");
      const slot = await ethers.provider.getStorage(await f.account.getAddress(), IMPLEMENTATION_SLOT);
      expect(ethers.getAddress(ethers.dataSlice(slot, 12))).to.equal(f.implementation.target);
    });
  });

  describe("execution reverts", function () {
    it("bubbles the callee's revert data into UserOperationRevertReason", async function () {
      const f = await networkHelpers.loadFixture(accountFixture);
      // Calling the owner module's transferOwnership with a zero owner reverts with OwnerValidationZeroOwner.
      const inner = f.ownerModule.interface.encodeFunctionData("transferOwnership", [0, ZeroAddress]);
      const callData = f.account.interface.encodeFunctionData("execute", [f.ownerModule.target as string, 0n, inner]);
      const receipt = await sendOp(ethers, f.entryPoint, await ownerOp(f, callData));
      expect(opSucceeded(f.entryPoint, receipt)).to.equal(false);
      expect(opRevertData(f.entryPoint, receipt)).to.equal(
        f.ownerModule.interface.encodeErrorResult("OwnerValidationZeroOwner", []),
      );
    });
  });
});
