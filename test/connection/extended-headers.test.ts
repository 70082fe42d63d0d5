import { describe, expect, test } from "vitest";
import { createMemoryPlugin } from "../../src/plugins/memory.ts";
import { LARGE_COUNT_PIECE, type Offset, type Plugin } from "../../src/api/plugin.ts";
import {
  BASE_ALLOCATION_ID,
  CMD,
  CMD_FLAG,
  HANDSHAKE_FLAG,
  NBD_ERR,
  OPT,
  REP,
  REPLY_FLAG,
  REPLY_TYPE,
  TX_FLAG,
} from "../../src/protocol/constants.ts";
import {
  type Chunk,
  concat,
  connect,
  errorOf,
  infoData,
  metaContextData,
  parseBlockStatusExt,
  parseInfoExport,
  parseOffsetData,
  parseOffsetHole,
  type Reply,
  testServer,
  type TestServerOptions,
  u32,
  u64,
  utf8,
  WIRE,
  wireClientFlags,
  wireExtendedRequest,
  wireOption,
  wireRequest,
} from "../helpers/wire.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

const GiB = 1024 ** 3;
const TiB = 1024 * GiB;

/** The memory plugin, configured as `memory SIZE`. */
async function memory(size: string): Promise<Plugin> {
  const plugin = createMemoryPlugin();
  await plugin.config!("size", size);
  await plugin.configComplete!();
  return plugin;
}

/** A connection past client flags, ready for options. */
async function negotiating(plugin: Plugin, options: TestServerOptions = {}) {
  const { server, logs } = testServer(plugin, options);
  const conn = connect(server);
  await conn.readGreeting();
  conn.send(wireClientFlags(HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES));
  return { conn, logs };
}

/** A connection in transmission with extended headers (and base:allocation chosen). */
async function extended(plugin: Plugin, options: TestServerOptions = {}) {
  const { server, logs } = testServer(plugin, options);
  const conn = connect(server);
  const { flags } = await conn.handshake({ extendedHeaders: true, baseAllocation: true });
  const roundTrip = async (
    fields: Parameters<typeof wireExtendedRequest>[0],
  ): Promise<Chunk> => {
    conn.send(wireExtendedRequest(fields));
    const reply = await conn.readReply();
    expect(reply.kind).toBe("chunk");
    expect(reply.cookie).toBe(BigInt(fields.cookie ?? 0));
    return reply as Chunk;
  };
  return { conn, flags, logs, roundTrip };
}

function isExtendedDone(reply: Reply, type: number): void {
  expect(reply).toMatchObject({ kind: "chunk", magic: WIRE.EXTENDED_REPLY, type });
  expect((reply as Chunk).flags & REPLY_FLAG.DONE).toBe(REPLY_FLAG.DONE);
}

