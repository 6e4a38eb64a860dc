/**
 * The tasks' own input handling (packages/hardhat/src/tasks/input.ts): the comma-separated lists Hardhat 3 options
 * take. The owner-input rules the client checks for any tool are tested in test/client/parse.ts.
 */
import { expect } from "chai";

import { splitList } from "../../packages/hardhat/src/tasks/input.js";

const USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";

describe("the tasks' input handling", function () {
  describe("splitList", function () {
    it("splits lists at top-level commas only", function () {
      expect(splitList(`${USDC}:transfer(address,uint256), ${USDC}:receive,`)).to.deep.equal([
        `${USDC}:transfer(address,uint256)`,
        `${USDC}:receive`,
      ]);
    });
  });
});
