import { describe, expect, test } from "vitest";
import type { Capabilities } from "../../src/backend/backend.ts";
import { clientFlagsAcceptable } from "../../src/connection/agreement.ts";
import { transmissionFlags } from "../../src/connection/open-export.ts";
import { CACHE_MODE, FUA_MODE, type Plugin, THREAD_MODEL } from "../../src/api/plugin.ts";
import { CMD, HANDSHAKE_FLAG, INFO, OPT, REP, TX_FLAG } from "../../src/protocol/constants.ts";
import {
  concat,
  connect,
  errorOf,
  hex,
  infoData,
  metaContextData,
  type OptionReply,
  parseBlockStatus,
  parseInfoExport,
  parseMetaContext,
  testServer,
  type TestServerOptions,
  u16,
  u32,
  u64,
  utf8,
  waitFor,
  WIRE,
  wireClientFlags,
  wireOption,
  wireRequest,
} from "../helpers/wire.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

const FIXED = HANDSHAKE_FLAG.FIXED_NEWSTYLE;
const NO_ZEROES = HANDSHAKE_FLAG.NO_ZEROES;
const MiB = 1024 * 1024;

/** A connection past the greeting and client flags, ready for options. */
async function negotiating(
  plugin: Plugin = ramPlugin().plugin,
  options: TestServerOptions = {},
  clientFlags = FIXED | NO_ZEROES,
) {
  const { server, logs } = testServer(plugin, options);
  const conn = connect(server);
  await conn.readGreeting();
  conn.send(wireClientFlags(clientFlags));
  return { conn, logs };
}

/** [option, reply type] of each reply, for compact expectations. */
function kinds(replies: OptionReply[]): [number, number][] {
  return replies.map((r) => [r.option, r.type]);
}

/** A plugin whose export "missing" cannot be opened. */
function withMissingExport(): Plugin {
  const ram = ramPlugin();
  return {
    name: "ram",
    open(readonly, name) {
      if (name === "missing") throw new Error(`no export "${name}"`);
      return ram.plugin.open(readonly, name);
    },
  };
}

/** What a memory-like plugin (nbd-proto.md section 5.5's example) offers. */
function memoryLike(): Plugin {
  return ramPlugin({
    with: {
      canFua: () => FUA_MODE.NATIVE,
      canMultiConn: () => true,
      canFastZero: () => true,
      canCache: () => CACHE_MODE.NATIVE,
    },
  }).plugin;
}

describe("greeting and client flags", () => {
  test("a new connection is greeted with the spec's 18 bytes at once", async () => {
    const { server } = testServer(ramPlugin().plugin);
    const conn = connect(server);
    expect(await conn.readBytes(18)).toEqual(
      hex("4E 42 44 4D 41 47 49 43  49 48 41 56 45 4F 50 54  00 03"),
    );
    await conn.settle();
    expect(conn.unread).toBe(0);
  });

  for (const flags of [4, 0x80000000, FIXED | NO_ZEROES | 8]) {
    test(`client flags 0x${flags.toString(16)} close the connection without a reply`, async () => {
      const { conn, logs } = await negotiating(undefined, {}, flags);
      await conn.closed();
      expect(conn.unread).toBe(0);
      expect(logs.join("")).toMatch(/unexpected flags/);
    });
  }

  test("only FIXED_NEWSTYLE and NO_ZEROES are acceptable client flags", () => {
    for (const flags of [0, 1, 2, 3]) expect(clientFlagsAcceptable(flags)).toBe(true);
    for (const flags of [4, 5, 0xffffffff]) expect(clientFlagsAcceptable(flags)).toBe(false);
  });

  test("the greeting and client flags split at every byte still negotiate", async () => {
    const { server } = testServer(ramPlugin().plugin);
    const conn = connect(server);
    await conn.readGreeting();
    conn.send(concat(wireClientFlags(3), wireOption(OPT.GO, infoData("disk"))), { split: 1 });
    expect(kinds(await conn.readOptionReplies())).toEqual([[OPT.GO, REP.INFO], [OPT.GO, REP.ACK]]);
  });
});

