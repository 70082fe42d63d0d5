/**
 * A client may send 32 options without choosing an export (nbdkit's MAX_NR_OPTIONS): each is
 * answered, and after the 32nd the server closes the connection without waiting for more.
 * Other connections are not affected.
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { RawConnection, REP } from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

const UNKNOWN_OPTION = 99;

describe.each(servers)("option flood closes after 32 ($name)", (server) => {
  test("32 unknown options get ERR_UNSUP, then the server closes; a new client is served", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const flood = await RawConnection.open(background.socket);
    await flood.greet();
    for (let i = 0; i < 32; i++) {
      expect((await flood.exchange(UNKNOWN_OPTION)).map((r) => r.type)).toEqual([REP.ERR_UNSUP]);
    }
    expect(await flood.closedByServer()).toBe(true);
    const next = await RawConnection.open(background.socket);
    await next.greet();
    expect((await next.go()).type).toBe(REP.ACK);
    next.close();
  });

  test("31 options and then GO as the 32nd still reach transmission", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await RawConnection.open(background.socket);
    await connection.greet();
    for (let i = 0; i < 31; i++) await connection.exchange(UNKNOWN_OPTION);
    expect((await connection.go()).type).toBe(REP.ACK);
    connection.close();
  });
});
