/**
 * A plugin that answers with the wrong JavaScript value — a string for a size, "yes" for
 * canWrite, data returned from readAt instead of copied in, extents as strings — gets a clear
 * error, never a wrong answer passed on: an export that cannot be opened is refused at GO with
 * NBD_REP_ERR_UNKNOWN (its handle closed, the connection free to try again), a request fails
 * with EIO, and both are logged as errors naming the callback. nbdkit's C and shell plugins
 * cannot express these mistakes, so they are proven here against the session.
 */

import { describe, expect, test } from "vitest";
import type { Handle, Plugin } from "../../src/api/plugin.ts";
import { CMD, INFO, NBD_ERR, OPT, REP } from "../../src/protocol/constants.ts";
import {
  connect,
  errorOf,
  type HandshakeOptions,
  infoData,
  testServer,
  wireClientFlags,
} from "../helpers/wire.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

/** Anything at all, where the plugin API wants something else. */
type Wrong = never;

/** A RAM disk whose export "bad" has `overrides` on its handle; every other export is healthy. */
function pluginWithBadExport(overrides: Record<string, unknown>) {
  const ram = ramPlugin();
  const plugin: Plugin = {
    name: "ram",
    async open(readonly, name) {
      const handle = await ram.plugin.open(readonly, name);
      return name === "bad" ? { ...handle, ...overrides } as Handle : handle;
    },
  };
  return { ram, plugin };
}

/** Negotiates up to (not including) GO on a fresh connection. */
async function negotiating(plugin: Plugin) {
  const { server, logs } = testServer(plugin);
  const conn = connect(server);
  await conn.readGreeting();
  conn.send(wireClientFlags(3));
  return { conn, logs };
}

describe("an export whose handle answers a capability or size wrongly is refused at GO", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["getSize gives a string", { getSize: () => "1024" }, /getSize returned .*"1024"/],
    ["getSize gives junk", { getSize: () => "junk" }, /getSize returned .*"junk"/],
    ["getSize gives nothing", { getSize: () => undefined }, /getSize returned .*undefined/],
    ["getSize gives 2^63", { getSize: () => 1n << 63n }, /9223372036854775808/],
    ["canWrite gives a string", { canWrite: () => "yes" }, /canWrite returned "yes"/],
    ["canWrite gives 1", { canWrite: () => 1 }, /canWrite returned 1: expected true or false/],
    ["canWrite gives nothing", { canWrite: () => Promise.resolve() }, /canWrite returned undef/],
    ["canFlush gives null", { canFlush: () => null }, /canFlush returned null/],
    ["isRotational gives an object", { isRotational: () => ({}) }, /isRotational returned an obj/],
    ["canFua gives 3", { canFua: () => 3 }, /canFua returned 3/],
    ["canCache gives a string", { canCache: () => "native" }, /canCache returned "native"/],
    ["readAt is missing", { readAt: undefined }, /open returned a handle without readAt\(\)/],
  ];
  for (const [what, overrides, logged] of cases) {
    test(`${what}: ERR_UNKNOWN, an error logged, the handle closed, and GO again works`, async () => {
      const { ram, plugin } = pluginWithBadExport(overrides);
      const { conn, logs } = await negotiating(plugin);
      const refused = await conn.option(OPT.GO, infoData("bad"));
      expect(refused.map((reply) => reply.type)).toEqual([REP.ERR_UNKNOWN]);
      expect(logs.join("")).toMatch(/error: open of export "bad": /);
      expect(logs.join("")).toMatch(logged);
      expect(ram.closes).toBe(1);
      const accepted = await conn.option(OPT.GO, infoData("", [INFO.NAME]));
      expect(accepted.at(-1)!.type).toBe(REP.ACK);
      expect(errorOf(await conn.roundTrip({ type: CMD.READ, cookie: 1, length: 512 }))).toBe(0);
    });
  }

  for (
    const [what, open] of [
      ["undefined", () => undefined],
      ["a string", () => "handle"],
      ["a promise of null", () => Promise.resolve(null)],
    ] as const
  ) {
    test(`open() giving ${what} is refused at GO with an error naming open`, async () => {
      const plugin: Plugin = { name: "ram", open: open as Wrong };
      const { conn, logs } = await negotiating(plugin);
      const refused = await conn.option(OPT.GO, infoData(""));
      expect(refused.map((reply) => reply.type)).toEqual([REP.ERR_UNKNOWN]);
      expect(logs.join("")).toMatch(/open returned .*: expected a handle with getSize\(\)/);
      expect(conn.channel.closed).toBe(false);
    });
  }
});

