/**
 * Fuzzes whole connections of a Server on the memory plugin, through the in-memory channel of
 * test/helpers/wire.ts driven like a runtime (pause honoured, read buffer reused): random
 * request streams with interleaved DISC, the same streams damaged, and random or damaged
 * handshakes, each cut into random chunks. Every run checks that no exception escapes data()
 * or end(), that the codec never held more than one chunk of undecoded bytes, that every reply
 * is well formed and answers exactly one outstanding request (one final reply each, none for
 * unknown cookies), that requests without flags get exactly the error a BigInt range oracle
 * predicts, that the server closes the connection once the client does, and that the server
 * still serves a new connection afterwards.
 *
 * Seeds and runs (see harness.ts to scale with FUZZ_RUNS or replay with FUZZ_SEED/FUZZ_PATH):
 *   valid request streams              seed 0x5e55a001  numRuns 150
 *   damaged request streams            seed 0x5e55a002  numRuns 200
 *   random and damaged handshakes      seed 0x5e55a003  numRuns 200
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Server } from "../../src/connection/server.ts";
import { CMD, OPT, REP } from "../../src/protocol/constants.ts";
import {
  ByteReader,
  concat,
  connect,
  errorOf,
  infoData,
  metaContextData,
  type TestConnection,
  u32,
  utf8,
  WIRE,
  wireOption,
} from "../helpers/wire.ts";
import {
  checkHandshake,
  checkReplies,
  chunk,
  cutsArb,
  deliver,
  expectedError,
  type Export,
  handshakeBytes,
  memoryConnection,
  modelRequests,
  mutate,
  mutationArb,
  type Req,
  requestsArb,
  runs,
  skipOptionReplies,
  TIMEOUT,
  wireOfAll,
} from "./harness.ts";

const SIZES = { "1M": 1n << 20n, "9223372036854775807": (1n << 63n) - 1n } as const;
type SizeName = keyof typeof SIZES;
const sizeArb = fc.constantFrom(...(Object.keys(SIZES) as SizeName[]));

/** A request stream for a disk of one of the sizes (offsets clustered near its end too). */
const streamArb = sizeArb.chain((name) =>
  fc.record({
    name: fc.constant(name),
    sr: fc.boolean(),
    ba: fc.boolean(),
    // Offsets below 2^53 keep the generator simple; u64Edge inside reaches past 2^63 anyway.
    reqs: requestsArb(Number(SIZES[name] > 1n << 52n ? 1n << 52n : SIZES[name]), true),
    cuts: cutsArb,
  })
);

function distinctCookies(reqs: readonly Req[]): boolean {
  return new Set(reqs.map((r) => r.cookie)).size === reqs.length;
}

/** A connection opened before the fuzzed one, in transmission, that must outlive it. */
async function bystander(server: Server): Promise<TestConnection> {
  const conn = connect(server);
  await conn.handshake();
  return conn;
}

/** The bystander still reads, and a new connection on the same server negotiates and reads. */
async function stillServes(server: Server, other: TestConnection): Promise<void> {
  for (const conn of [other, connect(server)]) {
    if (conn !== other) await conn.handshake();
    const reply = await conn.roundTrip({ type: CMD.READ, cookie: 42, length: 512 });
    expect(errorOf(reply)).toBe(0);
    conn.end();
    await conn.closed();
  }
}

/** Runs one connection on bytes after a valid handshake; checks everything it can. */
async function runStream(
  name: SizeName,
  sr: boolean,
  ba: boolean,
  requestBytes: Uint8Array,
  cuts: number[],
) {
  const { server, conn } = await memoryConnection(name);
  const other = await bystander(server);
  const { bytes: hello, options } = handshakeBytes(sr, ba);
  const result = await deliver(conn, chunk(concat(hello, requestBytes), cuts));
  expect(result.thrown).toBeUndefined();
  // The session pauses reading as soon as an option or a serialized request makes it busy,
  // so at most the chunk that was being decoded is held.
  expect(result.mostHeld).toBeLessThanOrEqual(result.largestChunk);
  expect(conn.channel.writesAfterClose).toBe(0);

  const r = new ByteReader(conn.channel.bytes());
  expect(r.u64()).toBe(WIRE.NBDMAGIC);
  expect(r.u64()).toBe(WIRE.IHAVEOPT);
  r.u16();
  expect(skipOptionReplies(r, options)).toBe(REP.ACK);
  const ex: Export = { size: SIZES[name], sr, ba: sr && ba };
  const requests = modelRequests(requestBytes);
  return { server, other, ex, requests, replies: r.take(r.left) };
}

