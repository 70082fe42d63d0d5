import { describe, expect, test } from "vitest";
import { INFO, OPT, REP, TX_FLAG } from "../../src/protocol/constants.ts";
import {
  decodeString,
  encodeExportNameReply,
  encodeGreeting,
  encodeInfoBlockSize,
  encodeInfoExport,
  encodeInfoString,
  encodeMetaContextReply,
  encodeOldstyleGreeting,
  encodeOptionReply,
  encodeServerReply,
  parseInfoRequest,
  parseMetaContextRequest,
} from "../../src/protocol/handshake.ts";
import { concat, hex, infoData, metaContextData, u16, u32, u64, utf8 } from "../helpers/wire.ts";

describe("handshake encoders", () => {
  test("the greeting is the 18 bytes of the spec's worked example", () => {
    expect(encodeGreeting()).toEqual(
      hex("4E 42 44 4D 41 47 49 43  49 48 41 56 45 4F 50 54  00 03"),
    );
  });

  test("the oldstyle greeting: NBDMAGIC, cliserv_magic, size, flags, 124 zeroes", () => {
    // nbdkit 1.32.5's bytes for -o memory 1M (flags 0x0d6d), read off the wire.
    const greeting = encodeOldstyleGreeting(1048576, 0x0d6d);
    expect(greeting.length).toBe(152);
    expect(greeting.subarray(0, 28)).toEqual(
      hex("4E 42 44 4D 41 47 49 43  00 00 42 02 81 86 12 53  00 00 00 00 00 10 00 00  00 00 0D 6D"),
    );
    expect(greeting.subarray(28)).toEqual(new Uint8Array(124));
  });

  test("the oldstyle greeting carries a size past 2^53 exactly", () => {
    const greeting = encodeOldstyleGreeting((1n << 63n) - 1n, 0x0507);
    expect(greeting.subarray(16, 28)).toEqual(hex("7F FF FF FF FF FF FF FF  00 00 05 07"));
  });

  test("an ACK to STRUCTURED_REPLY is the spec's worked example", () => {
    expect(encodeOptionReply(OPT.STRUCTURED_REPLY, REP.ACK)).toEqual(
      hex("00 03 E8 89 04 55 65 A9  00 00 00 08  00 00 00 01  00 00 00 00"),
    );
  });

  test("an error reply to an unknown option 0x2A has type ERR_UNSUP and length 0", () => {
    expect(encodeOptionReply(0x2a, REP.ERR_UNSUP)).toEqual(
      hex("00 03 E8 89 04 55 65 A9  00 00 00 2A  80 00 00 01  00 00 00 00"),
    );
  });

  test("an option reply with data carries its length then the data", () => {
    const data = new Uint8Array([9, 8, 7]);
    expect(encodeOptionReply(OPT.LIST, REP.SERVER, data)).toEqual(
      concat(hex("00 03 E8 89 04 55 65 A9  00 00 00 03  00 00 00 02  00 00 00 03"), data),
    );
  });

  test("the EXPORT_NAME reply is 10 bytes with NO_ZEROES and 134 without", () => {
    const flags = TX_FLAG.HAS_FLAGS | TX_FLAG.SEND_FLUSH;
    const short = encodeExportNameReply(1024 * 1024, flags, true);
    expect(short).toEqual(concat(u64(1024 * 1024), u16(flags)));
    const long = encodeExportNameReply(1024 * 1024, flags, false);
    expect(long).toEqual(concat(u64(1024 * 1024), u16(flags), new Uint8Array(124)));
  });

  test("export sizes up to 2^63 - 1 are encoded exactly", () => {
    const size = (1n << 63n) - 1n;
    expect(encodeExportNameReply(size, 1, true)).toEqual(concat(u64(size), u16(1)));
    expect(encodeInfoExport(size, 3)).toEqual(concat(u16(INFO.EXPORT), u64(size), u16(3)));
    expect(encodeInfoExport(2 ** 53 - 1, 3)).toEqual(
      concat(u16(INFO.EXPORT), u64(2 ** 53 - 1), u16(3)),
    );
  });

  test("NBD_INFO_EXPORT is 12 bytes: type 0, size, flags", () => {
    expect(encodeInfoExport(65536, 0x0ded)).toEqual(hex("00 00 00 00 00 00 00 01 00 00 0D ED"));
  });

  test("NBD_INFO_NAME carries the name after its type; an empty name is 2 bytes", () => {
    expect(encodeInfoString(INFO.NAME, "")).toEqual(hex("00 01"));
    expect(encodeInfoString(INFO.NAME, "disk")).toEqual(concat(u16(1), utf8("disk")));
    expect(encodeInfoString(INFO.DESCRIPTION, "é")).toEqual(hex("00 02 C3 A9"));
  });

  test("NBD_INFO_BLOCK_SIZE is 14 bytes: type 3, minimum, preferred, maximum", () => {
    expect(encodeInfoBlockSize(1, 4096, 0xffffffff)).toEqual(
      concat(u16(3), u32(1), u32(4096), u32(0xffffffff)),
    );
  });

  test("NBD_REP_SERVER for the default export is four zero bytes", () => {
    expect(encodeServerReply("")).toEqual(hex("00 00 00 00"));
    expect(encodeServerReply("a", "text")).toEqual(concat(u32(1), utf8("a"), utf8("text")));
  });

  test("NBD_REP_META_CONTEXT is the context id then its name", () => {
    expect(encodeMetaContextReply(1, "base:allocation")).toEqual(
      concat(u32(1), utf8("base:allocation")),
    );
  });
});

