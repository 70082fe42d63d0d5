/**
 * What the socket fuzzer (socket-fuzz.test.ts) needs for extended headers: a valid handshake
 * that agrees them, generated 32-byte requests (64-bit lengths at the 2^32, 2^53 and 2^63 edges,
 * PAYLOAD_LEN that lies about what follows, BLOCK_STATUS payloads of random context ids and
 * effect lengths, unknown commands and flags), and a check of what the server sends back: the
 * option replies, then only well-formed extended chunks, one per request at most, each no
 * larger than its type allows.
 */

import fc from "fast-check";
import { expect } from "vitest";
import { CMD, CMD_FLAG, OPT, REP, REPLY_FLAG, REPLY_TYPE } from "../../src/protocol/constants.ts";
import {
  ByteReader,
  concat,
  infoData,
  metaContextData,
  u32,
  u64,
  WIRE,
  wireExtendedRequest,
  wireOption,
} from "../helpers/wire.ts";
import { skipOptionReplies, u64Edge } from "./harness.ts";

/** One extended request as sent: the header's length may lie about the payload that follows. */
export interface ExtReq {
  type: number;
  flags: number;
  cookie: bigint;
  offset: bigint;
  /** The header's 64-bit length. */
  length: bigint;
  payload: Uint8Array;
}

/** Client flags, EXTENDED_HEADERS, SET_META_CONTEXT base:allocation and GO: three options. */
export const EXTENDED_HELLO = concat(
  u32(3),
  wireOption(OPT.EXTENDED_HEADERS),
  wireOption(OPT.SET_META_CONTEXT, metaContextData("", ["base:allocation"])),
  wireOption(OPT.GO, infoData("")),
);
const HELLO_OPTIONS = 3;

/** The most descriptors one BLOCK_STATUS_EXT reply may hold (qemu-nbd's cap, nbdts' too). */
const MAX_DESCRIPTORS = 128 * 1024;
/** The largest READ the server answers with data (its default maximum payload). */
const MAX_PAYLOAD = 64 * 1024 * 1024;

/** A BLOCK_STATUS payload: well formed (8 + 4n bytes) with ids near base:allocation's, or not. */
const statusPayloadArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.record({
    effect: fc.oneof(u64Edge, fc.bigInt(0n, 1n << 20n)),
    ids: fc.array(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.nat({ max: 2 ** 32 - 1 })), {
      maxLength: 8,
    }),
  }).map(({ effect, ids }) => concat(u64(effect), ...ids.map((id) => u32(id)))),
  fc.uint8Array({ maxLength: 40 }),
);

/** How the header's length relates to the payload sent: the truth, or a lie either way. */
const lengthArb = (payload: number): fc.Arbitrary<bigint> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(BigInt(payload)) },
    { weight: 1, arbitrary: fc.bigInt(0n, BigInt(payload) + 64n) },
    { weight: 1, arbitrary: u64Edge },
  );

/** One request for a disk of `size` bytes, from the commands' and flags' whole range. */
export function extReqArb(size: bigint): fc.Arbitrary<Omit<ExtReq, "cookie">> {
  const type = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(0, 1, 3, 4, 5, 6, 7) },
    { weight: 1, arbitrary: fc.integer({ min: 8, max: 0xffff }) },
  );
  const flags = fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.constant(CMD_FLAG.PAYLOAD_LEN) },
    { weight: 2, arbitrary: fc.nat(0x3f) },
    { weight: 1, arbitrary: fc.nat(0xffff) },
  );
  const offset = fc.oneof(
    { weight: 3, arbitrary: fc.bigInt(0n, size) },
    { weight: 1, arbitrary: fc.bigInt(size - 4096n, size + 4096n) },
    { weight: 2, arbitrary: u64Edge },
  );
  return fc.record({ type, flags, offset }).chain((r) => {
    const withPayload = (r.flags & CMD_FLAG.PAYLOAD_LEN) !== 0 || r.type === CMD.WRITE;
    const payload = !withPayload
      ? fc.constant(new Uint8Array(0))
      : r.type === CMD.BLOCK_STATUS
      ? statusPayloadArb
      : fc.uint8Array({ maxLength: 2048 }).map((p) => p.fill(0x5a));
    return payload.chain((p) =>
      (withPayload ? lengthArb(p.length) : fc.oneof(u64Edge, fc.bigInt(0n, 1n << 20n))).map(
        (length) => ({ ...r, length, payload: p }),
      )
    );
  });
}

