import { describe, expect, test } from "vitest";
import { Codec, type Event, type Phase, type Request } from "../../src/protocol/codec.ts";
import { CMD, CMD_FLAG, OPT } from "../../src/protocol/constants.ts";
import { ProtocolError } from "../../src/api/errors.ts";
import { LimitError, resolveLimits } from "../../src/protocol/limits.ts";
import {
  concat,
  infoData,
  u64,
  WIRE,
  wireClientFlags,
  wireOption,
  wireRequest,
} from "../helpers/wire.ts";

const MiB = 1024 * 1024;

function codecIn(phase: Phase): Codec {
  const codec = new Codec();
  if (phase !== "client-flags") codec.setPhase(phase);
  return codec;
}

/** The bytes whole, cut in two at every byte, and one byte per chunk. */
function splits(wire: Uint8Array): Uint8Array[][] {
  const ways: Uint8Array[][] = [[wire]];
  for (let cut = 1; cut < wire.length; cut++) {
    ways.push([wire.subarray(0, cut), wire.subarray(cut)]);
  }
  ways.push(Array.from(wire, (_, i) => wire.subarray(i, i + 1)));
  return ways;
}

/** Feeds chunks one at a time and collects every event but need-data (stops at closed). */
function decode(codec: Codec, chunks: Uint8Array[]): Event[] {
  const events: Event[] = [];
  for (const chunk of chunks) {
    codec.receive(chunk);
    for (;;) {
      const event = codec.next();
      if (event.kind === "need-data") break;
      events.push(event);
      if (event.kind === "closed") return events;
    }
  }
  return events;
}

function decodeEverySplit(phase: Phase, wire: Uint8Array, check: (events: Event[]) => void) {
  for (const chunks of splits(wire)) check(decode(codecIn(phase), chunks));
}

function requestOf(event: Event): Request {
  if (event.kind !== "request") throw new Error(`Expected a request event, got ${event.kind}`);
  return event.request;
}

