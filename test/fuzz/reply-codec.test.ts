/**
 * Fuzzes the client's sans-I/O decoder (protocol/reply-codec.ts) with what a server sends in
 * transmission, written by the server's own encoders: simple replies (READ data, errors) and
 * structured chunks (OFFSET_DATA, OFFSET_HOLE, BLOCK_STATUS, ERROR); and, once extended headers
 * are agreed, the same as extended chunks only (a simple reply becomes a whole OFFSET_DATA or an
 * ERROR chunk, BLOCK_STATUS becomes BLOCK_STATUS_EXT with lengths up to 2^63 - 1). Streams cut
 * into random chunks decode the same as whole, READ data landing in the same bytes; damaged
 * streams end in a ProtocolError or plain events, never another exception.
 *
 * Seeds and runs (see harness.ts to scale with FUZZ_RUNS or replay with FUZZ_SEED/FUZZ_PATH):
 *   chunkings decode the same          seed 0x0c11e001  numRuns 300   (extended: 0x0c11e003)
 *   damaged reply streams              seed 0x0c11e002  numRuns 500   (extended: 0x0c11e004)
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ProtocolError } from "../../src/api/errors.ts";
import type { Request } from "../../src/protocol/request-header.ts";
import { encodeBlockStatus } from "../../src/protocol/block-status-reply.ts";

import {
  chunkHeaderSize,
  encodeErrorChunk,
  encodeOffsetDataPrefix,
  encodeOffsetHole,
  encodeSimpleReply,
} from "../../src/protocol/replies.ts";
import type { Offset } from "../../src/api/plugin.ts";
import { type ReadTarget, ReplyCodec, type ReplyEvent } from "../../src/protocol/reply-codec.ts";
import { concat } from "../helpers/wire.ts";
import { chunk, cutsArb, mutate, mutationArb, runs, TIMEOUT } from "./harness.ts";

/** Every cookie 1..8 is a READ of 64 bytes at offset 4096 * cookie. */
const READ_LENGTH = 64;
const offsetOf = (cookie: number) => 4096 * cookie;

function request(cookie: number): Request {
  const offset = offsetOf(cookie);
  return {
    flags: 0,
    type: 0,
    cookieHi: 0,
    cookieLo: cookie,
    offset,
    length: READ_LENGTH,
    payload: undefined,
    payloadDropped: false,
    contextIds: undefined,
  };
}

type Reply =
  | { kind: "simple-data"; cookie: number; fill: number }
  | { kind: "simple-error"; cookie: number; error: number }
  | { kind: "data"; cookie: number; at: number; length: number; fill: number }
  | { kind: "hole"; cookie: number; at: number; length: number }
  | { kind: "status"; cookie: number; lengths: Offset[] }
  | { kind: "error"; cookie: number; error: number; message: string };

const cookieArb = fc.integer({ min: 1, max: 8 });
const spanArb = fc.integer({ min: 0, max: READ_LENGTH }).chain((at) =>
  fc.record({ at: fc.constant(at), length: fc.integer({ min: 0, max: READ_LENGTH - at }) })
);
const replyArb: fc.Arbitrary<Reply> = fc.oneof(
  fc.record({ kind: fc.constant("simple-data" as const), cookie: cookieArb, fill: fc.nat(255) }),
  fc.record({
    kind: fc.constant("simple-error" as const),
    cookie: cookieArb,
    error: fc.integer({ min: 1, max: 200 }),
  }),
  fc.tuple(cookieArb, spanArb, fc.nat(255)).map(([cookie, span, fill]) => ({
    kind: "data" as const,
    cookie,
    ...span,
    fill,
  })),
  fc.tuple(cookieArb, spanArb).map(([cookie, span]) => ({
    kind: "hole" as const,
    cookie,
    ...span,
  })),
  fc.record({
    kind: fc.constant("status" as const),
    cookie: cookieArb,
    lengths: fc.array(fc.nat(), { maxLength: 6 }),
  }),
  // Only extended headers carry these; wireOf sends them as 2^32 - 1 in a compact chunk.
  fc.record({
    kind: fc.constant("status" as const),
    cookie: cookieArb,
    lengths: fc.array(fc.bigInt({ min: 2n ** 32n, max: 2n ** 63n - 1n }), { maxLength: 3 }),
  }),
  fc.record({
    kind: fc.constant("error" as const),
    cookie: cookieArb,
    error: fc.integer({ min: 1, max: 200 }),
    message: fc.string({ maxLength: 20 }),
  }),
);

/**
 * The bytes a server sends for one reply, made by the server's encoders; with extended headers
 * a simple reply is sent as what a server would send instead.
 */