describe("NBD_OPT_EXPORT_NAME", () => {
  test("with NO_ZEROES the reply is 10 bytes: size and flags, then transmission", async () => {
    const ram = ramPlugin();
    const { conn } = await negotiating(ram.plugin);
    conn.send(wireOption(OPT.EXPORT_NAME, utf8("disk")));
    const flags = TX_FLAG.HAS_FLAGS | TX_FLAG.SEND_FLUSH | TX_FLAG.SEND_FUA | TX_FLAG.SEND_TRIM |
      TX_FLAG.SEND_WRITE_ZEROES | TX_FLAG.SEND_CACHE;
    expect(await conn.readBytes(10)).toEqual(concat(u64(MiB), u16(flags)));
    expect(ram.exportNames).toEqual(["disk"]);
    const reply = await conn.roundTrip({ type: CMD.READ, cookie: 1, length: 16 });
    expect(reply).toMatchObject({ kind: "simple", error: 0 });
  });

  test("without NO_ZEROES the reply is 134 bytes ending in 124 zeroes", async () => {
    const { conn } = await negotiating(undefined, {}, FIXED);
    conn.send(wireOption(OPT.EXPORT_NAME));
    const reply = await conn.readBytes(134);
    expect(reply.subarray(0, 8)).toEqual(u64(MiB));
    expect(reply.subarray(10)).toEqual(new Uint8Array(124));
    await conn.settle();
    expect(conn.unread).toBe(0);
    expect((await conn.roundTrip({ type: CMD.FLUSH, cookie: 2 })).kind).toBe("simple");
  });

  test("after STRUCTURED_REPLY it advertises SEND_DF and reads come back as chunks", async () => {
    const { conn } = await negotiating();
    await conn.option(OPT.STRUCTURED_REPLY);
    conn.send(wireOption(OPT.EXPORT_NAME));
    const reply = await conn.readBytes(10);
    expect((reply[8] << 8 | reply[9]) & TX_FLAG.SEND_DF).toBe(TX_FLAG.SEND_DF);
    expect((await conn.roundTrip({ type: CMD.READ, cookie: 1, length: 1 })).kind).toBe("chunk");
  });

  const badNames: [string, Uint8Array][] = [
    ["a NUL byte", utf8("a\0b")],
    ["more than 4096 bytes", new Uint8Array(4097).fill(0x61)],
  ];
  for (const [what, name] of badNames) {
    test(`a name with ${what} closes the connection (there is no error reply)`, async () => {
      const { conn } = await negotiating();
      conn.send(wireOption(OPT.EXPORT_NAME, name));
      await conn.closed();
      expect(conn.unread).toBe(0);
    });
  }

  test("an export that cannot be opened closes the connection, logged", async () => {
    const { conn, logs } = await negotiating(withMissingExport());
    conn.send(wireOption(OPT.EXPORT_NAME, utf8("missing")));
    await conn.closed();
    expect(conn.unread).toBe(0);
    expect(logs.join("")).toMatch(/missing/);
  });
});

describe("NBD_OPT_ABORT", () => {
  test("ABORT is acknowledged, then the connection closes", async () => {
    const { conn } = await negotiating();
    expect(kinds(await conn.option(OPT.ABORT))).toEqual([[OPT.ABORT, REP.ACK]]);
    await conn.closed();
    expect(conn.channel.writesAfterClose).toBe(0);
  });

  test("ABORT with data is still acknowledged, then the connection closes", async () => {
    const { conn } = await negotiating();
    expect(kinds(await conn.option(OPT.ABORT, utf8("junk")))).toEqual([[OPT.ABORT, REP.ACK]]);
    await conn.closed();
  });
});

describe("NBD_OPT_LIST", () => {
  test("LIST answers one SERVER reply with an empty name, then ACK", async () => {
    const { conn } = await negotiating();
    const replies = await conn.option(OPT.LIST);
    expect(kinds(replies)).toEqual([[OPT.LIST, REP.SERVER], [OPT.LIST, REP.ACK]]);
    expect(replies[0].data).toEqual(hex("00 00 00 00"));
    expect(replies.every((r) => r.magic === WIRE.OPTION_REPLY)).toBe(true);
    expect(replies[1].data).toEqual(new Uint8Array(0));
  });

  test("a second LIST is ERR_INVALID and negotiation goes on", async () => {
    const { conn } = await negotiating();
    await conn.option(OPT.LIST);
    expect(kinds(await conn.option(OPT.LIST))).toEqual([[OPT.LIST, REP.ERR_INVALID]]);
    expect(kinds(await conn.option(OPT.GO, infoData("")))).toEqual([
      [OPT.GO, REP.INFO],
      [OPT.GO, REP.ACK],
    ]);
  });

  test("LIST with data is ERR_INVALID and does not count as the one LIST", async () => {
    const { conn } = await negotiating();
    expect(kinds(await conn.option(OPT.LIST, utf8("x")))).toEqual([[OPT.LIST, REP.ERR_INVALID]]);
    expect(kinds(await conn.option(OPT.LIST))).toEqual([
      [OPT.LIST, REP.SERVER],
      [OPT.LIST, REP.ACK],
    ]);
  });
});