describe("handshake string rules", () => {
  test("strings of up to 4096 bytes of UTF-8 without NUL are accepted", () => {
    expect(decodeString(new Uint8Array(0))).toBe("");
    expect(decodeString(utf8("disk/é"))).toBe("disk/é");
    expect(decodeString(new Uint8Array(4096).fill(0x61))).toBe("a".repeat(4096));
  });

  test("strings with NUL, over 4096 bytes or not UTF-8 are refused", () => {
    expect(decodeString(utf8("a\0b"))).toBeUndefined();
    expect(decodeString(new Uint8Array(4097).fill(0x61))).toBeUndefined();
    expect(decodeString(new Uint8Array([0xff, 0xfe]))).toBeUndefined();
  });
});

describe("INFO and GO option data", () => {
  test("a name and a list of info codes are read back", () => {
    expect(parseInfoRequest(infoData(""))).toEqual({ name: "", infos: [] });
    expect(parseInfoRequest(infoData("disk", [INFO.NAME, INFO.BLOCK_SIZE, 99]))).toEqual({
      name: "disk",
      infos: [INFO.NAME, INFO.BLOCK_SIZE, 99],
    });
  });

  const malformed: [string, Uint8Array][] = [
    ["no data", new Uint8Array(0)],
    ["fewer than 6 bytes", hex("00 00 00 00 00")],
    ["a name length past the data (L > N - 6)", concat(u32(3), utf8("abc"), new Uint8Array(1))],
    ["a name length of 2^32 - 1", concat(u32(0xffffffff), u16(0))],
    ["a count promising more codes than sent", concat(u32(0), u16(2), u16(1))],
    ["bytes after the last code", concat(u32(0), u16(1), u16(1), new Uint8Array(1))],
    ["a count of zero with codes after it", concat(u32(0), u16(0), u16(1))],
    ["a name with NUL", concat(u32(3), utf8("a\0b"), u16(0))],
    ["a name over 4096 bytes", concat(u32(4097), new Uint8Array(4097).fill(0x61), u16(0))],
  ];
  for (const [what, data] of malformed) {
    test(`data with ${what} is malformed`, () => {
      expect(parseInfoRequest(data)).toBeUndefined();
    });
  }
});

describe("LIST_META_CONTEXT and SET_META_CONTEXT option data", () => {
  test("a name and its queries are read back", () => {
    expect(parseMetaContextRequest(metaContextData("", []))).toEqual({ name: "", queries: [] });
    expect(parseMetaContextRequest(metaContextData("disk", ["base:", "base:allocation"])))
      .toEqual({ name: "disk", queries: ["base:", "base:allocation"] });
  });

  test("bytes after the last query are ignored, as nbdkit does", () => {
    const data = concat(metaContextData("", ["base:allocation"]), hex("01 02 03"));
    expect(parseMetaContextRequest(data)).toEqual({ name: "", queries: ["base:allocation"] });
  });

  const malformed: [string, Uint8Array][] = [
    ["fewer than 8 bytes", hex("00 00 00 00 00 00 00")],
    ["a name length past the data (L > N - 8)", concat(u32(4), utf8("abcd"), u16(0))],
    ["a count promising more queries than sent", concat(u32(0), u32(2), u32(1), utf8("a"))],
    ["a query length past the data", concat(u32(0), u32(1), u32(16), utf8("base:allocation"))],
    ["a query length cut short", concat(u32(0), u32(1), hex("00 00"))],
    ["a query with NUL", concat(u32(0), u32(1), u32(3), utf8("a\0b"))],
    ["a name with NUL", concat(u32(1), hex("00"), u32(0))],
  ];
  for (const [what, data] of malformed) {
    test(`data with ${what} is malformed`, () => {
      expect(parseMetaContextRequest(data)).toBeUndefined();
    });
  }
});