describe("codec events", () => {
  test("an empty codec needs data", () => {
    expect(new Codec().next()).toEqual({ kind: "need-data" });
  });

  test("client flags decode the same at any split", () => {
    decodeEverySplit("client-flags", wireClientFlags(3), (events) => {
      expect(events).toEqual([{ kind: "client-flags", flags: 3 }]);
    });
  });

  test("an option without data decodes the same at any split", () => {
    decodeEverySplit("options", wireOption(OPT.STRUCTURED_REPLY), (events) => {
      expect(events).toEqual([
        { kind: "option", option: OPT.STRUCTURED_REPLY, data: new Uint8Array(0) },
      ]);
    });
  });

  test("an option with data decodes the same at any split", () => {
    const data = infoData("disk", [1, 3]);
    decodeEverySplit("options", wireOption(OPT.GO, data), (events) => {
      expect(events).toEqual([{ kind: "option", option: OPT.GO, data }]);
    });
  });

  test("option data is a copy that outlives the received chunk", () => {
    const wire = wireOption(OPT.INFO, infoData("x"));
    const codec = codecIn("options");
    codec.receive(wire);
    const event = codec.next();
    expect(codec.next()).toEqual({ kind: "need-data" });
    wire.fill(0xee);
    expect(event).toEqual({ kind: "option", option: OPT.INFO, data: infoData("x") });
  });

  test("a READ request decodes the same at any split", () => {
    const wire = wireRequest({
      type: CMD.READ,
      flags: CMD_FLAG.FUA,
      cookie: 0x0123456789abcdefn,
      offset: 4096,
      length: 512,
    });
    decodeEverySplit("transmission", wire, (events) => {
      expect(events).toHaveLength(1);
      expect(requestOf(events[0])).toEqual({
        flags: CMD_FLAG.FUA,
        type: CMD.READ,
        cookieHi: 0x01234567,
        cookieLo: 0x89abcdef,
        offset: 4096,
        length: 512,
        payload: undefined,
        payloadDropped: false,
      });
    });
  });

  test("a WRITE request carries its payload at any split", () => {
    const payload = Uint8Array.from({ length: 40 }, (_, i) => i + 1);
    const wire = wireRequest({ type: CMD.WRITE, cookie: 7, offset: 512, payload });
    decodeEverySplit("transmission", wire, (events) => {
      expect(events).toHaveLength(1);
      const request = requestOf(events[0]);
      expect(request).toMatchObject({ type: CMD.WRITE, offset: 512, length: 40 });
      expect(request.payload).toEqual(payload);
      expect(request.payloadDropped).toBe(false);
    });
  });

  test("a WRITE payload is a copy that outlives the received chunk", () => {
    const wire = wireRequest({ type: CMD.WRITE, payload: new Uint8Array([1, 2, 3]) });
    const codec = codecIn("transmission");
    codec.receive(wire);
    const request = requestOf(codec.next());
    wire.fill(0);
    expect(request.payload).toEqual(new Uint8Array([1, 2, 3]));
  });

  test("a WRITE of length 0 has no payload and the next header follows at once", () => {
    const wire = concat(
      wireRequest({ type: CMD.WRITE, cookie: 1, length: 0 }),
      wireRequest({ type: CMD.FLUSH, cookie: 2 }),
    );
    decodeEverySplit("transmission", wire, (events) => {
      expect(events.map(requestOf)).toMatchObject([
        { type: CMD.WRITE, length: 0, payload: undefined, cookieLo: 1 },
        { type: CMD.FLUSH, cookieLo: 2 },
      ]);
    });
  });

  test("requests other than WRITE carry no payload whatever their length", () => {
    const wire = concat(
      wireRequest({ type: CMD.READ, cookie: 1, length: 4096 }),
      wireRequest({ type: CMD.WRITE_ZEROES, cookie: 2, length: 65536 }),
      wireRequest({ type: CMD.BLOCK_STATUS, cookie: 3, length: 1 }),
      wireRequest({ type: 99, cookie: 4, length: 8 }),
    );
    decodeEverySplit("transmission", wire, (events) => {
      expect(events.map((e) => requestOf(e).cookieLo)).toEqual([1, 2, 3, 4]);
    });
  });

  test("several messages in one chunk come out one event per next(), then need-data", () => {
    const codec = codecIn("transmission");
    codec.receive(concat(
      wireRequest({ type: CMD.FLUSH, cookie: 1 }),
      wireRequest({ type: CMD.WRITE, cookie: 2, payload: new Uint8Array(3) }),
      wireRequest({ type: CMD.DISC, cookie: 3 }),
    ));
    expect(requestOf(codec.next()).cookieLo).toBe(1);
    expect(requestOf(codec.next()).cookieLo).toBe(2);
    expect(requestOf(codec.next()).type).toBe(CMD.DISC);
    expect(codec.next()).toEqual({ kind: "need-data" });
  });

  test("bytes after client flags wait in the codec until the phase changes", () => {
    const wire = concat(
      wireClientFlags(1),
      wireOption(OPT.GO, infoData("")),
      wireRequest({ type: CMD.READ, cookie: 9, length: 1 }),
    );
    for (const chunks of splits(wire)) {
      const codec = new Codec();
      const events: Event[] = [];
      for (const chunk of chunks) {
        codec.receive(chunk);
        for (let event = codec.next(); event.kind !== "need-data"; event = codec.next()) {
          events.push(event);
          if (event.kind === "client-flags") codec.setPhase("options");
          if (event.kind === "option") codec.setPhase("transmission");
        }
      }
      expect(events.map((e) => e.kind)).toEqual(["client-flags", "option", "request"]);
      expect(requestOf(events[2]).cookieLo).toBe(9);
    }
  });
});

