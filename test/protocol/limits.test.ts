/**
 * Every limit of src/protocol/limits.ts, fed bytes through an in-memory connection: each is enforced with
 * the answer nbdkit gives (or the spec prescribes), and each time a client goes over one the log
 * names the limit, its value and the peer ("test" here). The handshake deadline runs on manual
 * timers, so no test waits for real time.
 */

import { describe, expect, test } from "vitest";
import { ConfigError } from "../../src/api/errors.ts";
import { advertisedBlockSize, LIMITS, resolveLimits } from "../../src/protocol/limits.ts";
import type { Plugin } from "../../src/api/plugin.ts";
import { CMD, HANDSHAKE_FLAG, INFO, NBD_ERR, OPT, REP } from "../../src/protocol/constants.ts";
import { blockStatusHold } from "../../src/connection/block-status.ts";
import { ManualTimers } from "../helpers/manual-timers.ts";
import {
  concat,
  connect,
  deferred,
  errorOf,
  infoData,
  metaContextData,
  type TestConnection,
  testServer,
  type TestServerOptions,
  u16,
  u32,
  utf8,
  wireClientFlags,
  wireExtendedRequest,
  wireOption,
  wireRequest,
} from "../helpers/wire.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const FLAGS = HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES;

/** A connection past greeting and client flags, and the server's log. */
async function negotiating(options: TestServerOptions = {}, plugin: Plugin = ramPlugin().plugin) {
  const { server, logs } = testServer(plugin, options);
  const conn = connect(server);
  await conn.readGreeting();
  conn.send(wireClientFlags(FLAGS));
  return { conn, logs, server };
}

/** A connection in transmission on a 64 MiB RAM disk. */
async function transmitting(options: TestServerOptions = {}) {
  const { server, logs } = testServer(ramPlugin({ size: 64 * MiB }).plugin, options);
  const conn = connect(server);
  await conn.handshake();
  return { conn, logs };
}

function lastType(replies: { type: number }[]): number {
  return replies[replies.length - 1].type;
}

describe("resolveLimits: what an embedder may set", () => {
  test("the defaults are nbdkit's 64 MiB payload, a 128 MiB skip and a 60 s deadline", () => {
    expect(resolveLimits()).toEqual({
      maxPayload: 64 * MiB,
      skipLimit: 128 * MiB,
      maxBytesInFlight: 128 * MiB,
      handshakeTimeoutMs: 60_000,
    });
  });

  test("a small maxPayload still skips up to 2^25 bytes, as the spec asks", () => {
    expect(resolveLimits({ maxPayload: 64 * KiB })).toMatchObject({
      maxPayload: 64 * KiB,
      skipLimit: 32 * MiB,
      maxBytesInFlight: 128 * MiB,
    });
    expect(resolveLimits({ maxPayload: 256 * MiB })).toMatchObject({
      skipLimit: 512 * MiB,
      maxBytesInFlight: 512 * MiB,
    });
  });

  test.each([
    ["maxPayload", { maxPayload: 64 * KiB - 1 }],
    ["maxPayload", { maxPayload: 1024 * MiB + 1 }],
    ["maxPayload", { maxPayload: 1.5 * MiB + 0.5 }],
    ["handshakeTimeoutMs", { handshakeTimeoutMs: -1 }],
    ["handshakeTimeoutMs", { handshakeTimeoutMs: Infinity }],
  ])("%s out of range is a ConfigError naming it (%o)", (name, options) => {
    expect(() => resolveLimits(options)).toThrow(ConfigError);
    expect(() => resolveLimits(options)).toThrow(name);
  });
});