describe("export lists, default exports, descriptions and block sizes", () => {
  /** A RAM plugin with an export list and a default export named "disk". */
  function listed(extra: Partial<Plugin> = {}): Plugin {
    const ram = ramPlugin({
      with: {
        exportDescription: () => "the only disk",
        blockSize: () => ({ minimum: 512, preferred: 4096, maximum: 32 * MiB }),
      },
    });
    return {
      ...ram.plugin,
      listExports: () => [{ name: "disk", description: "the only disk" }, { name: "b" }],
      defaultExport: () => "disk",
      ...extra,
    };
  }

  test("LIST sends one SERVER reply per export, the description after the name", async () => {
    const { conn } = await negotiating(listed());
    const replies = await conn.option(OPT.LIST);
    expect(kinds(replies)).toEqual([
      [OPT.LIST, REP.SERVER],
      [OPT.LIST, REP.SERVER],
      [OPT.LIST, REP.ACK],
    ]);
    expect(replies[0].data).toEqual(concat(u32(4), utf8("disk"), utf8("the only disk")));
    expect(replies[1].data).toEqual(concat(u32(1), utf8("b")));
  });

  test("LIST of a plugin without listExports names its default export", async () => {
    const { conn } = await negotiating(listed({ listExports: undefined }));
    const replies = await conn.option(OPT.LIST);
    expect(replies[0].data).toEqual(concat(u32(4), utf8("disk")));
  });

  test("LIST whose listExports fails is ERR_PLATFORM, logged", async () => {
    const failing = listed({
      listExports: () => {
        throw new Error("no list today");
      },
    });
    const { conn, logs } = await negotiating(failing);
    expect(kinds(await conn.option(OPT.LIST))).toEqual([[OPT.LIST, REP.ERR_PLATFORM]]);
    expect(logs.join("")).toMatch(/no list today/);
  });

  test("GO to the default export opens and names its canonical name", async () => {
    const ram = ramPlugin();
    const plugin = { ...ram.plugin, defaultExport: () => "disk" };
    const { conn } = await negotiating(plugin);
    const replies = await conn.option(OPT.GO, infoData("", [INFO.NAME]));
    expect(replies[1].data).toEqual(concat(u16(INFO.NAME), utf8("disk")));
    expect(ram.exportNames).toEqual(["disk"]);
  });

  test("a plugin refusing the default export: GO to it is ERR_UNKNOWN and LIST is empty", async () => {
    const plugin = listed({ defaultExport: () => undefined, listExports: undefined });
    const { conn } = await negotiating(plugin);
    expect(kinds(await conn.option(OPT.GO, infoData("")))).toEqual([[OPT.GO, REP.ERR_UNKNOWN]]);
    expect(kinds(await conn.option(OPT.LIST))).toEqual([[OPT.LIST, REP.ACK]]);
    expect(kinds(await conn.option(OPT.GO, infoData("named"))).pop()).toEqual([OPT.GO, REP.ACK]);
  });

  test("DESCRIPTION and BLOCK_SIZE are answered in request order when the plugin has them", async () => {
    const { conn } = await negotiating(listed());
    const asked = [INFO.BLOCK_SIZE, INFO.DESCRIPTION];
    const replies = await conn.option(OPT.INFO, infoData("disk", asked));
    expect(kinds(replies)).toEqual([
      [OPT.INFO, REP.INFO],
      [OPT.INFO, REP.INFO],
      [OPT.INFO, REP.INFO],
      [OPT.INFO, REP.ACK],
    ]);
    expect(replies[1].data).toEqual(
      concat(u16(INFO.BLOCK_SIZE), u32(512), u32(4096), u32(32 * MiB)),
    );
    expect(replies[2].data).toEqual(concat(u16(INFO.DESCRIPTION), utf8("the only disk")));
  });

  test("block sizes that break nbdkit's rules make the export fail to open", async () => {
    const ram = ramPlugin({
      with: { blockSize: () => ({ minimum: 3, preferred: 4096, maximum: 4096 }) },
    });
    const { conn } = await negotiating(ram.plugin);
    expect(kinds(await conn.option(OPT.GO, infoData("")))).toEqual([[OPT.GO, REP.ERR_UNKNOWN]]);
    expect(ram.closes).toBe(1);
  });
});

describe("NBD_OPT_STARTTLS", () => {
  test("STARTTLS is ERR_UNSUP (no TLS) and negotiation goes on", async () => {
    const { conn } = await negotiating();
    expect(kinds(await conn.option(OPT.STARTTLS))).toEqual([[OPT.STARTTLS, REP.ERR_UNSUP]]);
    expect(kinds(await conn.option(OPT.LIST))[1]).toEqual([OPT.LIST, REP.ACK]);
  });

  test("STARTTLS with data is ERR_INVALID", async () => {
    const { conn } = await negotiating();
    const replies = await conn.option(OPT.STARTTLS, utf8("xyz"));
    expect(kinds(replies)).toEqual([[OPT.STARTTLS, REP.ERR_INVALID]]);
    expect(kinds(await conn.option(OPT.LIST))[1]).toEqual([OPT.LIST, REP.ACK]);
  });
});

