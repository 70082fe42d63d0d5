/**
 * STARTTLS and --tls=require in the option state machine, fed bytes in memory: what each mode
 * answers, that the ACK is out and reading paused before the runtime upgrades, that bytes
 * sent after STARTTLS go to TLS and are never options (CVE-2021-3716's cousin), and that what
 * was agreed in clear text is forgotten (CVE-2021-3716). The "TLS" here is the test channel's
 * startTls: afterwards the test sends the bytes a real TLS layer would have decrypted.
 */

import { describe, expect, test } from "vitest";
import type { TlsMode } from "../../src/connection/tls-mode.ts";
import { CMD, HANDSHAKE_FLAG, OPT, REP, TX_FLAG } from "../../src/protocol/constants.ts";
import {
  concat,
  connect,
  errorOf,
  infoData,
  metaContextData,
  type OptionReply,
  parseInfoExport,
  type TestConnection,
  testServer,
  utf8,
  waitFor,
  wireClientFlags,
  wireOption,
} from "../helpers/wire.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

const FLAGS = HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES;

/** What the test channel saw when the session asked it to start TLS. */
interface Upgrade {
  early: Uint8Array;
  /** Bytes the server had written by then, and whether reading was paused. */
  writtenBefore: number;
  pausedDuring: boolean;
}

/** A connection ready for options to a server with --tls=`mode`; `upgradable` gives startTls. */
async function negotiating(
  mode: TlsMode | undefined,
  options: { upgradable?: boolean; failHandshake?: boolean; clientFlags?: number } = {},
) {
  const { server, logs } = testServer(ramPlugin().plugin, { tls: mode });
  const conn = connect(server);
  const upgrades: Upgrade[] = [];
  if (options.upgradable ?? true) {
    conn.channel.startTls = (early) => {
      upgrades.push({
        early: early.slice(),
        writtenBefore: conn.channel.length,
        pausedDuring: conn.channel.paused,
      });
      return options.failHandshake
        ? Promise.reject(new Error("bad record mac"))
        : Promise.resolve();
    };
  }
  await conn.readGreeting();
  conn.send(wireClientFlags(options.clientFlags ?? FLAGS));
  return { conn, upgrades, logs };
}

function kinds(replies: OptionReply[]): [number, number][] {
  return replies.map((r) => [r.option, r.type]);
}

/** The transmission flags GO reports for the default export. */
async function goFlags(conn: TestConnection): Promise<number> {
  const replies = await conn.option(OPT.GO, infoData(""));
  expect(replies.at(-1)!.type).toBe(REP.ACK);
  return parseInfoExport(replies.find((r) => r.type === REP.INFO)!.data).flags;
}

describe("STARTTLS answers by --tls mode", () => {
  test("a server without TLS (embedding) has not implemented it: ERR_UNSUP", async () => {
    const { conn, upgrades } = await negotiating(undefined);
    expect(kinds(await conn.option(OPT.STARTTLS))).toEqual([[OPT.STARTTLS, REP.ERR_UNSUP]]);
    expect(upgrades).toEqual([]);
  });

  test("--tls=off refuses by policy, as nbdkit built with GnuTLS does, and goes on", async () => {
    const { conn, upgrades } = await negotiating("off");
    expect(kinds(await conn.option(OPT.STARTTLS))).toEqual([[OPT.STARTTLS, REP.ERR_POLICY]]);
    expect((await conn.option(OPT.LIST)).at(-1)!.type).toBe(REP.ACK);
    expect(upgrades).toEqual([]);
  });

  test("a connection its runtime cannot upgrade is refused by policy", async () => {
    const { conn } = await negotiating("on", { upgradable: false });
    expect(kinds(await conn.option(OPT.STARTTLS))).toEqual([[OPT.STARTTLS, REP.ERR_POLICY]]);
  });

  test("with data it is ERR_INVALID and nothing is upgraded", async () => {
    const { conn, upgrades } = await negotiating("on");
    const replies = await conn.option(OPT.STARTTLS, utf8("x"));
    expect(kinds(replies)).toEqual([[OPT.STARTTLS, REP.ERR_INVALID]]);
    expect(upgrades).toEqual([]);
  });

  test("--tls=on: ACK in clear, written before the upgrade starts, reading paused", async () => {
    const { conn, upgrades } = await negotiating("on");
    expect(kinds(await conn.option(OPT.STARTTLS))).toEqual([[OPT.STARTTLS, REP.ACK]]);
    await waitFor(() => upgrades.length === 1, "the upgrade");
    expect(upgrades[0].writtenBefore).toBe(conn.position); // greeting and ACK, nothing more
    expect(upgrades[0].pausedDuring).toBe(true);
    expect(upgrades[0].early).toEqual(new Uint8Array(0));
    expect(await goFlags(conn)).toBeGreaterThan(0);
  });

  test("a second STARTTLS once TLS is on is ERR_INVALID", async () => {
    const { conn, upgrades } = await negotiating("on");
    await conn.option(OPT.STARTTLS);
    expect(kinds(await conn.option(OPT.STARTTLS))).toEqual([[OPT.STARTTLS, REP.ERR_INVALID]]);
    expect(upgrades).toHaveLength(1);
  });

  test("a failed handshake closes the connection and says why", async () => {
    const { conn, logs } = await negotiating("on", { failHandshake: true });
    await conn.option(OPT.STARTTLS);
    await conn.closed();
    expect(logs.join("")).toContain("TLS handshake: bad record mac");
  });
});