describe("fuzz: session", () => {
  test("random request streams, DISC among them, get one well-formed reply each", async () => {
    await fc.assert(
      fc.asyncProperty(streamArb, async ({ name, sr, ba, reqs, cuts }) => {
        const wire = wireOfAll(reqs);
        const run = await runStream(name, sr, ba, wire, cuts);
        const disc = reqs.findIndex((r) => r.type === CMD.DISC);
        expect(run.requests.length).toBe(disc < 0 ? reqs.length : disc);
        const errors = checkReplies(run.replies, run.requests, run.ex);
        for (const req of run.requests) {
          const expected = expectedError(req, run.ex);
          if (expected !== undefined) {
            expect(errors.get(req.cookie), `cookie ${req.cookie}: ${JSON.stringify(show(req))}`)
              .toBe(expected);
          }
        }
        await stillServes(run.server, run.other);
      }),
      runs(0x5e55a001, 150),
    );
  }, TIMEOUT);

  test("damaged request streams close or go on, answering only what was asked", async () => {
    await fc.assert(
      fc.asyncProperty(
        streamArb,
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        async ({ name, sr, ba, reqs, cuts }, mutations) => {
          const wire = mutate(wireOfAll(reqs), mutations);
          fc.pre(distinctCookies(modelRequests(wire)));
          const run = await runStream(name, sr, ba, wire, cuts);
          checkReplies(run.replies, run.requests, run.ex);
          await stillServes(run.server, run.other);
        },
      ),
      runs(0x5e55a002, 200),
    );
  }, TIMEOUT);

  test("random and damaged handshakes get replies to the options sent, in order", async () => {
    const optionArb = fc.oneof(
      fc.constantFrom(
        wireOption(OPT.STRUCTURED_REPLY),
        wireOption(OPT.SET_META_CONTEXT, metaContextData("", ["base:allocation"])),
        wireOption(OPT.LIST_META_CONTEXT, metaContextData("", [])),
        wireOption(OPT.LIST),
        wireOption(OPT.INFO, infoData("", [0, 1, 2, 3])),
        wireOption(OPT.GO, infoData("")),
        wireOption(OPT.GO, infoData("no such export")),
        wireOption(OPT.EXPORT_NAME, utf8("")),
        wireOption(OPT.ABORT),
        wireOption(OPT.STARTTLS),
        wireOption(OPT.EXTENDED_HEADERS),
      ),
      fc.record({ option: fc.nat({ max: 2 ** 32 - 1 }), data: fc.uint8Array({ maxLength: 40 }) })
        .map(({ option, data }) => wireOption(option, data)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(0, 1, 2, 3), fc.nat({ max: 2 ** 32 - 1 })),
        fc.array(optionArb, { maxLength: 40 }),
        requestsArb(1 << 20, true, 6),
        fc.array(mutationArb, { maxLength: 3 }),
        cutsArb,
        async (flags, opts, reqs, mutations, cuts) => {
          const wire = mutate(concat(u32(flags), ...opts, wireOfAll(reqs)), mutations);
          const { server, conn } = await memoryConnection("1M");
          const other = await bystander(server);
          const result = await deliver(conn, chunk(wire, cuts));
          expect(result.thrown).toBeUndefined();
          expect(result.mostHeld).toBeLessThanOrEqual(2 * result.largestChunk);
          expect(conn.channel.writesAfterClose).toBe(0);
          const transmission = checkHandshake(wire, conn.channel.bytes(), SIZES["1M"]);
          if (transmission) {
            const requests = modelRequests(wire.subarray(transmission.at));
            fc.pre(distinctCookies(requests));
            checkReplies(transmission.replies, requests, transmission.ex);
          }
          await stillServes(server, other);
        },
      ),
      runs(0x5e55a003, 200),
    );
  }, TIMEOUT);
});

function show(req: Req) {
  return { ...req, cookie: String(req.cookie), offset: String(req.offset), payload: undefined };
}