describe("NBD_OPT_INFO and NBD_OPT_GO", () => {
  test("INFO answers INFO_EXPORT then ACK, closes the handle, and negotiation goes on", async () => {
    const ram = ramPlugin();
    const { conn } = await negotiating(ram.plugin);
    const replies = await conn.option(OPT.INFO, infoData("disk"));
    expect(kinds(replies)).toEqual([[OPT.INFO, REP.INFO], [OPT.INFO, REP.ACK]]);
    expect(replies[0].data.length).toBe(12);
    expect(parseInfoExport(replies[0].data)).toMatchObject({
      info: INFO.EXPORT,
      size: BigInt(MiB),
    });
    expect([ram.opens, ram.closes]).toEqual([1, 1]);
    // INFO then GO with the same request gives the same information (G7).
    const go = await conn.option(OPT.GO, infoData("disk"));
    expect(go[0].data).toEqual(replies[0].data);
    expect(ram.exportNames).toEqual(["disk", "disk"]);
  });

  test("INFO_EXPORT comes first even when NAME is asked for first", async () => {
    const { conn } = await negotiating();
    const replies = await conn.option(OPT.INFO, infoData("disk", [INFO.NAME]));
    expect(kinds(replies)).toEqual([[OPT.INFO, REP.INFO], [OPT.INFO, REP.INFO], [
      OPT.INFO,
      REP.ACK,
    ]]);
    expect(replies[0].data.subarray(0, 2)).toEqual(u16(INFO.EXPORT));
    expect(replies[1].data).toEqual(concat(u16(INFO.NAME), utf8("disk")));
  });

  test("NAME for the default export is the empty name: a 2-byte reply", async () => {
    const { conn } = await negotiating();
    const replies = await conn.option(OPT.GO, infoData("", [INFO.NAME]));
    expect(replies[1].data).toEqual(u16(INFO.NAME));
  });

  test("EXPORT, DESCRIPTION, BLOCK_SIZE and unknown info codes get nothing extra", async () => {
    const { conn } = await negotiating();
    const asked = [INFO.EXPORT, INFO.DESCRIPTION, INFO.BLOCK_SIZE, 99, 0xffff];
    const replies = await conn.option(OPT.INFO, infoData("", asked));
    expect(kinds(replies)).toEqual([[OPT.INFO, REP.INFO], [OPT.INFO, REP.ACK]]);
  });

  test("NAME asked twice is answered twice, as nbdkit does", async () => {
    const { conn } = await negotiating();
    const replies = await conn.option(OPT.INFO, infoData("d", [INFO.NAME, INFO.NAME]));
    expect(replies.map((r) => r.type)).toEqual([REP.INFO, REP.INFO, REP.INFO, REP.ACK]);
  });

  const malformed: [string, Uint8Array][] = [
    ["no data (N < 6)", new Uint8Array(0)],
    ["5 bytes (N < 6)", hex("00 00 00 00 00")],
    ["a name length past the data (L > N - 6)", concat(u32(10), utf8("ab"), u16(0))],
    ["a count promising more codes than sent", concat(u32(0), u16(3), u16(1))],
    ["trailing bytes after the codes", concat(u32(0), u16(0), hex("00"))],
    ["a name with NUL", concat(u32(2), hex("61 00"), u16(0))],
    ["a name over 4096 bytes", concat(u32(4097), new Uint8Array(4097).fill(0x61), u16(0))],
  ];
  for (const option of [OPT.INFO, OPT.GO]) {
    for (const [what, data] of malformed) {
      test(`${option === OPT.INFO ? "INFO" : "GO"} with ${what} is ERR_INVALID and negotiation goes on`, async () => {
        const ram = ramPlugin();
        const { conn } = await negotiating(ram.plugin);
        expect(kinds(await conn.option(option, data))).toEqual([[option, REP.ERR_INVALID]]);
        expect(ram.opens).toBe(0);
        expect(kinds(await conn.option(OPT.GO, infoData("")))).toEqual([
          [OPT.GO, REP.INFO],
          [OPT.GO, REP.ACK],
        ]);
      });
    }
  }

  test("GO for an export that cannot be opened is ERR_UNKNOWN, logged, and another GO works", async () => {
    const { conn, logs } = await negotiating(withMissingExport());
    expect(kinds(await conn.option(OPT.GO, infoData("missing")))).toEqual([
      [OPT.GO, REP.ERR_UNKNOWN],
    ]);
    expect(logs.join("")).toMatch(/missing/);
    expect(kinds(await conn.option(OPT.INFO, infoData("missing")))).toEqual([
      [OPT.INFO, REP.ERR_UNKNOWN],
    ]);
    expect(kinds(await conn.option(OPT.GO, infoData("present")))).toEqual([
      [OPT.GO, REP.INFO],
      [OPT.GO, REP.ACK],
    ]);
    expect((await conn.roundTrip({ type: CMD.FLUSH, cookie: 1 })).kind).toBe("simple");
  });

  test("requests sent right behind GO in the same chunk are served", async () => {
    const { conn } = await negotiating();
    conn.send(concat(
      wireOption(OPT.GO, infoData("")),
      wireRequest({ type: CMD.READ, cookie: 3, length: 8 }),
    ));
    expect(kinds(await conn.readOptionReplies())).toEqual([[OPT.GO, REP.INFO], [OPT.GO, REP.ACK]]);
    expect(await conn.readBytes(16 + 8)).toEqual(
      concat(u32(WIRE.SIMPLE_REPLY), u32(0), u64(3), new Uint8Array(8)),
    );
  });
});