describe("codec payloads received in place", () => {
  /** A codec whose allocator records each WRITE it is asked for and hands out its buffers. */
  function recordingCodec() {
    const asked: { size: number; request: Request; buffer: Uint8Array }[] = [];
    const codec = new Codec((size, request) => {
      const buffer = new Uint8Array(size);
      asked.push({ size, request, buffer });
      return buffer;
    });
    codec.setPhase("transmission");
    return { codec, asked };
  }

  test("the allocator is asked for each WRITE payload with its request, and that buffer is the payload", () => {
    const { codec, asked } = recordingCodec();
    codec.receive(
      wireRequest({ type: CMD.WRITE, cookie: 5, offset: 8192, payload: new Uint8Array(10) }),
    );
    const request = requestOf(codec.next());
    expect(asked).toHaveLength(1);
    expect(asked[0].size).toBe(10);
    expect(asked[0].request).toBe(request);
    expect(request.payload).toBe(asked[0].buffer);
  });

  test("bytes read into payloadRemainder() are not copied, and the request comes out when it is full", () => {
    const payload = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff);
    const wire = wireRequest({ type: CMD.WRITE, cookie: 1, payload });
    const { codec, asked } = recordingCodec();
    codec.receive(wire.subarray(0, 28 + 1000)); // the header and the first bytes, copied
    expect(codec.next()).toEqual({ kind: "need-data" });
    const body = asked[0].buffer;
    let copies = 0;
    body.set = () => void copies++; // any copy into the payload from now on is counted
    let at = 28 + 1000;
    for (let round = 0; round < 20; round++) {
      const room = codec.payloadRemainder(1)!;
      expect(room.byteOffset).toBe(body.byteOffset + at - 28);
      const n = Math.min(9000 + round, wire.length - at, room.length);
      room.set(wire.subarray(at, at + n)); // what a runtime reading into `room` does
      codec.receive(room.subarray(0, n));
      at += n;
      const event = codec.next();
      if (at === wire.length) {
        expect(requestOf(event).payload).toBe(body);
        break;
      }
      expect(event).toEqual({ kind: "need-data" });
    }
    expect(at).toBe(wire.length);
    expect(copies).toBe(0);
    expect(body.slice()).toEqual(payload);
  });

  test("payloadRemainder() offers nothing outside a payload, while received bytes wait, or under `min`", () => {
    const { codec } = recordingCodec();
    expect(codec.payloadRemainder(1)).toBeUndefined(); // no payload yet
    const wire = wireRequest({ type: CMD.WRITE, payload: new Uint8Array(5000) });
    codec.receive(wire.subarray(0, 28));
    expect(codec.payloadRemainder(1)).toBeUndefined(); // the header is not decoded yet
    expect(codec.next()).toEqual({ kind: "need-data" });
    expect(codec.payloadRemainder(5000)?.length).toBe(5000);
    expect(codec.payloadRemainder(5001)).toBeUndefined();
    codec.receive(wire.subarray(28, 1028));
    expect(codec.payloadRemainder(1)).toBeUndefined(); // received bytes wait to be decoded
    expect(codec.next()).toEqual({ kind: "need-data" });
    expect(codec.payloadRemainder(4000)?.length).toBe(4000);
    codec.receive(wire.subarray(1028));
    expect(requestOf(codec.next()).payload).toEqual(new Uint8Array(5000));
    expect(codec.payloadRemainder(1)).toBeUndefined(); // complete
  });
});

describe("codec end of stream", () => {
  test("an empty chunk at a message boundary means the peer closed", () => {
    const codec = codecIn("transmission");
    codec.receive(wireRequest({ type: CMD.FLUSH }));
    codec.receive(new Uint8Array(0));
    expect(requestOf(codec.next()).type).toBe(CMD.FLUSH);
    expect(codec.next()).toEqual({ kind: "closed" });
    expect(codec.next()).toEqual({ kind: "closed" });
  });

  test("end of stream before any byte is a quiet close in every phase", () => {
    for (const phase of ["client-flags", "options", "transmission"] as const) {
      const codec = codecIn(phase);
      codec.receive(new Uint8Array(0));
      expect(codec.next()).toEqual({ kind: "closed" });
    }
  });

  test("end of stream inside any message is a ProtocolError", () => {
    const cases: [Phase, Uint8Array][] = [
      ["client-flags", wireClientFlags(3)],
      ["options", wireOption(OPT.GO, infoData("disk"))],
      ["transmission", wireRequest({ type: CMD.READ, length: 512 })],
      ["transmission", wireRequest({ type: CMD.WRITE, payload: new Uint8Array(10) })],
    ];
    for (const [phase, wire] of cases) {
      for (let cut = 1; cut < wire.length; cut++) {
        const codec = codecIn(phase);
        codec.receive(wire.subarray(0, cut));
        expect(codec.next()).toEqual({ kind: "need-data" });
        codec.receive(new Uint8Array(0));
        expect(() => codec.next(), `${phase} cut at ${cut}`).toThrow(ProtocolError);
      }
    }
  });

  test("end of stream while skipping an oversized WRITE payload is a ProtocolError", () => {
    const codec = codecIn("transmission");
    codec.receive(wireRequest({ type: CMD.WRITE, length: 64 * MiB + 1 }));
    codec.receive(new Uint8Array(MiB));
    expect(codec.next()).toEqual({ kind: "need-data" });
    codec.receive(new Uint8Array(0));
    expect(() => codec.next()).toThrow(ProtocolError);
  });
});