describe("advertisedBlockSize: never promise more than maxPayload", () => {
  test("without plugin sizes nothing is sent while maxPayload is at least 2^25", () => {
    expect(advertisedBlockSize(undefined, 64 * MiB)).toBeUndefined();
    expect(advertisedBlockSize(undefined, 32 * MiB)).toBeUndefined();
  });

  test("without plugin sizes a smaller maxPayload is sent with the spec's defaults", () => {
    expect(advertisedBlockSize(undefined, 1 * MiB)).toEqual({
      minimum: 1,
      preferred: 4096,
      maximum: 1 * MiB,
    });
  });

  test("plugin sizes under maxPayload are sent as they are", () => {
    const sizes = { minimum: 512, preferred: 4096, maximum: 32 * MiB };
    expect(advertisedBlockSize(sizes, 64 * MiB)).toBe(sizes);
  });

  test("a plugin maximum over maxPayload (or 'no limit') is capped to a multiple of minimum", () => {
    const noLimit = { minimum: 4096, preferred: 64 * KiB, maximum: 0xffffffff };
    expect(advertisedBlockSize(noLimit, 64 * MiB)).toEqual({ ...noLimit, maximum: 64 * MiB });
    const odd = { minimum: 4096, preferred: 4096, maximum: 0xffffffff };
    expect(advertisedBlockSize(odd, 100_000)).toEqual({ ...odd, maximum: 98_304 });
  });

  test("a preferred size over the capped maximum is lowered to a power of two under it", () => {
    const big = { minimum: 512, preferred: 32 * MiB, maximum: 0xffffffff };
    expect(advertisedBlockSize(big, 3 * MiB)).toEqual({
      minimum: 512,
      preferred: 2 * MiB,
      maximum: 3 * MiB,
    });
  });
});

describe("option limits (nbdkit's negotiate_handshake_newstyle_options)", () => {
  test("option data over 64 MiB closes the connection unanswered and is logged", async () => {
    const { conn, logs } = await negotiating();
    conn.send(wireOption(OPT.GO, undefined, { length: LIMITS.MAX_OPTION_DATA + 1 }));
    await conn.closed();
    expect(conn.unread).toBe(0);
    expect(logs).toEqual([
      "nbdts: ram[1]: error: limit MAX_OPTION_DATA=67108864 exceeded by test: " +
      "option 7 with 67108865 bytes of data; connection closed\n",
    ]);
  });

  test("option data of exactly 64 MiB is read and answered", async () => {
    const { conn, logs } = await negotiating();
    const replies = await conn.option(99, new Uint8Array(LIMITS.MAX_OPTION_DATA));
    expect(replies.map((r) => r.type)).toEqual([REP.ERR_UNSUP]);
    expect(logs).toEqual([]);
  });

  test("a 4096-byte export name is accepted by GO", async () => {
    const { conn, logs } = await negotiating();
    const replies = await conn.option(OPT.GO, infoData("n".repeat(4096)));
    expect(lastType(replies)).toBe(REP.ACK);
    expect(logs).toEqual([]);
  });

  test("a 4097-byte export name gets ERR_INVALID from INFO and GO, logged, and haggling goes on", async () => {
    const { conn, logs } = await negotiating();
    for (const option of [OPT.INFO, OPT.GO]) {
      const replies = await conn.option(option, infoData("n".repeat(4097)));
      expect(replies.map((r) => r.type)).toEqual([REP.ERR_INVALID]);
    }
    expect(logs).toEqual(
      [OPT.INFO, OPT.GO].map((option) =>
        "nbdts: ram[1]: error: limit MAX_STRING=4096 exceeded by test: " +
        `export name of 4097 bytes in option ${option}; answered ERR_INVALID\n`
      ),
    );
    expect(lastType(await conn.option(OPT.GO, infoData("")))).toBe(REP.ACK);
  });

  test("a 4097-byte export name in EXPORT_NAME closes the connection, logged", async () => {
    const { conn, logs } = await negotiating();
    conn.send(wireOption(OPT.EXPORT_NAME, utf8("n".repeat(4097))));
    await conn.closed();
    expect(conn.unread).toBe(0);
    expect(logs.join("")).toMatch(
      /limit MAX_STRING=4096 exceeded by test: export name of 4097 bytes in option 1; connection closed/,
    );
  });

  test("a 4097-byte meta-context query gets ERR_INVALID, logged", async () => {
    const { conn, logs } = await negotiating();
    await conn.option(OPT.STRUCTURED_REPLY);
    const data = metaContextData("", ["base:allocation", "q".repeat(4097)]);
    const replies = await conn.option(OPT.SET_META_CONTEXT, data);
    expect(lastType(replies)).toBe(REP.ERR_INVALID);
    expect(logs.join("")).toMatch(/limit MAX_STRING=4096 .* meta-context query of 4097 bytes/);
  });

  test("4096 meta-context queries are answered; 4097 get ERR_TOO_BIG, logged", async () => {
    const { conn, logs } = await negotiating();
    const at = await conn.option(
      OPT.LIST_META_CONTEXT,
      metaContextData("", Array(4096).fill("base:")),
    );
    expect(at.length).toBe(4097);
    expect(lastType(at)).toBe(REP.ACK);
    const over = metaContextData("", Array(4097).fill("base:"));
    expect((await conn.option(OPT.LIST_META_CONTEXT, over)).map((r) => r.type)).toEqual([
      REP.ERR_TOO_BIG,
    ]);
    expect(logs).toEqual([
      "nbdts: ram[1]: error: limit MAX_META_CONTEXT_QUERIES=4096 exceeded by test: " +
      "4097 queries in option 9; answered ERR_TOO_BIG\n",
    ]);
  });

  test("a flood of 200 000 meta-context queries is refused, and the server serves on", async () => {
    // Regression: the replies were pushed with one spread call, which overflowed the stack and,
    // as an unhandled rejection, ended the whole server process on Node.
    const { conn, server } = await negotiating();
    await conn.option(OPT.STRUCTURED_REPLY);
    const query = concat(u32(15), utf8("base:allocation"));
    const flood = new Uint8Array(8 + 200_000 * query.length);
    flood.set(u32(200_000), 4);
    for (let i = 0; i < 200_000; i++) flood.set(query, 8 + i * query.length);
    for (const option of [OPT.LIST_META_CONTEXT, OPT.SET_META_CONTEXT]) {
      expect((await conn.option(option, flood)).map((r) => r.type)).toEqual([REP.ERR_TOO_BIG]);
    }
    expect(lastType(await conn.option(OPT.GO, infoData("")))).toBe(REP.ACK);
    await connect(server).handshake();
  });

  test("a name length that overruns the option is ERR_INVALID, not a string-limit hit", async () => {
    const { conn, logs } = await negotiating();
    const lying = concat(u32(5000), utf8("short"), u16(0));
    expect((await conn.option(OPT.GO, lying)).map((r) => r.type)).toEqual([REP.ERR_INVALID]);
    expect(logs).toEqual([]);
  });

  test("the 32nd option is answered, then the connection closes, logged once", async () => {
    const { conn, logs } = await negotiating();
    for (let i = 0; i < 31; i++) await conn.option(OPT.STRUCTURED_REPLY);
    expect((await conn.option(OPT.STRUCTURED_REPLY)).map((r) => r.type)).toEqual([REP.ACK]);
    await conn.closed();
    expect(logs).toEqual([
      "nbdts: ram[1]: error: limit MAX_OPTIONS=32 exceeded by test: " +
      "options without choosing an export; connection closed\n",
    ]);
  });
});