describe("NBD_OPT_STRUCTURED_REPLY", () => {
  test("STRUCTURED_REPLY is acknowledged, and a repeat too (nbdkit 1.32.5, Q12)", async () => {
    const { conn } = await negotiating();
    expect(kinds(await conn.option(OPT.STRUCTURED_REPLY))).toEqual([
      [OPT.STRUCTURED_REPLY, REP.ACK],
    ]);
    expect(kinds(await conn.option(OPT.STRUCTURED_REPLY))).toEqual([
      [OPT.STRUCTURED_REPLY, REP.ACK],
    ]);
  });

  test("STRUCTURED_REPLY with data is ERR_INVALID and leaves replies simple", async () => {
    const { conn } = await negotiating();
    const replies = await conn.option(OPT.STRUCTURED_REPLY, utf8("x"));
    expect(kinds(replies)).toEqual([[OPT.STRUCTURED_REPLY, REP.ERR_INVALID]]);
    const go = await conn.option(OPT.GO, infoData(""));
    expect(parseInfoExport(go[0].data).flags & TX_FLAG.SEND_DF).toBe(0);
    expect((await conn.roundTrip({ type: CMD.READ, cookie: 1, length: 4 })).kind).toBe("simple");
  });

  test("with --no-sr STRUCTURED_REPLY is ERR_UNSUP and replies stay simple", async () => {
    const { conn } = await negotiating(undefined, { noStructuredReplies: true });
    const replies = await conn.option(OPT.STRUCTURED_REPLY);
    expect(kinds(replies)).toEqual([[OPT.STRUCTURED_REPLY, REP.ERR_UNSUP]]);
    const go = await conn.option(OPT.GO, infoData(""));
    expect(parseInfoExport(go[0].data).flags & TX_FLAG.SEND_DF).toBe(0);
    expect((await conn.roundTrip({ type: CMD.READ, cookie: 1, length: 4 })).kind).toBe("simple");
  });
});