describe("NBD_OPT_EXTENDED_HEADERS is negotiated as the spec says", () => {
  test("it is acknowledged without structured replies first, and then SR gets EXT_HEADER_REQD", async () => {
    const { conn } = await negotiating(ramPlugin().plugin);
    expect((await conn.option(OPT.EXTENDED_HEADERS)).map((r) => r.type)).toEqual([REP.ACK]);
    expect((await conn.option(OPT.STRUCTURED_REPLY)).map((r) => r.type)).toEqual([
      REP.ERR_EXT_HEADER_REQD,
    ]);
  });

  test("it is acknowledged after structured replies too", async () => {
    const { conn } = await negotiating(ramPlugin().plugin);
    expect((await conn.option(OPT.STRUCTURED_REPLY)).map((r) => r.type)).toEqual([REP.ACK]);
    expect((await conn.option(OPT.EXTENDED_HEADERS)).map((r) => r.type)).toEqual([REP.ACK]);
  });

  test("with data it is ERR_INVALID, the data skipped, and negotiation goes on", async () => {
    const { conn } = await negotiating(ramPlugin().plugin);
    const replies = await conn.option(OPT.EXTENDED_HEADERS, utf8("unexpected"));
    expect(replies.map((r) => r.type)).toEqual([REP.ERR_INVALID]);
    expect((await conn.option(OPT.LIST)).at(-1)!.type).toBe(REP.ACK);
  });

  for (
    const [what, options] of [
      ["--no-extended-headers", { noExtendedHeaders: true }],
      ["--no-sr", { noStructuredReplies: true }],
    ] as const
  ) {
    test(`${what} answers it ERR_UNSUP, and GO then serves compact headers`, async () => {
      const { conn } = await negotiating(ramPlugin().plugin, options);
      expect((await conn.option(OPT.EXTENDED_HEADERS)).map((r) => r.type)).toEqual([
        REP.ERR_UNSUP,
      ]);
      expect((await conn.option(OPT.GO, infoData(""))).at(-1)!.type).toBe(REP.ACK);
      const reply = await conn.roundTrip({ type: CMD.FLUSH, cookie: 3 });
      expect(reply).toMatchObject({ kind: "simple", error: 0 });
    });
  }

  test("NBD_OPT_EXPORT_NAME after it closes the connection without a reply", async () => {
    const { conn, logs } = await negotiating(ramPlugin().plugin);
    await conn.option(OPT.EXTENDED_HEADERS);
    conn.send(wireOption(OPT.EXPORT_NAME, utf8("")));
    await conn.closed();
    expect(conn.unread).toBe(0);
    expect(logs.join("\n")).toContain("NBD_OPT_EXPORT_NAME after extended headers");
  });

  test("SET_META_CONTEXT is served after it without structured replies", async () => {
    const { conn } = await negotiating(ramPlugin().plugin);
    await conn.option(OPT.EXTENDED_HEADERS);
    const replies = await conn.option(
      OPT.SET_META_CONTEXT,
      metaContextData("", ["base:allocation"]),
    );
    expect(replies.map((r) => r.type)).toEqual([REP.META_CONTEXT, REP.ACK]);
  });

  test("DF and BLOCK_STATUS_PAYLOAD are advertised only when their conditions hold", async () => {
    const flagsAfter = async (eh: boolean, meta: boolean) => {
      const { conn } = await negotiating(ramPlugin().plugin);
      if (eh) await conn.option(OPT.EXTENDED_HEADERS);
      else await conn.option(OPT.STRUCTURED_REPLY);
      if (meta) await conn.option(OPT.SET_META_CONTEXT, metaContextData("", ["base:allocation"]));
      const replies = await conn.option(OPT.INFO, infoData(""));
      return parseInfoExport(replies[0].data).flags;
    };
    expect(await flagsAfter(true, true) & TX_FLAG.BLOCK_STATUS_PAYLOAD).toBeTruthy();
    expect(await flagsAfter(true, false) & TX_FLAG.BLOCK_STATUS_PAYLOAD).toBe(0);
    expect(await flagsAfter(false, true) & TX_FLAG.BLOCK_STATUS_PAYLOAD).toBe(0);
    expect(await flagsAfter(true, false) & TX_FLAG.SEND_DF).toBeTruthy();
  });

  test("the -v log says extended headers were negotiated", async () => {
    const { logs } = await extended(ramPlugin().plugin, { verbose: true });
    const log = logs.join("\n");
    expect(log).toContain("NBD_OPT_EXTENDED_HEADERS: client requested extended headers");
    expect(log).toContain("using extended headers");
  });
});