describe("payload limits (nbdkit's validate_request and skip_over_write_buffer)", () => {
  const small = { limits: { maxPayload: 64 * KiB } };

  test("a READ of maxPayload bytes is served; one byte more gets ENOMEM, logged", async () => {
    const { conn, logs } = await transmitting(small);
    const ok = await conn.roundTrip({ type: CMD.READ, cookie: 1, length: 64 * KiB });
    expect(errorOf(ok)).toBe(NBD_ERR.SUCCESS);
    const over = await conn.roundTrip({ type: CMD.READ, cookie: 2, length: 64 * KiB + 1 });
    expect(errorOf(over)).toBe(NBD_ERR.ENOMEM);
    expect(logs).toEqual([
      "nbdts: ram[1]: error: limit maxPayload=65536 exceeded by test: " +
      "READ of 65537 bytes; answered ENOMEM\n",
    ]);
  });

  test("the default maxPayload is 64 MiB: a READ of 64 MiB + 1 gets ENOMEM", async () => {
    const { server, logs } = testServer(ramPlugin({ size: 128 * MiB }).plugin);
    const conn = connect(server);
    await conn.handshake();
    const over = await conn.roundTrip({ type: CMD.READ, cookie: 3, length: 64 * MiB + 1 });
    expect(errorOf(over)).toBe(NBD_ERR.ENOMEM);
    expect(logs.join("")).toMatch(/limit maxPayload=67108864 .* READ of 67108865 bytes/);
  });

  test("a WRITE over maxPayload is read, thrown away and answered ENOMEM; the next one works", async () => {
    const { conn, logs } = await transmitting(small);
    const payload = new Uint8Array(64 * KiB + 1).fill(7);
    const over = await conn.roundTrip({ type: CMD.WRITE, cookie: 4, payload });
    expect(errorOf(over)).toBe(NBD_ERR.ENOMEM);
    const next = await conn.roundTrip({ type: CMD.WRITE, cookie: 5, payload: utf8("ok") });
    expect(errorOf(next)).toBe(NBD_ERR.SUCCESS);
    expect(logs.join("")).toMatch(
      /limit maxPayload=65536 .* WRITE of 65537 bytes; answered ENOMEM/,
    );
  });

  test("with a small maxPayload a 32 MiB WRITE is still skipped, not a disconnect (spec)", async () => {
    const { conn } = await transmitting(small);
    const payload = new Uint8Array(32 * MiB);
    const over = await conn.roundTrip({ type: CMD.WRITE, cookie: 6, payload });
    expect(errorOf(over)).toBe(NBD_ERR.ENOMEM);
    expect(conn.channel.closed).toBe(false);
  });

  test("a WRITE over the skip limit closes the connection from its header, logged", async () => {
    const { conn, logs } = await transmitting();
    conn.send(wireRequest({ type: CMD.WRITE, cookie: 7, length: 128 * MiB + 1 }));
    await conn.closed();
    expect(conn.unread).toBe(0);
    expect(logs.join("")).toMatch(
      /limit skipLimit=134217728 exceeded by test: WRITE of 134217729 bytes, too large to skip; connection closed/,
    );
  });

  test("a maxPayload under 2^25 is advertised in NBD_INFO_BLOCK_SIZE when asked", async () => {
    const { conn } = await negotiating({ limits: { maxPayload: 1 * MiB } });
    const replies = await conn.option(OPT.INFO, infoData("", [INFO.BLOCK_SIZE]));
    expect(replies[1].data).toEqual(concat(u16(INFO.BLOCK_SIZE), u32(1), u32(4096), u32(MiB)));
  });

  test("the default maxPayload advertises nothing, as nbdkit does for the memory plugin", async () => {
    const { conn } = await negotiating();
    const replies = await conn.option(OPT.INFO, infoData("", [INFO.BLOCK_SIZE]));
    expect(replies.map((r) => r.type)).toEqual([REP.INFO, REP.ACK]);
  });

  test("a plugin maximum over maxPayload is advertised capped", async () => {
    const plugin = ramPlugin({
      with: { blockSize: () => ({ minimum: 512, preferred: 4096, maximum: 0xffffffff }) },
    }).plugin;
    const { conn } = await negotiating({ limits: { maxPayload: 4 * MiB } }, plugin);
    const replies = await conn.option(OPT.GO, infoData("", [INFO.BLOCK_SIZE]));
    expect(replies[1].data).toEqual(
      concat(u16(INFO.BLOCK_SIZE), u32(512), u32(4096), u32(4 * MiB)),
    );
  });
});

