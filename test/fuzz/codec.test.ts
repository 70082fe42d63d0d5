/**
 * Fuzzes the sans-I/O decoder alone: request and option streams cut into random chunks decode
 * the same as whole, even when the caller reuses its buffers after detach(); damaged streams
 * end in a ProtocolError or plain events, never another exception; and the codec never holds
 * undecoded bytes once it asks for more, nor allocates past the 64 MiB cap.
 *
 * Seeds and runs (see harness.ts to scale with FUZZ_RUNS or replay with FUZZ_SEED/FUZZ_PATH):
 *   chunkings decode the same          seed 0x0c0dec01  numRuns 300
 *   detach survives buffer reuse       seed 0x0c0dec02  numRuns 200
 *   damaged request streams            seed 0x0c0dec03  numRuns 500
 *   damaged option streams             seed 0x0c0dec04  numRuns 500
 *   u64 offsets decode exactly         seed 0x0c0dec05  numRuns 1000
 *   WRITE lengths against the caps     seed 0x0c0dec06  numRuns 60
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ProtocolError } from "../../src/api/errors.ts";
import { Codec, type Event, type Phase } from "../../src/protocol/codec.ts";
import { LIMITS } from "../../src/protocol/limits.ts";
import { CMD } from "../../src/protocol/constants.ts";
import { concat, u32, wireOption } from "../helpers/wire.ts";
import {
  chunk,
  cutsArb,
  held,
  mutate,
  mutationArb,
  type Req,
  requestsArb,
  runs,
  TIMEOUT,
  u64Edge,
  wireOf,
  wireOfAll,
} from "./harness.ts";

const CAP = LIMITS.DEFAULT_MAX_PAYLOAD;

/** A plain copy of an event, so the codec reusing objects cannot change what we compare. */
function snapshot(event: Event): unknown {
  switch (event.kind) {
    case "request": {
      const { payload, ...rest } = event.request;
      return { kind: "request", ...rest, offset: BigInt(rest.offset), payload: payload?.slice() };
    }
    case "option":
      return { kind: "option", option: event.option, data: event.data.slice() };
    default:
      return { ...event };
  }
}

interface Run {
  events: unknown[];
  error: unknown;
  /** Largest allocation asked of the codec's allocator. */
  largestAllocation: number;
}

/**
 * Feeds chunks as session.ts does (receive, decode until need-data, detach), optionally
 * scribbling over each chunk once detached, then ends the stream. Checks after every
 * need-data that nothing undecoded is held and the gathered header is shorter than one.
 */
function decode(phase: Phase, chunks: Uint8Array[], scribble: boolean): Run {
  let largestAllocation = 0;
  const codec = new Codec((size) => {
    largestAllocation = Math.max(largestAllocation, size);
    return new Uint8Array(size);
  });
  codec.setPhase(phase);
  const events: unknown[] = [];
  const drain = (): boolean => {
    for (;;) {
      const event = codec.next();
      if (event.kind === "need-data") {
        const now = held(codec);
        if (now.unread !== 0 || now.partial >= 28) {
          throw new Error(`codec holds ${now.unread} undecoded bytes, ${now.partial} gathered`);
        }
        return true;
      }
      events.push(snapshot(event));
      if (event.kind === "closed") return false;
    }
  };
  try {
    for (const piece of chunks) {
      const buffer = piece.slice();
      codec.receive(buffer);
      if (!drain()) return { events, error: undefined, largestAllocation };
      codec.detach();
      if (scribble) buffer.fill(0xee);
    }
    codec.receive(new Uint8Array(0));
    drain();
  } catch (error) {
    return { events, error, largestAllocation };
  }
  return { events, error: undefined, largestAllocation };
}

function shortWrite(req: Req): Req {
  if (req.type !== CMD.WRITE || req.length <= 48) return req;
  return { ...req, length: 48, payload: req.payload!.subarray(0, 48) };
}

