/**
 * A session's nonce lanes (client/session.ts, issue 17): the key of lane 0 is the session's ModuleEntity, each lane
 * changes only the 16 lane bits, and a key is read back to its lane only if it is one of the session's.
 */
import { expect } from "chai";

import { encodeModuleEntity } from "../../client/encoding.js";
import { SESSION_NONCE_LANES, sessionNonceKey, sessionNonceLane } from "../../client/session.js";

const MODULE = "0xB201C38a5Ea0e4f5263AFBb0cF7B953004196038";

describe("session nonce lanes", function () {
  it("makes lane 0 the session's ModuleEntity, the key the module always accepted", function () {
    expect(sessionNonceKey(MODULE, 3)).to.equal(BigInt(encodeModuleEntity({ module: MODULE, entityId: 3 })));
  });

  it("changes only bits 32 to 47 of the key from lane to lane, and reads each lane back", function () {
    for (const lane of [1, 2, 255, SESSION_NONCE_LANES - 1]) {
      const key = sessionNonceKey(MODULE, 3, lane);
      expect((key ^ sessionNonceKey(MODULE, 3)) & ~(0xffffn << 32n)).to.equal(0n);
      expect(sessionNonceLane(key, MODULE, 3)).to.equal(lane);
    }
  });

  it("reads no lane from another session's key or a key changed outside the lane bits", function () {
    expect(sessionNonceLane(sessionNonceKey(MODULE, 4), MODULE, 3)).to.equal(undefined);
    expect(sessionNonceLane(sessionNonceKey(MODULE, 3) ^ (1n << 48n), MODULE, 3)).to.equal(undefined);
    expect(sessionNonceLane(0n, MODULE, 3)).to.equal(undefined);
  });

  it("refuses a lane that is not a whole number from 0 to 65,535", function () {
    for (const lane of [-1, 65_536, 1.5]) {
      expect(() => sessionNonceKey(MODULE, 3, lane)).to.throw(RangeError, /not a whole number from 0 to 65535/);
    }
  });
});