describe("NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT (section 5.3)", () => {
  const LIST = OPT.LIST_META_CONTEXT;
  const SET = OPT.SET_META_CONTEXT;

  test("LIST with no queries offers base:allocation with id 0, even without SR (Q8)", async () => {
    const { conn } = await negotiating();
    const replies = await conn.option(LIST, metaContextData("", []));
    expect(kinds(replies)).toEqual([[LIST, REP.META_CONTEXT], [LIST, REP.ACK]]);
    expect(parseMetaContext(replies[0].data)).toEqual({ id: 0, name: "base:allocation" });
  });

  for (const query of ["base:", "base:allocation"]) {
    test(`LIST of "${query}" answers base:allocation with id 0`, async () => {
      const { conn } = await negotiating();
      const replies = await conn.option(LIST, metaContextData("", [query]));
      expect(kinds(replies)).toEqual([[LIST, REP.META_CONTEXT], [LIST, REP.ACK]]);
      expect(parseMetaContext(replies[0].data)).toEqual({ id: 0, name: "base:allocation" });
    });
  }

  test("queries in unknown namespaces or for unknown base: leaves are ignored", async () => {
    const { conn } = await negotiating();
    await conn.option(OPT.STRUCTURED_REPLY);
    const queries = ["qemu:dirty-bitmap:a", "base:unknown", "nbd-server:x", "x-y:z", "nocolon"];
    expect(kinds(await conn.option(LIST, metaContextData("", queries)))).toEqual([
      [LIST, REP.ACK],
    ]);
    expect(kinds(await conn.option(SET, metaContextData("", queries)))).toEqual([[SET, REP.ACK]]);
  });

  test("META_CONTEXT options do not open the export they name", async () => {
    const ram = ramPlugin();
    const { conn } = await negotiating(ram.plugin);
    await conn.option(OPT.STRUCTURED_REPLY);
    await conn.option(LIST, metaContextData("nowhere", []));
    await conn.option(SET, metaContextData("nowhere", ["base:allocation"]));
    expect(ram.opens).toBe(0);
  });

  test("SET before STRUCTURED_REPLY is ERR_INVALID", async () => {
    const { conn } = await negotiating();
    const replies = await conn.option(SET, metaContextData("", ["base:allocation"]));
    expect(kinds(replies)).toEqual([[SET, REP.ERR_INVALID]]);
  });

  const malformed: [string, Uint8Array][] = [
    ["fewer than 8 bytes", hex("00 00 00 00")],
    ["a name length past the data", concat(u32(9), utf8("abcd"), u32(0))],
    ["a query count past the data", concat(u32(0), u32(1))],
    ["a query length past the data", concat(u32(0), u32(1), u32(99), utf8("base:"))],
    ["a query with NUL", concat(u32(0), u32(1), u32(2), hex("61 00"))],
  ];
  for (const option of [LIST, SET]) {
    for (const [what, data] of malformed) {
      const name = option === LIST ? "LIST" : "SET";
      test(`${name}_META_CONTEXT with ${what} is ERR_INVALID and negotiation goes on`, async () => {
        const { conn } = await negotiating();
        await conn.option(OPT.STRUCTURED_REPLY);
        expect(kinds(await conn.option(option, data))).toEqual([[option, REP.ERR_INVALID]]);
        expect(kinds(await conn.option(OPT.LIST))[1]).toEqual([OPT.LIST, REP.ACK]);
      });
    }
  }

  /** Negotiates SR, runs `before`, then GOes to `goName` and asks for block status. */
  async function blockStatusAfter(
    before: (conn: Awaited<ReturnType<typeof negotiating>>["conn"]) => Promise<void>,
    goName = "",
  ): Promise<number> {
    const { conn } = await negotiating();
    await conn.option(OPT.STRUCTURED_REPLY);
    await before(conn);
    expect(kinds(await conn.option(OPT.GO, infoData(goName))).pop()).toEqual([OPT.GO, REP.ACK]);
    const reply = await conn.roundTrip({ type: CMD.BLOCK_STATUS, cookie: 1, length: 512 });
    return errorOf(reply);
  }

  test("SET of base:allocation answers id 1 and enables BLOCK_STATUS", async () => {
    const error = await blockStatusAfter(async (conn) => {
      const replies = await conn.option(SET, metaContextData("", ["base:allocation"]));
      expect(kinds(replies)).toEqual([[SET, REP.META_CONTEXT], [SET, REP.ACK]]);
      expect(parseMetaContext(replies[0].data)).toEqual({ id: 1, name: "base:allocation" });
    });
    expect(error).toBe(0);
  });

  test("SET of the same export name as GO keeps the selection", async () => {
    const error = await blockStatusAfter(async (conn) => {
      await conn.option(SET, metaContextData("disk", ["base:allocation"]));
    }, "disk");
    expect(error).toBe(0);
  });

  test("SET of base: selects nothing: BLOCK_STATUS is EINVAL", async () => {
    const error = await blockStatusAfter(async (conn) => {
      expect(kinds(await conn.option(SET, metaContextData("", ["base:"])))).toEqual([
        [SET, REP.ACK],
      ]);
    });
    expect(error).toBe(22);
  });

  test("SET with no queries clears an earlier selection", async () => {
    const error = await blockStatusAfter(async (conn) => {
      await conn.option(SET, metaContextData("", ["base:allocation"]));
      expect(kinds(await conn.option(SET, metaContextData("", [])))).toEqual([[SET, REP.ACK]]);
    });
    expect(error).toBe(22);
  });

  test("SET for another export name, then GO, clears the selection", async () => {
    const error = await blockStatusAfter(async (conn) => {
      await conn.option(SET, metaContextData("other", ["base:allocation"]));
    });
    expect(error).toBe(22);
  });

  test("a failed SET clears an earlier selection (M4, Q5)", async () => {
    const error = await blockStatusAfter(async (conn) => {
      await conn.option(SET, metaContextData("", ["base:allocation"]));
      const replies = await conn.option(SET, concat(u32(0), u32(1)));
      expect(kinds(replies)).toEqual([[SET, REP.ERR_INVALID]]);
    });
    expect(error).toBe(22);
  });

  test("LIST does not change the selection", async () => {
    const error = await blockStatusAfter(async (conn) => {
      await conn.option(SET, metaContextData("", ["base:allocation"]));
      await conn.option(LIST, metaContextData("other", []));
    });
    expect(error).toBe(0);
  });
});

describe("unknown and out-of-order options", () => {
  for (const option of [0, OPT.PEEK_EXPORT, 12, 99, 0xffffffff]) {
    test(`option ${option} with data is ERR_UNSUP and negotiation goes on in step`, async () => {
      const { conn } = await negotiating();
      const replies = await conn.option(option, utf8("some data to skip"));
      expect(kinds(replies)).toEqual([[option, REP.ERR_UNSUP]]);
      expect(replies[0].data.length).toBe(0);
      expect(kinds(await conn.option(OPT.LIST))[1]).toEqual([OPT.LIST, REP.ACK]);
    });
  }

  test("a client without FIXED_NEWSTYLE gets ERR_INVALID for GO, its data skipped (Q1)", async () => {
    const { conn } = await negotiating(undefined, {}, 0);
    expect(kinds(await conn.option(OPT.GO, infoData("disk")))).toEqual([
      [OPT.GO, REP.ERR_INVALID],
    ]);
    conn.send(wireOption(OPT.EXPORT_NAME, utf8("disk")));
    const reply = await conn.readBytes(134);
    expect(reply.subarray(0, 8)).toEqual(u64(MiB));
  });
});