/** Requests with distinct cookies, as in harness.ts' requestsArb. */
export function extReqsArb(size: bigint, max = 10): fc.Arbitrary<ExtReq[]> {
  return fc.array(extReqArb(size), { maxLength: max }).map((list) =>
    list.map((r, i) => ({ ...r, cookie: (BigInt(i + 1) << 32n) | BigInt(0xe0de0000 + i) }))
  );
}

export function wireOfExt(req: ExtReq): Uint8Array {
  return wireExtendedRequest({ ...req, payload: req.payload });
}

/**
 * Checks what the server sent for EXTENDED_HELLO and the requests after it: the greeting, the
 * option replies ending in GO's ACK, then well-formed extended chunks only, each final, of a
 * known type with a payload that type allows, never two for one cookie. With `cookies` (the
 * stream was not damaged) each must name one of them. Returns the chunks by cookie.
 */
export function checkExtendedAnswer(
  received: Uint8Array,
  cookies?: ReadonlySet<bigint>,
): Map<bigint, { type: number; payload: Uint8Array }> {
  const r = new ByteReader(received);
  r.take(18);
  expect(skipOptionReplies(r, HELLO_OPTIONS), "GO is acknowledged").toBe(REP.ACK);
  const chunks = new Map<bigint, { type: number; payload: Uint8Array }>();
  while (r.left > 0) {
    expect(r.u32(), "only extended reply chunks after extended headers").toBe(WIRE.EXTENDED_REPLY);
    expect(r.u16(), "one final chunk per reply").toBe(REPLY_FLAG.DONE);
    const type = r.u16();
    const cookie = r.u64();
    r.u64(); // the request's offset
    const length = r.u64();
    expect(length <= BigInt(MAX_PAYLOAD + 8 + 32), `chunk of ${length} bytes`).toBe(true);
    const payload = r.take(Number(length));
    expect(chunks.has(cookie), `two replies for cookie ${cookie}`).toBe(false);
    if (cookies) expect(cookies.has(cookie), `a reply for unknown cookie ${cookie}`).toBe(true);
    checkPayload(type, payload);
    chunks.set(cookie, { type, payload });
  }
  return chunks;
}

/** The payload each chunk type allows. */
function checkPayload(type: number, payload: Uint8Array): void {
  const p = new ByteReader(payload);
  switch (type) {
    case REPLY_TYPE.NONE:
      return void expect(payload.length).toBe(0);
    case REPLY_TYPE.OFFSET_DATA:
      return void expect(payload.length).toBeGreaterThan(8);
    case REPLY_TYPE.OFFSET_HOLE:
      return void expect(payload.length).toBe(12);
    case REPLY_TYPE.BLOCK_STATUS_EXT: {
      p.u32();
      const count = p.u32();
      expect(count).toBeGreaterThanOrEqual(1);
      expect(count).toBeLessThanOrEqual(MAX_DESCRIPTORS);
      expect(p.left).toBe(16 * count);
      for (let i = 0; i < count; i++) {
        expect(p.u64() > 0n, "a descriptor of no length").toBe(true);
        p.u64();
      }
      return;
    }
    case REPLY_TYPE.ERROR:
    case REPLY_TYPE.ERROR_OFFSET: {
      expect(p.u32()).not.toBe(0);
      p.take(p.u16());
      if (type === REPLY_TYPE.ERROR_OFFSET) p.u64();
      return void expect(p.left, "an error chunk's exact length").toBe(0);
    }
    default:
      throw new Error(`unexpected chunk type 0x${type.toString(16)}`);
  }
}

/**
 * Whether `sent` holds, at any alignment, an extended WRITE, TRIM or WRITE_ZEROES header whose
 * range meets [at, at + length): the server may then rightly change those bytes.
 */
export function mayChange(sent: Uint8Array, at: bigint, length: number): boolean {
  const view = new DataView(sent.buffer, sent.byteOffset, sent.byteLength);
  const end = at + BigInt(length);
  for (let i = 0; i + 32 <= sent.length; i++) {
    if (view.getUint32(i) !== WIRE.EXTENDED_REQUEST) continue;
    const type = view.getUint16(i + 6);
    if (type !== CMD.WRITE && type !== CMD.TRIM && type !== CMD.WRITE_ZEROES) continue;
    const offset = view.getBigUint64(i + 16);
    if (offset < end && offset + view.getBigUint64(i + 24) > at) return true;
  }
  return false;
}