describe("a callback that throws while an export opens is named in the error line", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["getSize", { getSize: () => Promise.reject(new Error("disk offline")) }],
    ["canWrite", {
      canWrite: () => {
        throw new Error("disk offline");
      },
    }],
    ["canFua", {
      canFua: () => {
        throw new Error("disk offline");
      },
    }],
    ["blockSize", {
      blockSize: () => {
        throw new Error("disk offline");
      },
    }],
  ];
  for (const [callback, overrides] of cases) {
    test(`${callback}: "${callback}() failed: …", its stack under -v`, async () => {
      const { plugin } = pluginWithBadExport(overrides);
      for (const verbose of [false, true]) {
        const { server, logs } = testServer(plugin, { verbose });
        const conn = connect(server);
        await conn.readGreeting();
        conn.send(wireClientFlags(3));
        const refused = await conn.option(OPT.GO, infoData("bad"));
        expect(refused.map((reply) => reply.type)).toEqual([REP.ERR_UNKNOWN]);
        const line = logs.find((text) => text.includes("error:"))!;
        expect(line).toContain(`error: open of export "bad": ${callback}() failed: disk offline`);
        expect(/\n {4}at /.test(line)).toBe(verbose);
      }
    });
  }

  test('open itself: "open() failed: …"', async () => {
    const plugin: Plugin = { name: "ram", open: () => Promise.reject(new Error("no disk")) };
    const { conn, logs } = await negotiating(plugin);
    await conn.option(OPT.GO, infoData(""));
    expect(logs.join("")).toContain('error: open of export "": open() failed: no disk');
  });
});

describe("a request whose callback answers wrongly fails with EIO and the connection serves on", () => {
  const SR: HandshakeOptions = { structuredReplies: true, baseAllocation: true };

  async function transmission(overrides: Record<string, unknown>) {
    const { plugin } = pluginWithBadExport(overrides);
    const { server, logs } = testServer(plugin);
    const conn = connect(server);
    await conn.handshake({ ...SR, exportName: "bad" });
    return { conn, logs };
  }

  for (
    const [what, readAt] of [
      ["its data instead of filling the buffer", (buf: Uint8Array) => buf.slice(0, 256)],
      ["a number", () => 42],
      ["a promise of a string", () => Promise.resolve("data")],
    ] as const
  ) {
    test(`readAt giving ${what} is EIO, logged, and never sends the buffer`, async () => {
      const { conn, logs } = await transmission({ readAt, writeAt: () => {} });
      const reply = await conn.roundTrip({ type: CMD.READ, cookie: 1, length: 512 });
      expect(errorOf(reply)).toBe(NBD_ERR.EIO);
      expect(logs.join("")).toMatch(
        /error: ram: pread count=512 offset=0: readAt returned .*: it must fill the buffer/,
      );
      expect(
        errorOf(await conn.roundTrip({ type: CMD.WRITE, cookie: 2, payload: new Uint8Array(4) })),
      ).toBe(0);
    });
  }

  test("readAt giving back the buffer it filled (buf.fill's result) is a successful read", async () => {
    const { conn, logs } = await transmission({ readAt: (buf: Uint8Array) => buf.fill(7) });
    const reply = await conn.roundTrip({ type: CMD.READ, cookie: 1, length: 512 });
    expect(errorOf(reply)).toBe(0);
    expect(logs).toEqual([]);
  });

  for (
    const [what, add] of [
      ["a string offset", ["0", 512, 0]],
      ["a NaN length", [0, NaN, 0]],
      ["a fractional length", [0, 1.5, 0]],
      ["a string type", [0, 512, "data"]],
      ["a negative type", [0, 512, -1]],
    ] as const
  ) {
    test(`extents adding ${what} is EIO with an error naming extents`, async () => {
      const extents = (
        _count: number,
        _offset: number,
        _flags: number,
        sink: { add(...args: unknown[]): void },
      ) => sink.add(...add);
      const { conn, logs } = await transmission({ extents });
      const reply = await conn.roundTrip({ type: CMD.BLOCK_STATUS, cookie: 1, length: 4096 });
      expect(errorOf(reply)).toBe(NBD_ERR.EIO);
      expect(logs.join("")).toMatch(
        /error: ram: extents count=4096 offset=0 req_one=0: extents: add\(.*\) needs integer/,
      );
      expect(errorOf(await conn.roundTrip({ type: CMD.READ, cookie: 2, length: 512 }))).toBe(0);
    });
  }
});