describe("codec bounds and broken streams", () => {
  test("an option with a bad magic is a ProtocolError at any split", () => {
    const wire = wireOption(OPT.GO, infoData(""), { magic: WIRE.NBDMAGIC });
    for (const chunks of splits(wire)) {
      expect(() => decode(codecIn("options"), chunks)).toThrow(ProtocolError);
    }
  });

  test("a magic wrong in its low half only is still rejected", () => {
    const wire = wireOption(OPT.ABORT, undefined, { magic: WIRE.IHAVEOPT + 1n });
    expect(() => decode(codecIn("options"), [wire])).toThrow(ProtocolError);
  });

  test("a request with a bad magic is a ProtocolError at any split", () => {
    const wire = wireRequest({ type: CMD.READ, length: 512, magic: 0x25609514 });
    for (const chunks of splits(wire)) {
      expect(() => decode(codecIn("transmission"), chunks)).toThrow(ProtocolError);
    }
  });

  test("option data of 64 MiB is accepted, one byte more is a ProtocolError", () => {
    const fits = codecIn("options");
    fits.receive(wireOption(OPT.GO, undefined, { length: 64 * MiB }));
    expect(fits.next()).toEqual({ kind: "need-data" });

    const tooLong = wireOption(OPT.GO, undefined, { length: 64 * MiB + 1 });
    for (const chunks of splits(tooLong)) {
      expect(() => decode(codecIn("options"), chunks)).toThrow(ProtocolError);
    }
  });

  test("a WRITE payload of exactly 64 MiB is kept", () => {
    const codec = codecIn("transmission");
    codec.receive(wireRequest({ type: CMD.WRITE, length: 64 * MiB }));
    const piece = new Uint8Array(MiB).fill(5);
    for (let i = 0; i < 64; i++) codec.receive(piece);
    const request = requestOf(codec.next());
    expect(request.payloadDropped).toBe(false);
    expect(request.payload?.length).toBe(64 * MiB);
    expect(request.payload?.[64 * MiB - 1]).toBe(5);
  });

  test("a WRITE payload over 64 MiB is skipped and flagged payloadDropped", () => {
    const header = wireRequest({ type: CMD.WRITE, cookie: 1, length: 64 * MiB + 1 });
    const next = wireRequest({ type: CMD.FLUSH, cookie: 2 });
    for (const chunks of splits(header)) {
      const codec = codecIn("transmission");
      const events = decode(codec, [...chunks, new Uint8Array(64 * MiB), new Uint8Array(1), next]);
      expect(events.map(requestOf)).toMatchObject([
        { type: CMD.WRITE, cookieLo: 1, length: 64 * MiB + 1, payloadDropped: true },
        { type: CMD.FLUSH, cookieLo: 2 },
      ]);
      expect(requestOf(events[0]).payload).toBeUndefined();
    }
  });

  test("a WRITE payload of 128 MiB is skipped, one byte more is a ProtocolError", () => {
    const codec = codecIn("transmission");
    const piece = new Uint8Array(8 * MiB);
    const chunks = [wireRequest({ type: CMD.WRITE, length: 128 * MiB })];
    for (let i = 0; i < 16; i++) chunks.push(piece);
    const events = decode(codec, chunks);
    expect(events.map(requestOf)).toMatchObject([{ payloadDropped: true }]);

    const tooLong = wireRequest({ type: CMD.WRITE, length: 128 * MiB + 1 });
    for (const split of splits(tooLong)) {
      expect(() => decode(codecIn("transmission"), split)).toThrow(ProtocolError);
    }
  });
});

