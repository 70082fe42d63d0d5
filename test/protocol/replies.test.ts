import { describe, expect, test } from "vitest";
import type { Request } from "../../src/protocol/codec.ts";
import { CMD, NBD_ERR, REPLY_FLAG, REPLY_TYPE } from "../../src/protocol/constants.ts";
import { encodeBlockStatus } from "../../src/protocol/block-status-reply.ts";
import {
  encodeChunkHeader,
  encodeErrorChunk,
  encodeErrorOffsetChunk,
  encodeOffsetDataPrefix,
  encodeOffsetHole,
  encodeSimpleReply,
  OFFSET_DATA_PREFIX,
  OFFSET_HOLE_REPLY_SIZE,
} from "../../src/protocol/replies.ts";
import {
  ByteReader,
  concat,
  hex,
  parseBlockStatus,
  parseErrorChunk,
  parseOffsetData,
  parseOffsetHole,
  parseReply,
  u32,
} from "../helpers/wire.ts";

const COOKIE = "01 23 45 67 89 AB CD EF";

function request(fields: Partial<Request> = {}): Request {
  return {
    flags: 0,
    type: CMD.READ,
    cookieHi: 0x01234567,
    cookieLo: 0x89abcdef,
    offset: 0,
    length: 4096,
    payload: undefined,
    payloadDropped: false,
    contextIds: undefined,
    ...fields,
  };
}

describe("simple replies", () => {
  test("a successful simple reply is the spec's worked example header", () => {
    const buf = new Uint8Array(16);
    expect(encodeSimpleReply(buf, 0, request(), NBD_ERR.SUCCESS)).toBe(16);
    expect(buf).toEqual(hex(`67 44 66 98  00 00 00 00  ${COOKIE}`));
  });

  test("a simple reply is written at the offset given, leaving the rest alone", () => {
    const buf = new Uint8Array(20).fill(0xaa);
    encodeSimpleReply(buf, 2, request(), NBD_ERR.ENOSPC);
    expect(buf.subarray(0, 2)).toEqual(hex("AA AA"));
    expect(buf.subarray(2, 18)).toEqual(hex(`67 44 66 98  00 00 00 1C  ${COOKIE}`));
    expect(buf.subarray(18)).toEqual(hex("AA AA"));
  });
});

