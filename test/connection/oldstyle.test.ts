// A session with oldstyle on (-o): the export "" is opened as the client connects and the
// 152-byte greeting carries its size and flags, with no byte from the client first; requests
// follow at once (even ones sent before the greeting came), answered with simple replies; what
// needs an option (block status, DF) is refused; a failed open closes without a byte.

import { describe, expect, test } from "vitest";
import { CMD, CMD_FLAG, NBD_ERR, TX_FLAG } from "../../src/protocol/constants.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";
import {
  ByteReader,
  connect,
  errorOf,
  testServer,
  type TestServerOptions,
  utf8,
  WIRE,
} from "../helpers/wire.ts";

function oldstyle(options: TestServerOptions = {}, ram = ramPlugin()) {
  const { server, logs } = testServer(ram.plugin, { ...options, oldstyle: true });
  return { conn: connect(server), logs, ram };
}

async function greeting(conn: ReturnType<typeof connect>) {
  const r = new ByteReader(await conn.readBytes(152));
  return {
    magic: r.u64(),
    oldstyleMagic: r.u64(),
    size: r.u64(),
    globalFlags: r.u16(),
    flags: r.u16(),
    zeroes: r.take(124),
  };
}

describe("oldstyle session", () => {
  test("greets at once with size and flags, no DF, then serves requests", async () => {
    const { conn, ram } = oldstyle();
    const hello = await greeting(conn);
    expect(hello.magic).toBe(WIRE.NBDMAGIC);
    expect(hello.oldstyleMagic).toBe(0x0000420281861253n);
    expect(hello.size).toBe(1048576n);
    expect(hello.globalFlags).toBe(0);
    expect(hello.flags & TX_FLAG.HAS_FLAGS).toBe(TX_FLAG.HAS_FLAGS);
    expect(hello.flags & TX_FLAG.SEND_DF).toBe(0); // structured replies can never be agreed
    expect(hello.zeroes).toEqual(new Uint8Array(124));
    expect(ram.exportNames).toEqual([""]);
    const write = await conn.roundTrip({
      type: CMD.WRITE,
      cookie: 1,
      offset: 512,
      length: 5,
      payload: utf8("hello"),
    });
    expect(write.kind).toBe("simple");
    expect(errorOf(write)).toBe(0);
    expect(ram.read(512, 5)).toEqual(utf8("hello"));
    expect(conn.unread).toBe(0);
  });

  test("requests sent before the greeting arrives wait for it", async () => {
    const { conn } = oldstyle();
    conn.request({ type: CMD.READ, cookie: 7, offset: 0, length: 16 });
    expect((await greeting(conn)).size).toBe(1048576n);
    const reply = await conn.readReply();
    expect({ kind: reply.kind, cookie: reply.cookie, error: errorOf(reply) }).toEqual({
      kind: "simple",
      cookie: 7n,
      error: 0,
    });
  });

  test("block status and DF need options that oldstyle has not: EINVAL", async () => {
    const { conn } = oldstyle();
    await greeting(conn);
    const status = await conn.roundTrip({ type: CMD.BLOCK_STATUS, cookie: 2, length: 4096 });
    expect(errorOf(status)).toBe(NBD_ERR.EINVAL);
    const df = await conn.roundTrip({ type: CMD.READ, cookie: 3, length: 4, flags: CMD_FLAG.DF });
    expect(errorOf(df)).toBe(NBD_ERR.EINVAL);
  });

  test("-r gives READ_ONLY in the greeting, and writes get EPERM", async () => {
    const { conn } = oldstyle({ readonly: true });
    const hello = await greeting(conn);
    expect(hello.flags & TX_FLAG.READ_ONLY).toBe(TX_FLAG.READ_ONLY);
    const write = await conn.roundTrip({
      type: CMD.WRITE,
      cookie: 4,
      length: 1,
      payload: utf8("x"),
    });
    expect(errorOf(write)).toBe(NBD_ERR.EPERM);
  });

  test("an export that cannot open closes the connection before any byte, and is logged", async () => {
    const { conn, logs } = oldstyle({}, ramPlugin({ openError: new Error("no disk today") }));
    await conn.closed();
    expect(conn.channel.length).toBe(0);
    expect(logs.join("\n")).toMatch(/cannot open export "": open\(\) failed: no disk today/);
  });
});