describe("codec bounds from the server's limits", () => {
  const KiB = 1024;
  const small = resolveLimits({ maxPayload: 64 * KiB });

  function smallCodec(): Codec {
    const codec = new Codec(undefined, small);
    codec.setPhase("transmission");
    return codec;
  }

  test("a WRITE of maxPayload bytes is kept, one byte more is skipped", () => {
    const kept = decode(smallCodec(), [
      wireRequest({ type: CMD.WRITE, payload: new Uint8Array(64 * KiB) }),
    ]);
    expect(requestOf(kept[0]).payload?.length).toBe(64 * KiB);
    const over = wireRequest({ type: CMD.WRITE, payload: new Uint8Array(64 * KiB + 1) });
    const skipped = decode(smallCodec(), [over]);
    expect(requestOf(skipped[0])).toMatchObject({ payloadDropped: true, payload: undefined });
  });

  test("the skip limit stays at 2^25 for a small maxPayload; past it a LimitError names it", () => {
    const at = decode(smallCodec(), [
      wireRequest({ type: CMD.WRITE, length: 32 * MiB }),
      new Uint8Array(32 * MiB),
    ]);
    expect(requestOf(at[0]).payloadDropped).toBe(true);
    const past = wireRequest({ type: CMD.WRITE, length: 32 * MiB + 1 });
    expect(() => decode(smallCodec(), [past])).toThrow(LimitError);
    try {
      decode(smallCodec(), [past]);
    } catch (error) {
      expect((error as LimitError).hit).toEqual({
        limit: "skipLimit",
        value: 32 * MiB,
        what: `WRITE of ${32 * MiB + 1} bytes, too large to skip`,
        outcome: "connection closed",
      });
    }
  });

  test("option data is bounded at 64 MiB whatever maxPayload is", () => {
    const codec = new Codec(undefined, small);
    codec.setPhase("options");
    codec.receive(wireOption(OPT.GO, undefined, { length: 64 * MiB }));
    expect(codec.next()).toEqual({ kind: "need-data" });
    const tooLong = new Codec(undefined, small);
    tooLong.setPhase("options");
    tooLong.receive(wireOption(OPT.GO, undefined, { length: 64 * MiB + 1 }));
    expect(() => tooLong.next()).toThrow(LimitError);
  });
});

describe("codec offsets and cookies", () => {
  const cases: [string, bigint, number | bigint][] = [
    ["zero", 0n, 0],
    ["2^32", 1n << 32n, 2 ** 32],
    ["2^53 - 1 (the largest exact number)", (1n << 53n) - 1n, Number.MAX_SAFE_INTEGER],
    ["2^53", 1n << 53n, 1n << 53n],
    ["2^53 + 1", (1n << 53n) + 1n, (1n << 53n) + 1n],
    ["2^63 - 1", (1n << 63n) - 1n, (1n << 63n) - 1n],
    ["2^64 - 1", (1n << 64n) - 1n, (1n << 64n) - 1n],
  ];
  for (const [name, wireOffset, decoded] of cases) {
    test(`offset ${name} comes out exact, as a ${typeof decoded}`, () => {
      const wire = wireRequest({ type: CMD.READ, offset: wireOffset, length: 1 });
      decodeEverySplit("transmission", wire, (events) => {
        const { offset } = requestOf(events[0]);
        expect(typeof offset).toBe(typeof decoded);
        expect(offset).toBe(decoded);
      });
    });
  }

  test("the cookie is kept as its two u32 halves, whatever its bytes", () => {
    const wire = concat(
      wireRequest({ type: CMD.FLUSH }).subarray(0, 8),
      u64(0xfedcba9876543210n),
      new Uint8Array(12),
    );
    const request = requestOf(decode(codecIn("transmission"), [wire])[0]);
    expect([request.cookieHi, request.cookieLo]).toEqual([0xfedcba98, 0x76543210]);
  });
});

describe("takeUnconsumed (the switch to TLS)", () => {
  test("hands over every byte after the last option, however it was split, and keeps none", () => {
    const starttls = wireOption(OPT.STARTTLS);
    const trailing = concat(wireOption(OPT.LIST), new Uint8Array([0x16, 0x03, 0x01]));
    for (const chunks of splits(concat(starttls, trailing))) {
      const codec = codecIn("options");
      let event: Event = { kind: "need-data" };
      for (const chunk of chunks) {
        codec.receive(chunk);
        if (event.kind === "need-data") event = codec.next();
      }
      expect(event).toMatchObject({ kind: "option", option: OPT.STARTTLS });
      expect(codec.takeUnconsumed()).toEqual(trailing);
      expect(codec.next()).toEqual({ kind: "need-data" });
    }
  });

  test("a half-received option header is handed over too", () => {
    const codec = codecIn("options");
    const header = wireOption(OPT.LIST).subarray(0, 9);
    codec.receive(header.slice(0, 4));
    codec.receive(header.slice(4));
    expect(codec.next()).toEqual({ kind: "need-data" });
    expect(codec.takeUnconsumed()).toEqual(header);
    codec.receive(wireOption(OPT.GO, infoData("")));
    expect(codec.next()).toMatchObject({ kind: "option", option: OPT.GO });
  });

  test("refuses in the middle of option data, which never happens between options", () => {
    const codec = codecIn("options");
    codec.receive(wireOption(OPT.GO, infoData("disk")).subarray(0, 20));
    expect(codec.next()).toEqual({ kind: "need-data" });
    expect(() => codec.takeUnconsumed()).toThrow(ProtocolError);
  });
});
