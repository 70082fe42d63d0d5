/**
 * In transmission, a request header with the wrong magic means the stream is out of step:
 * the server hangs up without replying, and other connections carry on.
 */

import { describe, expect, test } from "vitest";
import { type BackgroundServer, startServer } from "../helpers/background.ts";
import { CMD, RawConnection, REP, request, WIRE } from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

async function readyConnection(background: BackgroundServer): Promise<RawConnection> {
  const connection = await RawConnection.open(background.socket);
  await connection.greet();
  expect((await connection.go()).type).toBe(REP.ACK);
  return connection;
}

describe.each(servers)("bad request magic closes ($name)", (server) => {
  test("a request with a bad magic closes the connection without a reply", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const other = await readyConnection(background);
    const bad = await readyConnection(background);
    bad.write(request({ magic: 0x12345678, type: CMD.READ, cookie: 9n, offset: 0, length: 512 }));
    expect(await bad.closedByServer()).toBe(true);
    other.write(request({ type: CMD.READ, cookie: 10n, offset: 0, length: 512 }));
    expect(await other.readSimpleReply()).toEqual({
      magic: WIRE.SIMPLE_REPLY_MAGIC,
      error: 0,
      cookie: 10n,
    });
    other.close();
  });

  test("the historic reply magic sent as a request is refused the same way", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const bad = await readyConnection(background);
    bad.write(
      request({
        magic: WIRE.SIMPLE_REPLY_MAGIC,
        type: CMD.READ,
        cookie: 1n,
        offset: 0,
        length: 512,
      }),
    );
    expect(await bad.closedByServer()).toBe(true);
  });

  test("NBD_CMD_DISC gets no reply and the server closes the connection", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await readyConnection(background);
    connection.write(request({ type: CMD.DISC, cookie: 2n }));
    expect(await connection.closedByServer()).toBe(true);
  });
});
