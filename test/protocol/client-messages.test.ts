import { describe, expect, test } from "vitest";
import { CMD, CMD_FLAG, INFO, OPT } from "../../src/protocol/constants.ts";
import {
  encodeBlockStatusPayload,
  encodeInfoRequest,
  encodeMetaContextRequest,
  encodeOption,
  encodeRequest,
  parseInfoReply,
  parseServerReply,
  requestHeaderSize,
} from "../../src/protocol/client-messages.ts";
import { parseInfoRequest, parseMetaContextRequest } from "../../src/protocol/handshake.ts";
import { Codec } from "../../src/protocol/codec.ts";
import {
  encodeInfoBlockSize,
  encodeInfoExport,
  encodeServerReply,
} from "../../src/protocol/handshake.ts";
import { concat, hex, u16, u32, u64, utf8, WIRE, wireClientFlags } from "../helpers/wire.ts";

test("option data the client encodes is what the server's parsers read", () => {
  expect(parseInfoRequest(encodeInfoRequest("disk", [INFO.NAME, INFO.BLOCK_SIZE]))).toEqual({
    name: "disk",
    infos: [INFO.NAME, INFO.BLOCK_SIZE],
  });
  expect(parseMetaContextRequest(encodeMetaContextRequest("", ["base:allocation", "qemu:"])))
    .toEqual({
      name: "",
      queries: ["base:allocation", "qemu:"],
    });
});

test("an option and a request the client encodes decode on the server's codec", () => {
  const codec = new Codec();
  const request = new Uint8Array(28);
  encodeRequest(request, 0, {
    flags: 1,
    type: 1,
    cookieHi: 0,
    cookieLo: 42,
    offset: 2 ** 40,
    length: 3,
  });
  codec.receive(concat(wireClientFlags(1), encodeOption(OPT.GO, utf8("xy"))));
  expect(codec.next()).toEqual({ kind: "client-flags", flags: 1 });
  codec.setPhase("options");
  expect(codec.next()).toEqual({ kind: "option", option: OPT.GO, data: utf8("xy") });
  codec.setPhase("transmission");
  codec.receive(concat(request, utf8("abc")));
  expect(codec.next()).toMatchObject({
    kind: "request",
    request: { flags: 1, type: 1, cookieLo: 42, offset: 2 ** 40, length: 3, payload: utf8("abc") },
  });
});

test("INFO and SERVER replies the server encodes parse on the client's side", () => {
  expect(parseInfoReply(encodeInfoExport(2n ** 62n, 0x4d))).toEqual({
    info: INFO.EXPORT,
    size: 2n ** 62n,
    flags: 0x4d,
  });
  expect(parseInfoReply(encodeInfoBlockSize(1, 4096, 33554432))).toEqual({
    info: INFO.BLOCK_SIZE,
    minimum: 1,
    preferred: 4096,
    maximum: 33554432,
  });
  expect(parseServerReply(encodeServerReply("a", "the a disk"))).toEqual({
    name: "a",
    description: "the a disk",
  });
  expect(parseServerReply(concat(u32(9), utf8("ab")))).toBeUndefined();
  expect(parseInfoReply(concat(u64(0)).subarray(0, 1))).toBeUndefined();
});

describe("extended request headers", () => {
  /** The 32 bytes of an extended header the spec lays out, for a length given exactly. */
  function expected(type: number, flags: number, length: bigint): Uint8Array {
    return concat(
      u32(WIRE.EXTENDED_REQUEST),
      u16(flags),
      u16(type),
      u64(7),
      u64(4096),
      u64(length),
    );
  }

  test.each([
    ["2^32 - 1", 2 ** 32 - 1, 2n ** 32n - 1n],
    ["2^32", 2 ** 32, 2n ** 32n],
    ["2^53 - 1", 2 ** 53 - 1, 2n ** 53n - 1n],
    ["2^53", 2n ** 53n, 2n ** 53n],
    ["2^63 - 1", 2n ** 63n - 1n, 2n ** 63n - 1n],
  ])("a length of %s fills all 64 bits of the 32-byte header", (_name, length, exact) => {
    const buf = new Uint8Array(requestHeaderSize(true));
    const fields = { flags: 0, type: CMD.WRITE_ZEROES, cookieHi: 0, cookieLo: 7, offset: 4096 };
    expect(encodeRequest(buf, 0, { ...fields, length }, true)).toBe(32);
    expect(buf).toEqual(expected(CMD.WRITE_ZEROES, 0, exact));
  });

  test("the server's codec decodes them, a WRITE's PAYLOAD_LEN payload after its header", () => {
    const codec = new Codec();
    codec.setPhase("transmission", true);
    const header = new Uint8Array(32);
    const flags = CMD_FLAG.PAYLOAD_LEN | CMD_FLAG.FUA;
    encodeRequest(header, 0, {
      flags,
      type: CMD.WRITE,
      cookieHi: 1,
      cookieLo: 2,
      offset: 2 ** 33,
      length: 3,
    }, true);
    const zero = new Uint8Array(32);
    encodeRequest(zero, 0, {
      flags: 0,
      type: CMD.WRITE_ZEROES,
      cookieHi: 0,
      cookieLo: 3,
      offset: 0,
      length: 2n ** 62n,
    }, true);
    codec.receive(concat(header, utf8("abc"), zero));
    expect(codec.next()).toMatchObject({
      kind: "request",
      request: {
        flags,
        type: CMD.WRITE,
        cookieHi: 1,
        cookieLo: 2,
        length: 3,
        payload: utf8("abc"),
      },
    });
    expect(codec.next()).toMatchObject({
      kind: "request",
      request: { type: CMD.WRITE_ZEROES, cookieLo: 3, length: 2n ** 62n },
    });
  });

  test("a compact header keeps the 28-byte layout", () => {
    expect(requestHeaderSize(false)).toBe(28);
    const buf = new Uint8Array(28);
    const fields = { flags: 0, type: CMD.TRIM, cookieHi: 0, cookieLo: 7, offset: 4096 };
    encodeRequest(buf, 0, { ...fields, length: 2 ** 32 - 1 });
    expect(buf).toEqual(
      concat(u32(WIRE.REQUEST), u16(0), u16(CMD.TRIM), u64(7), u64(4096), hex("FF FF FF FF")),
    );
  });

  test("a BLOCK_STATUS payload is the effect length, then each context id", () => {
    expect(encodeBlockStatusPayload(2n ** 42n, [1])).toEqual(concat(u64(2n ** 42n), u32(1)));
    expect(encodeBlockStatusPayload(512, [1, 7])).toEqual(concat(u64(512), u32(1), u32(7)));
  });
});
