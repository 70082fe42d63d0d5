/**
 * Fuzzes the range check of validate.ts against a BigInt oracle: for every ranged command, a
 * request is in range exactly when offset + length ≤ size computed in BigInt, whatever the
 * representation of offset and size (number below 2^53, bigint past it, or a bigint holding a
 * small value), with offsets near 2^32, 2^53, 2^63 and 2^64 and lengths at 0, 1 and 2^32-1.
 * Offsets reach validate through the real codec, as they do in the server.
 *
 * Seeds and runs (see harness.ts to scale with FUZZ_RUNS or replay with FUZZ_SEED/FUZZ_PATH):
 *   range decision equals the oracle   seed 0x7a11d001  numRuns 3000
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Offset } from "../../src/api/plugin.ts";
import { Codec } from "../../src/protocol/codec.ts";
import { CMD, NBD_ERR, TX_FLAG } from "../../src/protocol/constants.ts";
import { validateRequest } from "../../src/connection/validate.ts";
import { runs, TIMEOUT, u32Edge, u64Edge, wireOf } from "./harness.ts";

const ALL_TX = 0xffff & ~TX_FLAG.READ_ONLY;
const MAX_SIZE = (1n << 63n) - 1n;

const sizeArb = fc.oneof(
  fc.constantFrom(0n, 1n, 512n, 1n << 32n, (1n << 53n) - 1n, 1n << 53n, MAX_SIZE),
  u64Edge.map((v) => v & MAX_SIZE),
);

/** A size as a plugin could give it: exact number while safe, else bigint; or bigint anyway. */
function asOffset(value: bigint, forceBig: boolean): Offset {
  return !forceBig && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

describe("fuzz: validate", () => {
  test("the range decision equals offset + length ≤ size computed in BigInt", () => {
    const ranged = [
      CMD.READ,
      CMD.WRITE,
      CMD.TRIM,
      CMD.CACHE,
      CMD.WRITE_ZEROES,
      CMD.BLOCK_STATUS,
    ] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...ranged),
        u64Edge,
        u32Edge,
        sizeArb,
        fc.boolean(),
        fc.boolean(),
        (type, offset, length, size, bigSize, bigOffset) => {
          const codec = new Codec();
          codec.setPhase("transmission");
          // WRITE would wait for its payload: decode its header as a READ, then retype it.
          codec.receive(wireOf({ type: CMD.READ, flags: 0, cookie: 1n, offset, length }));
          const event = codec.next();
          if (event.kind !== "request") throw new Error(`expected a request, got ${event.kind}`);
          const req = { ...event.request, type };
          if (bigOffset) req.offset = BigInt(req.offset);
          const error = validateRequest(req, {
            size: asOffset(size, bigSize),
            flags: ALL_TX,
            structuredReplies: true,
            extendedHeaders: false,
            baseAllocation: true,
            maxPayload: 64 * 1024 * 1024,
          });
          const oracle = length > 0 && offset + BigInt(length) <= size;
          const outOfRange = type === CMD.WRITE || type === CMD.WRITE_ZEROES
            ? NBD_ERR.ENOSPC
            : NBD_ERR.EINVAL;
          if (!oracle) expect(error).toBe(outOfRange);
          else if ((type === CMD.READ || type === CMD.WRITE) && length > 64 * 1024 * 1024) {
            expect(error).toBe(NBD_ERR.ENOMEM);
          } else expect(error).toBe(NBD_ERR.SUCCESS);
        },
      ),
      runs(0x7a11d001, 3000),
    );
  }, TIMEOUT);
});
