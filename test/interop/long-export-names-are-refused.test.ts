/**
 * The spec caps strings at 4096 bytes. An export name of 4096 bytes is served (the memory plugin
 * takes any name); one of 4097 bytes gets NBD_REP_ERR_INVALID from INFO and GO, after which
 * negotiation goes on, and closes the connection when sent with NBD_OPT_EXPORT_NAME, which has
 * no error reply (nbdkit's check_string).
 */

import { describe, expect, test } from "vitest";
import { type BackgroundServer, startServer } from "../helpers/background.ts";
import { goData, OPT, optionRequest, RawConnection, REP } from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

async function negotiating(background: BackgroundServer): Promise<RawConnection> {
  const connection = await RawConnection.open(background.socket);
  await connection.greet();
  return connection;
}

describe.each(servers)("long export names are refused ($name)", (server) => {
  test("a 4096-byte name is accepted by GO", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await negotiating(background);
    expect((await connection.go("n".repeat(4096))).type).toBe(REP.ACK);
    connection.close();
  });

  test("a 4097-byte name gets ERR_INVALID from INFO and GO; GO of a short name then works", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await negotiating(background);
    const long = goData("n".repeat(4097));
    expect((await connection.exchange(OPT.INFO, long)).map((r) => r.type)).toEqual([
      REP.ERR_INVALID,
    ]);
    expect((await connection.exchange(OPT.GO, long)).map((r) => r.type)).toEqual([
      REP.ERR_INVALID,
    ]);
    expect((await connection.go("")).type).toBe(REP.ACK);
    connection.close();
  });

  test("a 4097-byte name in EXPORT_NAME closes the connection unanswered", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await negotiating(background);
    connection.write(optionRequest(OPT.EXPORT_NAME, new TextEncoder().encode("n".repeat(4097))));
    expect(await connection.closedByServer()).toBe(true);
  });
});