describe("fuzz: codec", () => {
  test("request streams cut into random chunks decode the same as whole", () => {
    fc.assert(
      fc.property(requestsArb(1 << 20, true), cutsArb, (reqs, cuts) => {
        const wire = wireOfAll(reqs);
        const whole = decode("transmission", [wire], false);
        const cut = decode("transmission", chunk(wire, cuts), false);
        expect(whole.error).toBeUndefined();
        expect(cut).toEqual(whole);
        expect(whole.events.length).toBe(reqs.length + 1); // + closed
      }),
      runs(0x0c0dec01, 300),
    );
  }, TIMEOUT);

  test("a stream split at every byte survives the caller reusing each detached chunk", () => {
    fc.assert(
      fc.property(requestsArb(1 << 20, true, 6), (reqs) => {
        // Short WRITE payloads keep the every-byte loop quadratic in a few hundred bytes only.
        const wire = wireOfAll(reqs.map(shortWrite));
        const whole = decode("transmission", [wire], false);
        for (let cut = 0; cut <= wire.length; cut++) {
          const two = [wire.subarray(0, cut), wire.subarray(cut)].filter((c) => c.length > 0);
          expect(decode("transmission", two, true)).toEqual(whole);
        }
        const bytewise = Array.from(wire, (_, i) => wire.subarray(i, i + 1));
        expect(decode("transmission", bytewise, true)).toEqual(whole);
      }),
      runs(0x0c0dec02, 200),
    );
  }, TIMEOUT);

  test("damaged request streams end in events or a ProtocolError, holding nothing", () => {
    fc.assert(
      fc.property(
        requestsArb(1 << 20, true),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        cutsArb,
        (reqs, mutations, cuts) => {
          const wire = mutate(wireOfAll(reqs), mutations);
          const run = decode("transmission", chunk(wire, cuts), true);
          if (run.error !== undefined) expect(run.error).toBeInstanceOf(ProtocolError);
          expect(run.largestAllocation).toBeLessThanOrEqual(CAP);
          // The same damaged bytes decode the same however they arrive.
          expect(decode("transmission", [wire], false)).toEqual({ ...run, error: run.error });
        },
      ),
      runs(0x0c0dec03, 500),
    );
  }, TIMEOUT);

  test("damaged option streams end in events or a ProtocolError, holding nothing", () => {
    const optionArb = fc.record({
      option: fc.oneof(fc.nat(12), fc.nat({ max: 2 ** 32 - 1 })),
      data: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(
      fc.property(
        fc.array(optionArb, { maxLength: 8 }),
        fc.array(mutationArb, { maxLength: 4 }),
        cutsArb,
        (options, mutations, cuts) => {
          const wire = mutate(
            concat(...options.map((o) => wireOption(o.option, o.data))),
            mutations,
          );
          const run = decode("options", chunk(wire, cuts), true);
          if (run.error !== undefined) expect(run.error).toBeInstanceOf(ProtocolError);
          for (const event of run.events as { kind: string; data?: Uint8Array }[]) {
            if (event.kind === "option") expect(event.data!.length).toBeLessThanOrEqual(CAP);
          }
          if (mutations.length === 0) {
            expect(run.error).toBeUndefined();
            expect(run.events.length).toBe(options.length + 1);
          }
        },
      ),
      runs(0x0c0dec04, 500),
    );
  }, TIMEOUT);

  test("offsets at the 2^32, 2^53 and 2^63 edges decode exactly, as a number only below 2^53", () => {
    fc.assert(
      fc.property(u64Edge, fc.constantFrom(1, 5, 28), (offset, step) => {
        const wire = wireOf({ type: CMD.READ, flags: 0, cookie: offset, offset, length: 1 });
        const run = decode("transmission", chunk(wire, Array(40).fill(step)), true);
        const event = run.events[0] as { offset: bigint; cookieHi: number; cookieLo: number };
        expect(event.offset).toBe(offset);
        expect((BigInt(event.cookieHi) << 32n) | BigInt(event.cookieLo)).toBe(offset);
        // The representation rule of layout.ts: exact numbers below 2^53, bigints from there.
        const codec = new Codec();
        codec.setPhase("transmission");
        codec.receive(wire);
        const next = codec.next();
        if (next.kind !== "request") throw new Error(`expected a request, got ${next.kind}`);
        expect(typeof next.request.offset).toBe(offset < 1n << 53n ? "number" : "bigint");
      }),
      runs(0x0c0dec05, 1000),
    );
  });

  test("WRITE lengths past the caps are skipped or refused, never buffered", () => {
    const lengths = fc.oneof(
      fc.constantFrom(CAP + 1, 2 * CAP, 2 * CAP + 1, 2 ** 32 - 1, 2 ** 31),
      fc.integer({ min: CAP + 1, max: 2 ** 32 - 1 }),
    );
    fc.assert(
      fc.property(lengths, fc.nat(4096), (length, sent) => {
        const header = wireOf({ type: CMD.WRITE, flags: 0, cookie: 7n, offset: 0n, length });
        const run = decode("transmission", [concat(header, new Uint8Array(sent))], true);
        expect(run.largestAllocation).toBe(0);
        expect(run.error).toBeInstanceOf(ProtocolError); // too large, or ended mid-skip
        if (length > 2 * CAP) expect(run.events).toEqual([]);
      }),
      runs(0x0c0dec06, 60),
    );
    // Option data over the cap is refused from its header alone.
    const option = concat(wireOption(7, new Uint8Array(0), { length: CAP + 1 }), u32(0));
    expect(decode("options", [option], false).error).toBeInstanceOf(ProtocolError);
  });
});