function wireOf(reply: Reply, extended: boolean): Uint8Array {
  const req = request(reply.cookie);
  const prefix = chunkHeaderSize(extended) + 8; // header and u64 offset
  switch (reply.kind) {
    case "simple-data": {
      if (extended) {
        return wireOf(
          { kind: "data", cookie: reply.cookie, at: 0, length: 64, fill: reply.fill },
          true,
        );
      }
      const buf = new Uint8Array(16 + READ_LENGTH).fill(reply.fill);
      encodeSimpleReply(buf, 0, req, 0);
      return buf;
    }
    case "simple-error": {
      if (extended) return encodeErrorChunk(req, reply.error, "", true);
      const buf = new Uint8Array(16);
      encodeSimpleReply(buf, 0, req, reply.error);
      return buf;
    }
    case "data": {
      const at = { ...req, offset: offsetOf(reply.cookie) + reply.at };
      const buf = new Uint8Array(prefix + reply.length).fill(reply.fill);
      encodeOffsetDataPrefix(buf, 0, at, reply.length, extended);
      return buf;
    }
    case "hole": {
      const at = { ...req, offset: offsetOf(reply.cookie) + reply.at };
      const buf = new Uint8Array(prefix + 4);
      encodeOffsetHole(buf, 0, at, reply.length, extended);
      return buf;
    }
    case "status": {
      const lengths = extended
        ? reply.lengths
        : reply.lengths.map((length) => typeof length === "number" ? length : 0xffffffff);
      return encodeBlockStatus(req, 1, lengths, lengths.map(() => 3), extended);
    }
    case "error":
      return encodeErrorChunk(req, reply.error, reply.message, extended);
  }
}

/** Decodes `pieces` with fresh READ buffers; the events (copied) and the buffers' bytes. */
function decode(pieces: readonly Uint8Array[], extended: boolean) {
  const buffers = new Map<number, Uint8Array>();
  const bufferOf = (cookie: number) => {
    if (cookie < 1 || cookie > 8) return undefined;
    if (!buffers.has(cookie)) buffers.set(cookie, new Uint8Array(READ_LENGTH));
    return buffers.get(cookie)!;
  };
  const target: ReadTarget = {
    simple: (cookie) => bufferOf(cookie.cookieLo),
    offsetData(cookie, offset, length) {
      const buffer = bufferOf(cookie.cookieLo);
      const at = Number(offset) - offsetOf(cookie.cookieLo);
      if (!buffer || at < 0 || at + length > READ_LENGTH) return undefined;
      return buffer.subarray(at, at + length);
    },
  };
  const codec = new ReplyCodec(target, 1 << 20);
  codec.setPhase("transmission", false, extended);
  const events: unknown[] = [];
  for (const piece of [...pieces, new Uint8Array(0)]) {
    codec.receive(piece);
    for (let event = codec.next(); event.kind !== "need-data"; event = codec.next()) {
      events.push(structuredClone(event as ReplyEvent));
      if (event.kind === "closed") break;
    }
    codec.detach();
  }
  return { events, buffers: [...buffers.entries()].sort(([a], [b]) => a - b) };
}

describe.each([
  { headers: "compact", extended: false, seeds: [0x0c11e001, 0x0c11e002] },
  { headers: "extended", extended: true, seeds: [0x0c11e003, 0x0c11e004] },
])("the client's reply decoder, $headers headers", ({ extended, seeds }) => {
  test("any stream of replies decodes the same whole and cut into random chunks", () => {
    fc.assert(
      fc.property(fc.array(replyArb, { maxLength: 20 }), cutsArb, (replies, cuts) => {
        const wire = concat(...replies.map((reply) => wireOf(reply, extended)));
        const whole = decode(wire.length === 0 ? [] : [wire], extended);
        const cut = decode(chunk(wire, cuts).filter((piece) => piece.length > 0), extended);
        expect(cut).toEqual(whole);
        const chunks = whole.events.filter((e) => (e as { kind: string }).kind !== "closed");
        expect(chunks.length).toBe(replies.length);
      }),
      runs(seeds[0], 300),
    );
  }, TIMEOUT);

  test("a damaged stream ends in a ProtocolError or plain events, never another exception", () => {
    fc.assert(
      fc.property(
        fc.array(replyArb, { minLength: 1, maxLength: 12 }),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        cutsArb,
        (replies, mutations, cuts) => {
          const wire = mutate(
            concat(...replies.map((reply) => wireOf(reply, extended))),
            mutations,
          );
          try {
            decode(chunk(wire, cuts).filter((piece) => piece.length > 0), extended);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
          }
        },
      ),
      runs(seeds[1], 500),
    );
  }, TIMEOUT);
});