describe("limits on negotiation", () => {
  test("32 options are answered, then the connection closes without waiting for a 33rd", async () => {
    const { conn, logs } = await negotiating();
    for (let i = 0; i < 32; i++) {
      expect(kinds(await conn.option(99))).toEqual([[99, REP.ERR_UNSUP]]);
    }
    await conn.closed();
    expect(conn.unread).toBe(0);
    expect(logs.join("")).toMatch(/limit MAX_OPTIONS=32 exceeded by test/);
  });

  test("a 32nd option that is INFO is answered and its export closed before the connection", async () => {
    const ram = ramPlugin();
    const { conn } = await negotiating(ram.plugin);
    for (let i = 0; i < 31; i++) await conn.option(99);
    expect(kinds(await conn.option(OPT.INFO, infoData("")))).toEqual([
      [OPT.INFO, REP.INFO],
      [OPT.INFO, REP.ACK],
    ]);
    await conn.closed();
    await conn.settle();
    expect([ram.opens, ram.closes]).toEqual([1, 1]);
  });

  test("the 32nd option may still be GO", async () => {
    const { conn } = await negotiating();
    for (let i = 0; i < 31; i++) await conn.option(99);
    expect(kinds(await conn.option(OPT.GO, infoData(""))).pop()).toEqual([OPT.GO, REP.ACK]);
    expect((await conn.roundTrip({ type: CMD.FLUSH, cookie: 1 })).kind).toBe("simple");
  });

  test("an option with a bad magic closes the connection unanswered", async () => {
    const { conn, logs } = await negotiating();
    conn.send(wireOption(OPT.LIST, undefined, { magic: WIRE.NBDMAGIC }));
    await conn.closed();
    expect(conn.unread).toBe(0);
    expect(logs.join("")).toMatch(/bad magic/);
  });

  test("option data over 64 MiB closes the connection unanswered", async () => {
    const { conn } = await negotiating();
    conn.send(wireOption(99, undefined, { length: 64 * MiB + 1 }));
    await conn.closed();
    expect(conn.unread).toBe(0);
  });

  test("end of stream during negotiation closes quietly", async () => {
    const { conn, logs } = await negotiating();
    await conn.option(OPT.LIST);
    conn.end();
    await conn.closed();
    expect(logs).toEqual([]);
  });

  test("a LIST naming one export allows 32 more options (nbdkit)", async () => {
    const { conn } = await negotiating();
    await conn.option(OPT.LIST);
    for (let i = 0; i < 31; i++) await conn.option(99);
    // Option 33: nbdkit's send_newstyle_option_reply_exportnames added 32 per listed export.
    conn.send(wireOption(OPT.GO, infoData("")));
    await waitFor(() => conn.unread > 0 || conn.channel.closed, "an answer or a close");
    expect(conn.channel.closed).toBe(false);
    expect(kinds(await conn.readOptionReplies()).pop()).toEqual([OPT.GO, REP.ACK]);
  });
});

