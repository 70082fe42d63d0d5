/**
 * During the handshake, bytes that break the protocol (unknown client flags, a bad option
 * magic, option data over 64 MiB) close that one connection, while other connections to
 * the same server keep working.
 */

import { describe, expect, test } from "vitest";
import { type BackgroundServer, startServer } from "../helpers/background.ts";
import {
  HANDSHAKE,
  OPT,
  optionHeader,
  optionRequest,
  RawConnection,
  REP,
} from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

/** A connection that has finished negotiating with NBD_OPT_GO and can send requests. */
async function readyConnection(background: BackgroundServer): Promise<RawConnection> {
  const connection = await RawConnection.open(background.socket);
  await connection.greet();
  expect((await connection.go()).type).toBe(REP.ACK);
  return connection;
}

describe.each(servers)("bad handshake closes only that connection ($name)", (server) => {
  test("client flags with unknown bits close the connection", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const other = await readyConnection(background);
    const bad = await RawConnection.open(background.socket);
    await bad.greet(HANDSHAKE.FIXED_NEWSTYLE | HANDSHAKE.NO_ZEROES | 0x4);
    expect(await bad.closedByServer()).toBe(true);
    expect(await other.readWorks()).toBe(true);
    other.close();
  });

  test("an option with a bad magic closes the connection", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const other = await readyConnection(background);
    const bad = await RawConnection.open(background.socket);
    await bad.greet();
    bad.write(optionRequest(OPT.STRUCTURED_REPLY, new Uint8Array(), 0x1122334455667788n));
    expect(await bad.closedByServer()).toBe(true);
    expect(await other.readWorks()).toBe(true);
    other.close();
  });

  test("option data longer than 64 MiB closes the connection without waiting for it", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const other = await readyConnection(background);
    const bad = await RawConnection.open(background.socket);
    await bad.greet();
    bad.write(optionHeader(OPT.GO, 64 * 1024 * 1024 + 1));
    expect(await bad.closedByServer()).toBe(true);
    expect(await other.readWorks()).toBe(true);
    other.close();
  });

  test("a well-formed connection opened after the failures still works", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const badFlags = await RawConnection.open(background.socket);
    await badFlags.greet(0xffffffff);
    expect(await badFlags.closedByServer()).toBe(true);
    const badMagic = await RawConnection.open(background.socket);
    await badMagic.greet();
    badMagic.write(optionRequest(OPT.GO, new Uint8Array(), 0n));
    expect(await badMagic.closedByServer()).toBe(true);
    const good = await readyConnection(background);
    expect(await good.readWorks()).toBe(true);
    good.close();
  });
});