describe("bytes after STARTTLS belong to TLS", () => {
  test("options sent right behind STARTTLS are handed to TLS, never answered", async () => {
    const { conn, upgrades } = await negotiating("on");
    const injected = concat(wireOption(OPT.STRUCTURED_REPLY), wireOption(OPT.LIST));
    conn.send(concat(wireOption(OPT.STARTTLS), injected));
    expect(kinds([await conn.readOptionReply()])).toEqual([[OPT.STARTTLS, REP.ACK]]);
    await waitFor(() => upgrades.length === 1, "the upgrade");
    expect(upgrades[0].early).toEqual(injected);
    await conn.settle();
    expect(conn.unread).toBe(0);
    // Over "TLS", the client did not ask for structured replies: none are used.
    expect((await goFlags(conn)) & TX_FLAG.SEND_DF).toBe(0);
  });

  test("a half-sent option header behind STARTTLS goes to TLS whole", async () => {
    const { conn, upgrades } = await negotiating("on");
    const partial = wireOption(OPT.LIST).subarray(0, 7);
    conn.send(concat(wireOption(OPT.STARTTLS), partial), { split: 5 });
    await conn.readOptionReply();
    await waitFor(() => upgrades.length === 1, "the upgrade");
    expect(upgrades[0].early).toEqual(partial);
  });
});

describe("what STARTTLS forgets (CVE-2021-3716)", () => {
  test("structured replies agreed in clear are off after the upgrade", async () => {
    const { conn } = await negotiating("on");
    expect((await conn.option(OPT.STRUCTURED_REPLY))[0].type).toBe(REP.ACK);
    await conn.option(OPT.STARTTLS);
    expect((await goFlags(conn)) & TX_FLAG.SEND_DF).toBe(0);
    const reply = await conn.roundTrip({ type: CMD.READ, cookie: 1n, offset: 0, length: 512 });
    expect(reply.kind).toBe("simple");
  });

  test("a meta context chosen in clear is dropped, so SET_META_CONTEXT starts over", async () => {
    const { conn } = await negotiating("on");
    await conn.option(OPT.STRUCTURED_REPLY);
    await conn.option(OPT.SET_META_CONTEXT, metaContextData("", ["base:allocation"]));
    await conn.option(OPT.STARTTLS);
    // Structured replies are gone too: SET_META_CONTEXT without them is ERR_INVALID again.
    const replies = await conn.option(
      OPT.SET_META_CONTEXT,
      metaContextData("", ["base:allocation"]),
    );
    expect(kinds(replies)).toEqual([[OPT.SET_META_CONTEXT, REP.ERR_INVALID]]);
    await conn.option(OPT.STRUCTURED_REPLY);
    await goFlags(conn);
    const reply = await conn.roundTrip({ type: CMD.BLOCK_STATUS, cookie: 2n, length: 512 });
    expect(errorOf(reply)).toBe(22); // EINVAL: no meta context selected
  });

  test("LIST seen in clear stays seen, as nbdkit keeps that flag", async () => {
    const { conn } = await negotiating("on");
    expect((await conn.option(OPT.LIST)).at(-1)!.type).toBe(REP.ACK);
    await conn.option(OPT.STARTTLS);
    expect(kinds(await conn.option(OPT.LIST))).toEqual([[OPT.LIST, REP.ERR_INVALID]]);
  });
});

describe("--tls=require", () => {
  test.each([
    ["LIST", OPT.LIST, new Uint8Array(0)],
    ["INFO", OPT.INFO, infoData("")],
    ["GO", OPT.GO, infoData("")],
    ["STRUCTURED_REPLY", OPT.STRUCTURED_REPLY, new Uint8Array(0)],
    ["LIST_META_CONTEXT", OPT.LIST_META_CONTEXT, metaContextData("", [])],
    ["an unknown option", 99, utf8("payload")],
  ])("%s before STARTTLS gets ERR_TLS_REQD and its data is skipped", async (_, option, data) => {
    const { conn } = await negotiating("require");
    expect(kinds(await conn.option(option, data))).toEqual([[option, REP.ERR_TLS_REQD]]);
    expect(kinds(await conn.option(OPT.STARTTLS))).toEqual([[OPT.STARTTLS, REP.ACK]]);
  });

  test("EXPORT_NAME before STARTTLS cannot be refused, so the connection closes", async () => {
    const { conn, logs } = await negotiating("require");
    conn.send(wireOption(OPT.EXPORT_NAME, utf8("")));
    await conn.closed();
    expect(conn.unread).toBe(0); // no export data in clear
    expect(logs.join("")).toContain("--tls=require");
  });

  test("ABORT is still answered", async () => {
    const { conn } = await negotiating("require");
    expect(kinds(await conn.option(OPT.ABORT))).toEqual([[OPT.ABORT, REP.ACK]]);
    await conn.closed();
  });

  test("after STARTTLS every option is served", async () => {
    const { conn } = await negotiating("require");
    await conn.option(OPT.STARTTLS);
    expect((await conn.option(OPT.LIST)).at(-1)!.type).toBe(REP.ACK);
    expect(await goFlags(conn)).toBeGreaterThan(0);
  });

  test("a connection that cannot be upgraded is never served", async () => {
    const { conn } = await negotiating("require", { upgradable: false });
    expect(kinds(await conn.option(OPT.STARTTLS))).toEqual([[OPT.STARTTLS, REP.ERR_POLICY]]);
    expect(kinds(await conn.option(OPT.GO, infoData("")))).toEqual([[OPT.GO, REP.ERR_TLS_REQD]]);
  });

  test("a client without fixed newstyle gets ERR_INVALID first, as in nbdkit", async () => {
    const { conn } = await negotiating("require", { clientFlags: HANDSHAKE_FLAG.NO_ZEROES });
    conn.send(wireOption(OPT.STARTTLS));
    expect(kinds([await conn.readOptionReply()])).toEqual([[OPT.STARTTLS, REP.ERR_INVALID]]);
  });
});