describe("structured chunks", () => {
  test("a chunk header holds magic, flags, type, cookie and payload length", () => {
    const buf = new Uint8Array(20);
    expect(encodeChunkHeader(buf, 0, request(), REPLY_FLAG.DONE, REPLY_TYPE.NONE, 0)).toBe(20);
    expect(buf).toEqual(hex(`66 8E 33 EF  00 01  00 00  ${COOKIE}  00 00 00 00`));
  });

  test("an OFFSET_DATA prefix is the spec's worked example for READ 4096 @ 0", () => {
    const buf = new Uint8Array(OFFSET_DATA_PREFIX + 4096);
    expect(encodeOffsetDataPrefix(buf, 0, request(), 4096)).toBe(28);
    expect(buf.subarray(0, 28)).toEqual(
      hex(`66 8E 33 EF  00 01  00 01  ${COOKIE}  00 00 10 08  00 00 00 00 00 00 00 00`),
    );
  });

  test("OFFSET_DATA carries the request offset exactly past 2^53", () => {
    const offset = (1n << 62n) + 7n;
    const buf = new Uint8Array(OFFSET_DATA_PREFIX + 3);
    buf.set([1, 2, 3], OFFSET_DATA_PREFIX);
    encodeOffsetDataPrefix(buf, 0, request({ offset, length: 3 }), 3);
    const chunk = parseReply(new ByteReader(buf), () => 0);
    if (chunk.kind !== "chunk") throw new Error("not a chunk");
    expect(parseOffsetData(chunk.payload)).toEqual({ offset, data: new Uint8Array([1, 2, 3]) });
  });

  test("an OFFSET_HOLE chunk has a 12-byte payload: offset and size", () => {
    const buf = new Uint8Array(OFFSET_HOLE_REPLY_SIZE);
    expect(encodeOffsetHole(buf, 0, request({ offset: 512 }), 4096)).toBe(32);
    expect(buf).toEqual(
      hex(
        `66 8E 33 EF  00 01  00 02  ${COOKIE}  00 00 00 0C  ${"00 ".repeat(6)} 02 00  00 00 10 00`,
      ),
    );
    expect(parseOffsetHole(buf.subarray(20))).toEqual({ offset: 512n, size: 4096 });
  });

  test("an ERROR chunk without a message is the spec's worked example", () => {
    expect(encodeErrorChunk(request(), NBD_ERR.EINVAL, "")).toEqual(
      hex(`66 8E 33 EF  00 01  80 01  ${COOKIE}  00 00 00 06  00 00 00 16  00 00`),
    );
  });

  test("an ERROR chunk's payload length counts its message", () => {
    const buf = encodeErrorChunk(request(), NBD_ERR.EIO, "disk on fire");
    const chunk = parseReply(new ByteReader(buf), () => 0);
    expect(chunk).toMatchObject({ kind: "chunk", type: REPLY_TYPE.ERROR, flags: 1 });
    if (chunk.kind !== "chunk") throw new Error("not a chunk");
    expect(chunk.payload.length).toBe(6 + 12);
    expect(parseErrorChunk(chunk.payload)).toEqual({ error: 5, message: "disk on fire" });
  });

  test("an ERROR chunk's message is cut to 4096 bytes", () => {
    const buf = encodeErrorChunk(request(), NBD_ERR.EIO, "x".repeat(5000));
    expect(buf.length).toBe(20 + 6 + 4096);
    expect(parseErrorChunk(buf.subarray(20)).message).toBe("x".repeat(4096));
  });

  test("an ERROR_OFFSET chunk carries error, message and then the offset", () => {
    const buf = encodeErrorOffsetChunk(request(), NBD_ERR.EIO, "bad", (1n << 60n) + 1n);
    expect(buf).toEqual(
      concat(
        hex(`66 8E 33 EF  00 01  80 02  ${COOKIE}  00 00 00 11  00 00 00 05  00 03`),
        new TextEncoder().encode("bad"),
        hex("10 00 00 00 00 00 00 01"),
      ),
    );
  });

  test("a BLOCK_STATUS chunk is the spec's worked example: context 1, 65536 bytes HOLE|ZERO", () => {
    expect(encodeBlockStatus(request({ type: CMD.BLOCK_STATUS }), 1, [65536], [3])).toEqual(
      hex(
        `66 8E 33 EF  00 01  00 05  ${COOKIE}  00 00 00 0C  00 00 00 01  00 01 00 00  00 00 00 03`,
      ),
    );
  });

  test("a BLOCK_STATUS chunk holds every descriptor in order", () => {
    const buf = encodeBlockStatus(request(), 1, [512, 0xffffffff], [0, 1]);
    expect(buf.subarray(16, 20)).toEqual(u32(4 + 16));
    expect(parseBlockStatus(buf.subarray(20))).toEqual({
      id: 1,
      descriptors: [{ length: 512, status: 0 }, { length: 0xffffffff, status: 1 }],
    });
  });

  test("the cookie is echoed as the same eight bytes in every reply shape", () => {
    const req = request({ cookieHi: 0xffffffff, cookieLo: 0 });
    const cookie = concat(u32(0xffffffff), u32(0));
    const simple = new Uint8Array(16);
    encodeSimpleReply(simple, 0, req, 0);
    expect(simple.subarray(8, 16)).toEqual(cookie);
    expect(encodeErrorChunk(req, 5, "").subarray(8, 16)).toEqual(cookie);
    expect(encodeBlockStatus(req, 1, [1], [0]).subarray(8, 16)).toEqual(cookie);
  });
});