describe("the handshake deadline", () => {
  const DEADLINE = LIMITS.DEFAULT_HANDSHAKE_TIMEOUT_MS;

  function withTimers(handshakeTimeoutMs?: number) {
    const timers = new ManualTimers();
    const { server, logs } = testServer(ramPlugin().plugin, {
      timers,
      limits: { handshakeTimeoutMs },
    });
    return { timers, server, logs };
  }

  test("a client that says nothing is closed when the deadline passes, logged", async () => {
    const { timers, server, logs } = withTimers();
    const conn = connect(server);
    await conn.readGreeting();
    timers.advance(DEADLINE - 1);
    await conn.settle();
    expect(conn.channel.closed).toBe(false);
    timers.advance(1);
    await conn.closed();
    expect(logs).toEqual([
      "nbdts: ram[1]: error: limit handshakeTimeoutMs=60000 exceeded by test: " +
      "negotiation not finished in time; connection closed\n",
    ]);
  });

  test("a client that trickles an option a byte at a time is closed all the same", async () => {
    const { timers, server } = withTimers();
    const conn = connect(server);
    await conn.readGreeting();
    conn.send(wireClientFlags(FLAGS));
    const option = wireOption(OPT.GO, infoData(""));
    for (let at = 0; at < 6; at++) {
      conn.send(option.subarray(at, at + 1));
      timers.advance(10_000);
      await conn.settle(1);
    }
    await conn.closed();
  });

  test("a client that keeps sending valid options is closed all the same", async () => {
    const { timers, server } = withTimers();
    const conn = connect(server);
    await conn.readGreeting();
    conn.send(wireClientFlags(FLAGS));
    for (let i = 0; i < 6; i++) {
      await conn.option(OPT.LIST_META_CONTEXT, metaContextData("", []));
      timers.advance(10_000);
    }
    await conn.closed();
  });

  test("the deadline stops at GO: an idle connection in transmission stays open", async () => {
    const { timers, server } = withTimers();
    const conn = connect(server);
    timers.advance(DEADLINE - 1000);
    await conn.handshake();
    expect(timers.pending).toBe(0);
    timers.advance(3_600_000);
    await conn.settle();
    expect(errorOf(await conn.roundTrip({ type: CMD.FLUSH, cookie: 1 }))).toBe(NBD_ERR.SUCCESS);
  });

  test("the deadline stops at EXPORT_NAME too", async () => {
    const { timers, server } = withTimers();
    const conn = connect(server);
    await conn.readGreeting();
    conn.send(wireClientFlags(FLAGS));
    conn.send(wireOption(OPT.EXPORT_NAME));
    await conn.readBytes(10);
    expect(timers.pending).toBe(0);
  });

  test("a client that leaves first cancels its deadline", async () => {
    const { timers, server, logs } = withTimers();
    const conn = connect(server);
    await conn.readGreeting();
    expect(timers.pending).toBe(1);
    conn.end();
    await conn.closed();
    expect(timers.pending).toBe(0);
    expect(logs).toEqual([]);
  });

  test("handshakeTimeoutMs 0 sets no deadline", async () => {
    const { timers, server } = withTimers(0);
    const conn = connect(server);
    await conn.readGreeting();
    expect(timers.pending).toBe(0);
  });

  test("a deadline passing while GO opens the export closes the handle it opened", async () => {
    const ram = ramPlugin();
    const opening = deferred();
    const slow: Plugin = {
      ...ram.plugin,
      async open(readonly, name) {
        await opening.promise;
        return ram.plugin.open(readonly, name);
      },
    };
    const timers = new ManualTimers();
    const { server } = testServer(slow, { timers });
    const conn: TestConnection = connect(server);
    await conn.readGreeting();
    conn.send(wireClientFlags(FLAGS));
    conn.send(wireOption(OPT.GO, infoData("")));
    await conn.settle();
    timers.advance(DEADLINE);
    await conn.closed();
    const written = conn.channel.length;
    opening.resolve();
    await conn.settle();
    expect(ram.opens).toBe(1);
    expect(ram.closes).toBe(1);
    expect(conn.channel.length).toBe(written);
    expect(conn.channel.writesAfterClose).toBe(0);
  });
});

