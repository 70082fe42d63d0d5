import { describe, expect, test } from "vitest";
import { REPLY_TYPE } from "../../src/protocol/constants.ts";
import { type ReadTarget, ReplyCodec, type ReplyEvent } from "../../src/protocol/reply-codec.ts";
import { concat, hex, u16, u32, u64 } from "../helpers/wire.ts";

const GREETING = hex("4E 42 44 4D 41 47 49 43  49 48 41 56 45 4F 50 54  00 03");
const SIMPLE = 0x67446698;
const STRUCTURED = 0x668e33ef;

/** A read target with one READ in flight: cookie 7, 8 bytes at offset 4096. */
function readTarget() {
  const buffer = new Uint8Array(8);
  const target: ReadTarget = {
    simple: (cookie) => (cookie.cookieLo === 7 ? buffer : undefined),
    offsetData: (cookie, offset, length) =>
      cookie.cookieLo === 7
        ? buffer.subarray(Number(offset) - 4096, Number(offset) - 4096 + length)
        : undefined,
  };
  return { buffer, target };
}

/** Every event the codec gives for `wire`, cut in two at `cut`. */
function decode(wire: Uint8Array, cut: number, setup?: (codec: ReplyCodec) => void) {
  const { buffer, target } = readTarget();
  const codec = new ReplyCodec(target, 1 << 20);
  setup?.(codec);
  const events: ReplyEvent[] = [];
  // An empty chunk means the end of the stream: only the last piece is one.
  const pieces = [wire.subarray(0, cut), wire.subarray(cut)].filter((piece) => piece.length > 0);
  for (const piece of [...pieces, new Uint8Array(0)]) {
    codec.receive(piece);
    for (let event = codec.next(); event.kind !== "need-data"; event = codec.next()) {
      events.push(event);
      if (event.kind === "closed") break;
    }
    codec.detach();
  }
  return { events, buffer };
}

function everyCut(
  wire: Uint8Array,
  check: (result: ReturnType<typeof decode>) => void,
  setup?: (codec: ReplyCodec) => void,
) {
  for (let cut = 0; cut <= wire.length; cut++) check(decode(wire, cut, setup));
}

describe("ReplyCodec", () => {
  test("a newstyle greeting then an option reply decode the same split at any byte", () => {
    const reply = concat(u64(0x0003e889045565a9n), u32(7), u32(1), u32(0));
    everyCut(concat(GREETING, reply), ({ events }) => {
      expect(events).toEqual([
        { kind: "greeting", flags: 3 },
        { kind: "option-reply", option: 7, type: 1, data: new Uint8Array(0) },
        { kind: "closed" },
      ]);
    });
  });

  test("an oldstyle greeting gives size and flags, its 124 zeroes skipped", () => {
    const wire = concat(
      hex("4E 42 44 4D 41 47 49 43 00 00 42 02 81 86 12 53"),
      u64(1048576),
      u16(0),
      u16(0x0d6d),
      new Uint8Array(124),
      u32(SIMPLE),
      u32(0),
      u64(9),
    );
    everyCut(wire, ({ events }) => {
      expect(events.slice(0, 2)).toEqual([
        { kind: "oldstyle", size: 1048576, flags: 0x0d6d },
        { kind: "simple", cookie: { cookieHi: 0, cookieLo: 9 }, error: 0 },
      ]);
    });
  });

  test("the EXPORT_NAME reply skips its zeroes unless NO_ZEROES was agreed", () => {
    const reply = concat(u64(512), u16(1), new Uint8Array(124));
    everyCut(reply, ({ events }) => {
      expect(events[0]).toEqual({ kind: "export", size: 512, flags: 1 });
      expect(events[1]).toEqual({ kind: "closed" });
    }, (codec) => codec.setPhase("export-name", false));
  });

  test("a simple READ reply's data lands in the request's buffer", () => {
    const wire = concat(u32(SIMPLE), u32(0), u64(7), hex("01 02 03 04 05 06 07 08"));
    everyCut(wire, ({ events, buffer }) => {
      expect(events[0]).toEqual({ kind: "simple", cookie: { cookieHi: 0, cookieLo: 7 }, error: 0 });
      expect(buffer).toEqual(hex("01 02 03 04 05 06 07 08"));
    }, (codec) => codec.setPhase("transmission"));
  });

  test("an OFFSET_DATA chunk's data lands at its offset inside the READ", () => {
    const wire = concat(
      u32(STRUCTURED),
      u16(1),
      u16(REPLY_TYPE.OFFSET_DATA),
      u64(7),
      u32(12),
      u64(4100),
      hex("AA BB CC DD"),
    );
    everyCut(wire, ({ events, buffer }) => {
      expect(events[0]).toMatchObject({ kind: "chunk", flags: 1, type: REPLY_TYPE.OFFSET_DATA });
      expect(buffer).toEqual(hex("00 00 00 00 AA BB CC DD"));
    }, (codec) => codec.setPhase("transmission"));
  });

  test("other chunks bring their whole payload", () => {
    const payload = concat(u32(5), u16(0));
    const wire = concat(u32(STRUCTURED), u16(1), u16(REPLY_TYPE.ERROR), u64(3), u32(6), payload);
    everyCut(wire, ({ events }) => {
      expect(events[0]).toEqual({
        kind: "chunk",
        cookie: { cookieHi: 0, cookieLo: 3 },
        flags: 1,
        type: REPLY_TYPE.ERROR,
        payload,
      });
    }, (codec) => codec.setPhase("transmission"));
  });

  test("an OFFSET_DATA chunk for no READ in flight breaks the stream", () => {
    const wire = concat(
      u32(STRUCTURED),
      u16(1),
      u16(REPLY_TYPE.OFFSET_DATA),
      u64(8),
      u32(9),
      u64(0),
      hex("00"),
    );
    expect(() => decode(wire, wire.length, (codec) => codec.setPhase("transmission"))).toThrow(
      /no READ in flight/,
    );
  });

  test("a bad magic and a stream cut inside a message are protocol errors", () => {
    expect(() => decode(new Uint8Array(16), 16)).toThrow(/not an NBD server/);
    expect(() => decode(u32(SIMPLE), 4, (codec) => codec.setPhase("transmission"))).toThrow(
      /middle of a message/,
    );
    expect(() => decode(u32(0x12345678), 4, (codec) => codec.setPhase("transmission"))).toThrow(
      /bad magic/,
    );
  });

  test("a chunk over the bound is refused before its payload is read", () => {
    const wire = concat(
      u32(STRUCTURED),
      u16(1),
      u16(REPLY_TYPE.BLOCK_STATUS),
      u64(1),
      u32(2 << 20),
    );
    expect(() => decode(wire, wire.length, (codec) => codec.setPhase("transmission"))).toThrow(
      /too large/,
    );
  });
});

