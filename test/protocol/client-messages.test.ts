import { expect, test } from "vitest";
import { INFO, OPT } from "../../src/protocol/constants.ts";
import {
  encodeInfoRequest,
  encodeMetaContextRequest,
  encodeOption,
  encodeRequest,
  parseInfoReply,
  parseServerReply,
} from "../../src/protocol/client-messages.ts";
import { parseInfoRequest, parseMetaContextRequest } from "../../src/protocol/handshake.ts";
import { Codec } from "../../src/protocol/codec.ts";
import {
  encodeInfoBlockSize,
  encodeInfoExport,
  encodeServerReply,
} from "../../src/protocol/handshake.ts";
import { concat, u32, u64, utf8, wireClientFlags } from "../helpers/wire.ts";

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