describe("backpressure limits", () => {
  for (const extendedHeaders of [false, true]) {
    const what = extendedHeaders ? "extended" : "compact";
    const atOnce = Math.ceil(resolveLimits().maxBytesInFlight / blockStatusHold(extendedHeaders));
    test(`BLOCK_STATUS counts the extents it may hold: ${atOnce} ${what} at a time`, async () => {
      // Without the count, a client asking for the map of a fragmented disk 64 times at once
      // made the server hold 64 full extent lists.
      const ram = ramPlugin({ delay: (op) => (op === "extents" ? 5 : 0) });
      const { server } = testServer(ram.plugin);
      const conn = connect(server);
      await conn.handshake({
        structuredReplies: !extendedHeaders,
        extendedHeaders,
        baseAllocation: true,
      });
      const count = 8;
      for (let cookie = 0; cookie < count; cookie++) {
        const fields = { type: CMD.BLOCK_STATUS, cookie, length: 4096 };
        conn.send(extendedHeaders ? wireExtendedRequest(fields) : wireRequest(fields));
      }
      for (let i = 0; i < count; i++) expect(errorOf(await conn.readReply())).toBe(0);
      expect(ram.callsOf("extents").length).toBe(count);
      expect(ram.maxActive).toBe(atOnce);
    });
  }

  test("the first pause for too much in flight is said once, with -v only", async () => {
    const ram = ramPlugin({ delay: (op) => (op === "readAt" ? 20 : 0) });
    const { server, logs } = testServer(ram.plugin, { verbose: true });
    const conn = connect(server);
    await conn.handshake();
    const count = 2 * LIMITS.MAX_IN_FLIGHT;
    for (let i = 0; i < count; i++) conn.request({ type: CMD.READ, cookie: i, length: 512 });
    for (let i = 0; i < count; i++) expect(errorOf(await conn.readReply())).toBe(0);
    const said = logs.filter((line) => line.includes("reading paused"));
    expect(said).toEqual([
      `nbdts: ram[1]: debug: reading paused: 64 requests, 32768 bytes in flight ` +
      `(MAX_IN_FLIGHT, maxBytesInFlight)\n`,
    ]);
  });
});