describe("transmission with extended headers", () => {
  test("READ is an extended OFFSET_DATA chunk, or OFFSET_HOLE, both with the request offset", async () => {
    const ram = ramPlugin();
    ram.write(4096, utf8("hello"));
    const { roundTrip } = await extended(ram.plugin);
    const data = await roundTrip({ type: CMD.READ, cookie: 1, offset: 4096, length: 512 });
    isExtendedDone(data, REPLY_TYPE.OFFSET_DATA);
    expect(data.offset).toBe(4096n);
    const { offset, data: bytes } = parseOffsetData(data.payload);
    expect(offset).toBe(4096n);
    expect(bytes.subarray(0, 5)).toEqual(utf8("hello"));
    const hole = await roundTrip({ type: CMD.READ, cookie: 2, offset: 65536, length: 512 });
    isExtendedDone(hole, REPLY_TYPE.OFFSET_HOLE);
    expect(hole.offset).toBe(65536n);
    expect(parseOffsetHole(hole.payload)).toEqual({ offset: 65536n, size: 512 });
  });

  test("WRITE with PAYLOAD_LEN, and without (as qemu 10 sends it), is acknowledged with a NONE chunk", async () => {
    const ram = ramPlugin();
    const { roundTrip } = await extended(ram.plugin);
    const payload = utf8("abcd");
    const flags = CMD_FLAG.PAYLOAD_LEN;
    isExtendedDone(
      await roundTrip({ type: CMD.WRITE, cookie: 1, offset: 0, flags, payload }),
      REPLY_TYPE.NONE,
    );
    isExtendedDone(
      await roundTrip({ type: CMD.WRITE, cookie: 2, offset: 8, payload }),
      REPLY_TYPE.NONE,
    );
    expect(ram.read(0, 12)).toEqual(concat(payload, new Uint8Array(4), payload));
  });

  test("a payload on a command without one is read, answered EINVAL, and the next request served", async () => {
    const { roundTrip } = await extended(ramPlugin().plugin);
    const reply = await roundTrip({
      type: CMD.TRIM,
      cookie: 1,
      flags: CMD_FLAG.PAYLOAD_LEN,
      payload: new Uint8Array(1000),
    });
    isExtendedDone(reply, REPLY_TYPE.ERROR);
    expect(errorOf(reply)).toBe(NBD_ERR.EINVAL);
    isExtendedDone(await roundTrip({ type: CMD.FLUSH, cookie: 2 }), REPLY_TYPE.NONE);
  });

  test("errors of every command are ERROR chunks: a TRIM past the end is EINVAL", async () => {
    const { roundTrip } = await extended(ramPlugin().plugin);
    const reply = await roundTrip({ type: CMD.TRIM, cookie: 1, offset: 0, length: 2 ** 40 });
    isExtendedDone(reply, REPLY_TYPE.ERROR);
    expect(errorOf(reply)).toBe(NBD_ERR.EINVAL);
  });

  test("lengths at the 2^63 edge never wrap: WRITE_ZEROES past the end is ENOSPC", async () => {
    const { roundTrip } = await extended(await memory(String((1n << 63n) - 1n)));
    const last = (1n << 63n) - 1n;
    const reply = await roundTrip({
      type: CMD.WRITE_ZEROES,
      cookie: 1,
      offset: last,
      length: (1n << 64n) - 1n,
    });
    expect(errorOf(reply)).toBe(NBD_ERR.ENOSPC);
  });

  test("compact requests after extended headers were agreed close the connection", async () => {
    const { conn } = await extended(ramPlugin().plugin);
    const flush = wireRequest({ type: CMD.FLUSH, cookie: 1 });
    conn.send(concat(flush, flush)); // 56 bytes: the first 32 are no extended header
    await conn.closed();
  });

  test("a payload too large to skip closes the connection", async () => {
    const { conn } = await extended(ramPlugin().plugin);
    conn.send(concat(
      u32(WIRE.EXTENDED_REQUEST),
      new Uint8Array([0, CMD_FLAG.PAYLOAD_LEN, 0, CMD.WRITE]),
      u64(1),
      u64(0),
      u64(2n ** 40n),
    ));
    await conn.closed();
  });
});