describe("ReplyCodec with extended headers", () => {
  const EXTENDED = 0x6e8a278c;
  const extended = (codec: ReplyCodec) => codec.setPhase("transmission", false, true);

  /** An extended chunk header: magic, flags, type, cookie, the request's offset, u64 length. */
  function header(type: number, cookie: number, length: bigint | number, flags = 1): Uint8Array {
    return concat(u32(EXTENDED), u16(flags), u16(type), u64(cookie), u64(4096), u64(length));
  }

  test("an OFFSET_DATA chunk's data lands in the READ, split at any byte", () => {
    const wire = concat(
      header(REPLY_TYPE.OFFSET_DATA, 7, 8 + 3, 0),
      u64(4097),
      hex("AA BB CC"),
      header(REPLY_TYPE.OFFSET_HOLE, 7, 12, 0),
      u64(4100),
      u32(4),
      header(REPLY_TYPE.NONE, 7, 0),
    );
    everyCut(wire, ({ events, buffer }) => {
      expect(events.map((e) => e.kind === "chunk" && [e.type, e.flags])).toEqual([
        [REPLY_TYPE.OFFSET_DATA, 0],
        [REPLY_TYPE.OFFSET_HOLE, 0],
        [REPLY_TYPE.NONE, 1],
        false, // closed
      ]);
      expect(buffer).toEqual(hex("00 AA BB CC 00 00 00 00"));
    }, extended);
  });

  test("a BLOCK_STATUS_EXT chunk brings its whole payload, split at any byte", () => {
    const payload = concat(u32(1), u32(2), u64(2n ** 33n), u64(3), u64(4096), u64(0));
    const wire = header(REPLY_TYPE.BLOCK_STATUS_EXT, 5, payload.length);
    everyCut(concat(wire, payload), ({ events }) => {
      expect(events[0]).toEqual({
        kind: "chunk",
        cookie: { cookieHi: 0, cookieLo: 5 },
        flags: 1,
        type: REPLY_TYPE.BLOCK_STATUS_EXT,
        payload,
      });
    }, extended);
  });

  test("a simple reply or a compact chunk breaks the stream once they were agreed", () => {
    const simple = concat(u32(SIMPLE), u32(0), u64(9));
    const compact = concat(u32(STRUCTURED), u16(1), u16(0), u64(9), u32(0));
    for (const wire of [simple, compact]) {
      expect(() => decode(wire, wire.length, extended)).toThrow(/extended headers were agreed/);
    }
    const chunk = header(REPLY_TYPE.NONE, 9, 0);
    expect(() => decode(chunk, chunk.length, (codec) => codec.setPhase("transmission"))).toThrow(
      /extended headers were not agreed/,
    );
  });

  test.each([
    ["2^32", 2n ** 32n],
    ["2^53", 2n ** 53n],
    ["2^63", 2n ** 63n],
    ["2^64 - 1", 2n ** 64n - 1n],
  ])("a chunk whose u64 length is %s is refused before its payload is read", (_name, length) => {
    for (const type of [REPLY_TYPE.BLOCK_STATUS_EXT, REPLY_TYPE.ERROR]) {
      const wire = header(type, 7, length);
      expect(() => decode(wire, wire.length, extended)).toThrow(/too large/);
    }
    // OFFSET_DATA's data goes into its READ: refused once its offset names the READ.
    const data = concat(header(REPLY_TYPE.OFFSET_DATA, 7, length), u64(4096));
    expect(() => decode(data, data.length, extended)).toThrow(/larger than any READ|overflows it/);
  });

  test("an OFFSET_DATA chunk too short for its offset, or longer than its READ, breaks the stream", () => {
    const short = concat(header(REPLY_TYPE.OFFSET_DATA, 7, 7), new Uint8Array(7));
    expect(() => decode(short, short.length, extended)).toThrow(/shorter than its offset/);
    const long = concat(header(REPLY_TYPE.OFFSET_DATA, 7, 8 + 9), u64(4096), new Uint8Array(9));
    expect(() => decode(long, long.length, extended)).toThrow(/overflows it/);
  });
});
