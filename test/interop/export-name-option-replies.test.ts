/**
 * NBD_OPT_EXPORT_NAME, the oldest way to finish negotiating, is answered with the export
 * size and flags: 10 bytes when NO_ZEROES was agreed, 134 (124 zero bytes of padding)
 * otherwise, and transmission follows directly.
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import {
  bytes,
  CMD,
  HANDSHAKE,
  OPT,
  optionRequest,
  RawConnection,
  readU16,
  readU64,
  request,
  TX_FLAG,
  WIRE,
} from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

describe.each(servers)("export name option replies ($name)", (server) => {
  test("with NO_ZEROES the reply is exactly 10 bytes and requests follow", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await RawConnection.open(background.socket);
    await connection.greet(HANDSHAKE.FIXED_NEWSTYLE | HANDSHAKE.NO_ZEROES);
    connection.write(optionRequest(OPT.EXPORT_NAME, bytes("")));
    const reply = await connection.read(10);
    expect(readU64(reply, 0)).toBe(1048576n);
    const flags = readU16(reply, 8);
    expect(flags & TX_FLAG.HAS_FLAGS).toBe(TX_FLAG.HAS_FLAGS);
    expect(flags & TX_FLAG.READ_ONLY).toBe(0);
    // The very next bytes must be the reply to this read: no padding was sent.
    connection.write(request({ type: CMD.READ, cookie: 5n, offset: 0, length: 4 }));
    expect(await connection.readSimpleReply()).toEqual({
      magic: WIRE.SIMPLE_REPLY_MAGIC,
      error: 0,
      cookie: 5n,
    });
    expect(await connection.read(4)).toEqual(new Uint8Array(4));
    connection.close();
  });

  test("without NO_ZEROES the reply carries 124 zero bytes of padding", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await RawConnection.open(background.socket);
    await connection.greet(HANDSHAKE.FIXED_NEWSTYLE);
    connection.write(optionRequest(OPT.EXPORT_NAME, bytes("any name")));
    const reply = await connection.read(134);
    expect(readU64(reply, 0)).toBe(1048576n);
    expect(reply.subarray(10)).toEqual(new Uint8Array(124));
    connection.write(request({ type: CMD.READ, cookie: 6n, offset: 0, length: 4 }));
    expect(await connection.readSimpleReply()).toEqual({
      magic: WIRE.SIMPLE_REPLY_MAGIC,
      error: 0,
      cookie: 6n,
    });
    connection.close();
  });

  test("the flags match those NBD_OPT_GO reports, and -r sets READ_ONLY", async () => {
    const background = await startServer(server, ["memory", "1M"], { serverOptions: ["-r"] });
    const connection = await RawConnection.open(background.socket);
    await connection.greet();
    connection.write(optionRequest(OPT.EXPORT_NAME));
    const reply = await connection.read(10);
    expect(readU16(reply, 8) & TX_FLAG.READ_ONLY).toBe(TX_FLAG.READ_ONLY);
    connection.close();
  });
});