describe("transmission flags (section 5.5)", () => {
  test("a memory-like plugin advertises 0x0DED with SR and 0x0D6D without", async () => {
    for (const [sr, expected] of [[true, 0x0ded], [false, 0x0d6d]] as const) {
      const { conn } = await negotiating(memoryLike());
      if (sr) await conn.option(OPT.STRUCTURED_REPLY);
      const replies = await conn.option(OPT.GO, infoData(""));
      expect(parseInfoExport(replies[0].data).flags).toBe(expected);
    }
  });

  test("read-only (-r) it advertises 0x0587 with SR and 0x0507 without", async () => {
    for (const [sr, expected] of [[true, 0x0587], [false, 0x0507]] as const) {
      const { conn } = await negotiating(memoryLike(), { readonly: true });
      if (sr) await conn.option(OPT.STRUCTURED_REPLY);
      const replies = await conn.option(OPT.INFO, infoData(""));
      expect(parseInfoExport(replies[0].data).flags).toBe(expected);
    }
  });

  test("SEND_DF follows whether SR was agreed before this INFO", async () => {
    const { conn } = await negotiating(memoryLike());
    const before = await conn.option(OPT.INFO, infoData(""));
    await conn.option(OPT.STRUCTURED_REPLY);
    const after = await conn.option(OPT.INFO, infoData(""));
    expect(parseInfoExport(before[0].data).flags & TX_FLAG.SEND_DF).toBe(0);
    expect(parseInfoExport(after[0].data).flags & TX_FLAG.SEND_DF).toBe(TX_FLAG.SEND_DF);
  });

  test("CAN_MULTI_CONN needs a thread model above SERIALIZE_CONNECTIONS", async () => {
    const flagsUnder = async (threadModel: (typeof THREAD_MODEL)[keyof typeof THREAD_MODEL]) => {
      const { conn } = await negotiating(memoryLike(), { threadModel });
      const replies = await conn.option(OPT.INFO, infoData(""));
      return parseInfoExport(replies[0].data).flags & TX_FLAG.CAN_MULTI_CONN;
    };
    expect(await flagsUnder(THREAD_MODEL.SERIALIZE_CONNECTIONS)).toBe(0);
    expect(await flagsUnder(THREAD_MODEL.SERIALIZE_ALL_REQUESTS)).toBe(TX_FLAG.CAN_MULTI_CONN);
    expect(await flagsUnder(THREAD_MODEL.SERIALIZE_REQUESTS)).toBe(TX_FLAG.CAN_MULTI_CONN);
    expect(await flagsUnder(THREAD_MODEL.PARALLEL)).toBe(TX_FLAG.CAN_MULTI_CONN);
  });

  const { HAS_FLAGS, READ_ONLY, SEND_FLUSH, SEND_FUA, ROTATIONAL, SEND_TRIM } = TX_FLAG;
  const { SEND_WRITE_ZEROES, SEND_DF, CAN_MULTI_CONN, SEND_CACHE, SEND_FAST_ZERO } = TX_FLAG;
  const none: Capabilities = {
    size: 0,
    writable: false,
    flush: false,
    fua: FUA_MODE.NONE,
    trim: false,
    zeroNative: false,
    fastZero: false,
    extents: false,
    multiConn: false,
    cache: CACHE_MODE.NONE,
    rotational: false,
    blockSize: undefined,
  };
  const rows: [string, Partial<Capabilities>, boolean, number][] = [
    ["nothing: read-only", {}, false, HAS_FLAGS | READ_ONLY],
    ["nothing, with SR: read-only with DF", {}, true, HAS_FLAGS | READ_ONLY | SEND_DF],
    [
      "writable: write zeroes always (emulated)",
      { writable: true },
      false,
      HAS_FLAGS |
      SEND_WRITE_ZEROES,
    ],
    [
      "writable with fast zero",
      { writable: true, fastZero: true },
      false,
      HAS_FLAGS |
      SEND_WRITE_ZEROES | SEND_FAST_ZERO,
    ],
    [
      "writable with trim and emulated FUA",
      {
        writable: true,
        trim: true,
        fua: FUA_MODE.EMULATE,
      },
      false,
      HAS_FLAGS | SEND_WRITE_ZEROES | SEND_TRIM | SEND_FUA,
    ],
    ["flush on a read-only export", { flush: true }, false, HAS_FLAGS | READ_ONLY | SEND_FLUSH],
    [
      "trim, FUA and fast zero are dropped when read-only",
      {
        trim: true,
        fua: FUA_MODE.NATIVE,
        fastZero: true,
      },
      false,
      HAS_FLAGS | READ_ONLY,
    ],
    ["rotational", { rotational: true }, false, HAS_FLAGS | READ_ONLY | ROTATIONAL],
    ["multi-conn", { multiConn: true }, false, HAS_FLAGS | READ_ONLY | CAN_MULTI_CONN],
    ["emulated cache", { cache: CACHE_MODE.EMULATE }, false, HAS_FLAGS | READ_ONLY | SEND_CACHE],
    ["native cache", { cache: CACHE_MODE.NATIVE }, false, HAS_FLAGS | READ_ONLY | SEND_CACHE],
  ];
  for (const [what, caps, sr, expected] of rows) {
    test(`${what} gives 0x${expected.toString(16)}`, () => {
      expect(transmissionFlags(
        { ...none, ...caps },
        { chunks: sr, blockStatusPayload: false },
        THREAD_MODEL.PARALLEL,
      )).toBe(expected);
    });
  }
});

describe("negotiation choices compared with nbdkit", () => {
  test("LIST_META_CONTEXT answers each matching query, as nbdkit does", async () => {
    const { conn } = await negotiating();
    const replies = await conn.option(
      OPT.LIST_META_CONTEXT,
      metaContextData("", ["base:", "base:allocation"]),
    );
    expect(replies.map((r) => r.type)).toEqual([REP.META_CONTEXT, REP.META_CONTEXT, REP.ACK]);
  });

  // nbdkit 1.32.5's check_string does not check UTF-8 and accepts this; the spec says strings
  // are UTF-8, so we refuse it (ERR_INVALID, and the session goes on).
  test("an export name that is not UTF-8 is refused by GO, unlike nbdkit", async () => {
    const { conn } = await negotiating();
    const data = concat(u32(2), hex("FF FE"), u16(0));
    expect(kinds(await conn.option(OPT.GO, data)).pop()).toEqual([OPT.GO, REP.ERR_INVALID]);
  });
});

describe("the block status selection survives into transmission", () => {
  test("BLOCK_STATUS after SET and GO reports context id 1", async () => {
    const { conn } = await negotiating();
    await conn.option(OPT.STRUCTURED_REPLY);
    await conn.option(OPT.SET_META_CONTEXT, metaContextData("", ["base:allocation"]));
    await conn.option(OPT.GO, infoData(""));
    const reply = await conn.roundTrip({ type: CMD.BLOCK_STATUS, cookie: 1, length: 512 });
    if (reply.kind !== "chunk") throw new Error("expected a chunk");
    expect(parseBlockStatus(reply.payload).id).toBe(1);
  });
});
