/**
 * READ and WRITE payloads are capped at 64 MiB (nbdkit's MAX_REQUEST_SIZE): a request one byte
 * over gets ENOMEM and the connection goes on, the over-long WRITE payload read and thrown away
 * first; a WRITE over twice the cap is too large to skip and closes the connection at once.
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { CMD, request, transmitting, WIRE } from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

const MiB = 1024 * 1024;
const CAP = 64 * MiB;
const ENOMEM = 12;

describe.each(servers)("oversized payloads get ENOMEM ($name)", (server) => {
  test("a READ of 64 MiB + 1 gets ENOMEM and the connection keeps serving", async () => {
    const background = await startServer(server, ["memory", "128M"]);
    const connection = await transmitting(background.socket);
    connection.write(request({ type: CMD.READ, cookie: 1n, length: CAP + 1 }));
    expect(await connection.readSimpleReply()).toEqual({
      magic: WIRE.SIMPLE_REPLY_MAGIC,
      error: ENOMEM,
      cookie: 1n,
    });
    connection.write(request({ type: CMD.READ, cookie: 2n, length: 512 }));
    expect((await connection.readSimpleReply()).error).toBe(0);
    await connection.read(512);
    connection.close();
  });

  test("a WRITE of 64 MiB is done; of 64 MiB + 1, its payload is skipped and it gets ENOMEM", async () => {
    const background = await startServer(server, ["memory", "128M"]);
    const connection = await transmitting(background.socket);
    connection.write(request({ type: CMD.WRITE, cookie: 3n, length: CAP }, new Uint8Array(CAP)));
    expect(await connection.readSimpleReply(30_000)).toMatchObject({ error: 0, cookie: 3n });
    const over = new Uint8Array(CAP + 1).fill(0x55);
    connection.write(request({ type: CMD.WRITE, cookie: 4n, length: CAP + 1 }, over));
    expect(await connection.readSimpleReply(30_000)).toMatchObject({ error: ENOMEM, cookie: 4n });
    connection.write(request({ type: CMD.READ, cookie: 5n, length: 4 }));
    expect((await connection.readSimpleReply()).error).toBe(0);
    expect(await connection.read(4)).toEqual(new Uint8Array(4)); // the skipped bytes never landed
    connection.close();
  });

  test("a WRITE over 128 MiB closes the connection without waiting for its payload", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await transmitting(background.socket);
    connection.write(request({ type: CMD.WRITE, cookie: 6n, length: 2 * CAP + 1 }));
    expect(await connection.closedByServer()).toBe(true);
  });
});
