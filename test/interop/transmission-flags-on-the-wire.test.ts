/**
 * The 16-bit transmission flags a server sends (NBD_INFO_EXPORT in reply to GO, or the
 * NBD_OPT_EXPORT_NAME reply) are exactly nbdkit's for the memory plugin: SEND_DF only after
 * structured replies were negotiated, write-type flags dropped under -r.
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import {
  goData,
  INFO,
  OPT,
  optionRequest,
  RawConnection,
  readU16,
  readU64,
  REP,
} from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

/**
 * HAS_FLAGS 0x1, READ_ONLY 0x2, SEND_FLUSH 0x4, SEND_FUA 0x8, SEND_TRIM 0x20,
 * SEND_WRITE_ZEROES 0x40, SEND_DF 0x80, CAN_MULTI_CONN 0x100, SEND_CACHE 0x400,
 * SEND_FAST_ZERO 0x800.
 */
const MEMORY = 0x0d6d; // HAS_FLAGS FLUSH FUA TRIM WRITE_ZEROES MULTI_CONN CACHE FAST_ZERO
const MEMORY_READ_ONLY = 0x0507; // HAS_FLAGS READ_ONLY FLUSH MULTI_CONN CACHE
const SEND_DF = 0x0080;

/** Connects, optionally negotiates structured replies, and returns the flags GO reports. */
async function flagsFromGo(
  socket: string,
  structured: boolean,
): Promise<{ size: bigint; flags: number }> {
  const connection = await RawConnection.open(socket);
  await connection.greet();
  if (structured) {
    const [ack] = await connection.exchange(OPT.STRUCTURED_REPLY);
    expect(ack!.type).toBe(REP.ACK);
  }
  const replies = await connection.exchange(OPT.GO, goData(""));
  connection.close();
  expect(replies.at(-1)!.type).toBe(REP.ACK);
  const exportInfo = replies.find((reply) =>
    reply.type === REP.INFO && readU16(reply.data, 0) === INFO.EXPORT
  );
  expect(exportInfo?.data.length).toBe(12);
  return { size: readU64(exportInfo!.data, 2), flags: readU16(exportInfo!.data, 10) };
}

describe.each(servers)("transmission flags on the wire ($name)", (server) => {
  test("memory: GO reports 0x0d6d without structured replies and adds SEND_DF with them", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    expect(await flagsFromGo(background.socket, false)).toEqual({ size: 1048576n, flags: MEMORY });
    expect(await flagsFromGo(background.socket, true)).toEqual({
      size: 1048576n,
      flags: MEMORY | SEND_DF,
    });
  });

  test("memory -r: GO reports 0x0507, plus SEND_DF with structured replies", async () => {
    const background = await startServer(server, ["memory", "1M"], { serverOptions: ["-r"] });
    expect((await flagsFromGo(background.socket, false)).flags).toBe(MEMORY_READ_ONLY);
    expect((await flagsFromGo(background.socket, true)).flags).toBe(MEMORY_READ_ONLY | SEND_DF);
  });

  test("EXPORT_NAME reports the same flags as GO", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await RawConnection.open(background.socket);
    await connection.greet();
    await connection.exchange(OPT.STRUCTURED_REPLY);
    connection.write(optionRequest(OPT.EXPORT_NAME));
    const reply = await connection.read(10);
    connection.close();
    expect(readU16(reply, 8)).toBe(MEMORY | SEND_DF);
  });

  test("INFO names the export when asked and GO ends with ACK", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await RawConnection.open(background.socket);
    await connection.greet();
    const replies = await connection.exchange(OPT.INFO, goData("foo", [INFO.NAME]));
    const types = replies.map((
      reply,
    ) => [reply.type, reply.type === REP.INFO ? readU16(reply.data, 0) : -1]);
    expect(types).toContainEqual([REP.INFO, INFO.EXPORT]);
    const name = replies.find((reply) =>
      reply.type === REP.INFO && readU16(reply.data, 0) === INFO.NAME
    );
    expect(new TextDecoder().decode(name?.data.subarray(2))).toBe("foo");
    expect(replies.at(-1)!.type).toBe(REP.ACK);
    expect((await connection.go("foo")).type).toBe(REP.ACK);
    connection.close();
  });
});
