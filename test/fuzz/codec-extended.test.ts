/**
 * Fuzzes the decoder of extended headers (NBD_OPT_EXTENDED_HEADERS): 32-byte requests with
 * 64-bit lengths, payloads announced by PAYLOAD_LEN. Streams cut anywhere decode the same as
 * whole; lengths at the 2^32, 2^53 and 2^63 edges come out exact (a number below 2^53, a bigint
 * past it); a PAYLOAD_LEN that lies (more than is sent, more than can be skipped) ends in a
 * ProtocolError or waits for bytes, never in another exception or an allocation past the cap.
 *
 * Seeds and runs (see harness.ts to scale with FUZZ_RUNS or replay with FUZZ_SEED/FUZZ_PATH):
 *   extended chunkings decode the same     seed 0x0e4de001  numRuns 300
 *   extended lengths decode exactly        seed 0x0e4de002  numRuns 1000
 *   PAYLOAD_LEN lies are contained         seed 0x0e4de003  numRuns 500
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ProtocolError } from "../../src/api/errors.ts";
import { Codec, type Event, type Request } from "../../src/protocol/codec.ts";
import { LIMITS } from "../../src/protocol/limits.ts";
import { CMD, CMD_FLAG } from "../../src/protocol/constants.ts";
import { concat, u32, u64, wireExtendedRequest } from "../helpers/wire.ts";
import { chunk, cutsArb, runs, TIMEOUT, u64Edge } from "./harness.ts";

const CAP = LIMITS.DEFAULT_MAX_PAYLOAD;

interface ExtReq {
  type: number;
  flags: number;
  cookie: bigint;
  offset: bigint;
  length: bigint;
  payload?: Uint8Array;
}

/** Requests a client with extended headers may send: payloads on WRITE and BLOCK_STATUS. */
const extReqArb: fc.Arbitrary<ExtReq> = fc.oneof(
  fc.record({
    type: fc.constantFrom(CMD.READ, CMD.TRIM, CMD.WRITE_ZEROES, CMD.CACHE, CMD.BLOCK_STATUS),
    flags: fc.integer({ min: 0, max: 0x1f }),
    cookie: fc.bigInt(0n, (1n << 64n) - 1n),
    offset: u64Edge,
    length: u64Edge,
  }),
  fc.record({
    type: fc.constant(CMD.WRITE),
    flags: fc.constantFrom(CMD_FLAG.PAYLOAD_LEN, CMD_FLAG.PAYLOAD_LEN | CMD_FLAG.FUA, 0),
    cookie: fc.bigInt(0n, (1n << 64n) - 1n),
    offset: u64Edge,
    payload: fc.uint8Array({ minLength: 1, maxLength: 3000 }),
  }).map((r) => ({ ...r, length: BigInt(r.payload.length) })),
  fc.record({
    type: fc.constant(CMD.BLOCK_STATUS),
    flags: fc.constant(CMD_FLAG.PAYLOAD_LEN),
    cookie: fc.bigInt(0n, (1n << 64n) - 1n),
    offset: u64Edge,
    effect: u64Edge,
    ids: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 5 }),
  }).map(({ effect, ids, ...r }) => {
    const payload = concat(u64(effect), ...ids.map((id) => u32(id)));
    return { ...r, length: BigInt(payload.length), payload };
  }),
);

function wire(req: ExtReq): Uint8Array {
  return wireExtendedRequest({ ...req, payload: req.payload });
}

/** A plain copy of a decoded request, with exact bigint fields for comparing. */
function plain(request: Request) {
  return {
    type: request.type,
    flags: request.flags,
    cookie: (BigInt(request.cookieHi) << 32n) | BigInt(request.cookieLo),
    offset: BigInt(request.offset),
    length: BigInt(request.length),
    payload: request.payload?.slice(),
    contextIds: request.contextIds,
  };
}