describe("64-bit lengths reach the plugin", () => {
  test("the memory plugin zeroes, trims and maps 8 TiB in one call each", async () => {
    const { roundTrip } = await extended(await memory("16T"));
    isExtendedDone(
      await roundTrip({ type: CMD.WRITE, cookie: 1, offset: 5 * TiB, payload: utf8("x") }),
      REPLY_TYPE.NONE,
    );
    const big = { offset: 0, length: 8 * TiB };
    isExtendedDone(await roundTrip({ type: CMD.TRIM, cookie: 2, ...big }), REPLY_TYPE.NONE);
    isExtendedDone(
      await roundTrip({ type: CMD.WRITE_ZEROES, cookie: 3, ...big }),
      REPLY_TYPE.NONE,
    );
    const status = await roundTrip({ type: CMD.BLOCK_STATUS, cookie: 4, ...big });
    isExtendedDone(status, REPLY_TYPE.BLOCK_STATUS_EXT);
    const { id, count, descriptors } = parseBlockStatusExt(status.payload);
    expect(id).toBe(BASE_ALLOCATION_ID);
    expect(count).toBe(descriptors.length);
    expect(descriptors[0]).toEqual({ length: 8n * BigInt(TiB), status: 3n });
  });

  test("a plugin that does not opt in gets pieces of at most LARGE_COUNT_PIECE, in order", async () => {
    const calls: [string, number, Offset][] = [];
    const ram = ramPlugin({
      size: 16 * GiB,
      with: {
        trim: (count, offset) => void calls.push(["trim", count, offset]),
        zero: (count, offset) => void calls.push(["zero", count, offset]),
      },
    });
    const { roundTrip } = await extended(ram.plugin);
    const length = 10 * GiB;
    isExtendedDone(await roundTrip({ type: CMD.TRIM, cookie: 1, length }), REPLY_TYPE.NONE);
    expect(calls.map(([, count]) => count)).toEqual([
      LARGE_COUNT_PIECE,
      LARGE_COUNT_PIECE,
      length - 2 * LARGE_COUNT_PIECE,
    ]);
    expect(calls.map(([, , offset]) => offset)).toEqual([
      0,
      LARGE_COUNT_PIECE,
      2 * LARGE_COUNT_PIECE,
    ]);
  });
});

describe("BLOCK_STATUS with a payload (NBD_FLAG_BLOCK_STATUS_PAYLOAD)", () => {
  const statusWith = async (payload: Uint8Array) => {
    const { roundTrip, flags } = await extended(await memory("1G"));
    expect(flags & TX_FLAG.BLOCK_STATUS_PAYLOAD).toBeTruthy();
    return await roundTrip({
      type: CMD.BLOCK_STATUS,
      cookie: 9,
      flags: CMD_FLAG.PAYLOAD_LEN,
      payload,
    });
  };

  test("naming base:allocation's id reports it, for the effect length in the payload", async () => {
    const reply = await statusWith(concat(u64(1024 * 1024), u32(BASE_ALLOCATION_ID)));
    isExtendedDone(reply, REPLY_TYPE.BLOCK_STATUS_EXT);
    expect(parseBlockStatusExt(reply.payload).descriptors[0].length).toBeGreaterThanOrEqual(
      1024n * 1024n,
    );
  });

  for (
    const [what, payload] of [
      ["an unknown id", concat(u64(4096), u32(7))],
      ["an id twice", concat(u64(4096), u32(1), u32(1))],
      ["no id", u64(4096)],
      ["a length that is not 8 + 4n", concat(u64(4096), u32(1), new Uint8Array(2))],
      ["an effect length past the end", concat(u64(2 * GiB), u32(1))],
    ] as const
  ) {
    test(`${what} is EINVAL and the connection goes on`, async () => {
      const reply = await statusWith(payload);
      isExtendedDone(reply, REPLY_TYPE.ERROR);
      expect(errorOf(reply)).toBe(NBD_ERR.EINVAL);
    });
  }
});