/** Feeds chunks as the session does; the events decoded, or the error that ended it. */
function decode(chunks: Uint8Array[], allocations: number[] = []) {
  const codec = new Codec((size) => {
    allocations.push(size);
    return new Uint8Array(size);
  });
  codec.setPhase("transmission", true);
  const events: ReturnType<typeof plain>[] = [];
  try {
    // An empty chunk is the end of the stream: the session never passes one before it.
    for (const piece of [...chunks.filter((c) => c.length > 0), new Uint8Array(0)]) {
      codec.receive(piece.slice());
      for (let event: Event = codec.next(); event.kind !== "need-data"; event = codec.next()) {
        if (event.kind === "closed") return { events, error: undefined };
        if (event.kind === "request") events.push(plain(event.request));
      }
      codec.detach();
    }
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

describe("fuzz: extended headers in the codec", () => {
  test("extended request streams cut into random chunks decode the same as whole", () => {
    fc.assert(
      fc.property(fc.array(extReqArb, { minLength: 1, maxLength: 8 }), cutsArb, (reqs, cuts) => {
        const bytes = concat(...reqs.map(wire));
        const whole = decode([bytes]);
        expect(whole.error).toBeUndefined();
        expect(decode(chunk(bytes, cuts))).toEqual(whole);
      }),
      runs(0x0e4de001, 300),
    );
  }, TIMEOUT);

  test("a WRITE, a BLOCK_STATUS payload and a skipped payload split at every byte decode the same", () => {
    const bytes = concat(
      wire({
        type: CMD.WRITE,
        flags: CMD_FLAG.PAYLOAD_LEN,
        cookie: 1n,
        offset: 512n,
        length: 5n,
        payload: new Uint8Array([1, 2, 3, 4, 5]),
      }),
      wire({
        type: CMD.BLOCK_STATUS,
        flags: CMD_FLAG.PAYLOAD_LEN,
        cookie: 2n,
        offset: 0n,
        length: 12n,
        payload: concat(u64(1n << 40n), u32(1)),
      }),
      wire({
        type: CMD.TRIM,
        flags: CMD_FLAG.PAYLOAD_LEN,
        cookie: 3n,
        offset: 0n,
        length: 7n,
        payload: new Uint8Array(7),
      }),
      wire({ type: CMD.FLUSH, flags: 0, cookie: 4n, offset: 0n, length: 0n }),
    );
    const whole = decode([bytes]);
    expect(whole.events.map((e) => [e.cookie, e.length, e.contextIds])).toEqual([
      [1n, 5n, undefined],
      [2n, 1n << 40n, [1]],
      [3n, 7n, undefined],
      [4n, 0n, undefined],
    ]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(decode([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(whole);
    }
  });

  test("64-bit lengths and offsets decode exactly: numbers below 2^53, bigints past it", () => {
    fc.assert(
      fc.property(u64Edge, u64Edge, (offset, length) => {
        const codec = new Codec();
        codec.setPhase("transmission", true);
        codec.receive(wire({ type: CMD.TRIM, flags: 0, cookie: 0n, offset, length }));
        const event = codec.next();
        if (event.kind !== "request") throw new Error(`expected a request, got ${event.kind}`);
        const { request } = event;
        expect(BigInt(request.length)).toBe(length);
        expect(BigInt(request.offset)).toBe(offset);
        expect(typeof request.length).toBe(length < 1n << 53n ? "number" : "bigint");
      }),
      runs(0x0e4de002, 1000),
    );
  });

  test(
    "a PAYLOAD_LEN that lies waits for bytes, or ends in a ProtocolError, and never over-allocates",
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(CMD.WRITE, CMD.BLOCK_STATUS, CMD.TRIM, CMD.READ, 99),
          u64Edge,
          fc.uint8Array({ maxLength: 4096 }),
          cutsArb,
          (type, length, sent, cuts) => {
            const header = wireExtendedRequest({ type, flags: CMD_FLAG.PAYLOAD_LEN, length });
            const allocations: number[] = [];
            const { error } = decode(chunk(concat(header, sent), cuts), allocations);
            if (error !== undefined) expect(error).toBeInstanceOf(ProtocolError);
            for (const size of allocations) expect(size).toBeLessThanOrEqual(CAP);
          },
        ),
        runs(0x0e4de003, 500),
      );
    },
    TIMEOUT,
  );
});
