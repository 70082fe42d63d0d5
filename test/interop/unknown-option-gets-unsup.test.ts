/**
 * An option the server does not know gets NBD_REP_ERR_UNSUP, its data is skipped, and
 * negotiation carries on; NBD_OPT_ABORT is acknowledged before the server hangs up.
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import {
  bytes,
  CMD,
  OPT,
  optionRequest,
  RawConnection,
  REP,
  request,
  WIRE,
} from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

describe.each(servers)("unknown option gets ERR_UNSUP ($name)", (server) => {
  test("unknown options with and without data are refused and the session goes on to GO", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await RawConnection.open(background.socket);
    await connection.greet();
    for (
      const [option, data] of [[0x2a, bytes("some option data")], [4, new Uint8Array()], [
        0x7fffffff,
        new Uint8Array(1000),
      ]] as const
    ) {
      connection.write(optionRequest(option, data));
      const reply = await connection.readOptionReply();
      expect(reply).toMatchObject({ option, type: REP.ERR_UNSUP });
    }
    expect(await connection.go()).toMatchObject({
      option: OPT.GO,
      type: REP.ACK,
      data: new Uint8Array(),
    });
    connection.write(
      request({ type: CMD.READ, cookie: 0x0102030405060708n, offset: 0, length: 8 }),
    );
    const reply = await connection.readSimpleReply();
    expect(reply).toEqual({
      magic: WIRE.SIMPLE_REPLY_MAGIC,
      error: 0,
      cookie: 0x0102030405060708n,
    });
    expect(await connection.read(8)).toEqual(new Uint8Array(8));
    connection.close();
  });

  test("STARTTLS without TLS configured and EXTENDED_HEADERS are refused, and GO still works", async () => {
    // nbdkit 1.32.5 has no extended headers; nbdts refuses them when told not to offer them.
    const serverOptions = server.name === "nbdkit" ? [] : ["--no-extended-headers"];
    const background = await startServer(server, ["memory", "1M"], { serverOptions });
    const connection = await RawConnection.open(background.socket);
    await connection.greet();
    // The spec allows ERR_UNSUP (not implemented) or ERR_POLICY (nbdkit built with GnuTLS).
    connection.write(optionRequest(OPT.STARTTLS));
    const tls = await connection.readOptionReply();
    expect(tls.option).toBe(OPT.STARTTLS);
    expect([REP.ERR_UNSUP, REP.ERR_POLICY]).toContain(tls.type);
    connection.write(optionRequest(OPT.STARTTLS, bytes("x")));
    expect(await connection.readOptionReply()).toMatchObject({ type: REP.ERR_INVALID });
    connection.write(optionRequest(OPT.EXTENDED_HEADERS));
    const reply = await connection.readOptionReply();
    expect(reply).toMatchObject({ option: OPT.EXTENDED_HEADERS, type: REP.ERR_UNSUP });
    expect(await connection.go()).toMatchObject({ option: OPT.GO, type: REP.ACK });
    connection.close();
  });

  test("NBD_OPT_ABORT is acknowledged and then the server closes", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await RawConnection.open(background.socket);
    await connection.greet();
    connection.write(optionRequest(OPT.ABORT));
    expect(await connection.readOptionReply()).toMatchObject({ option: OPT.ABORT, type: REP.ACK });
    expect(await connection.closedByServer()).toBe(true);
  });

  test("NBD_OPT_LIST with data is invalid and the session goes on", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await RawConnection.open(background.socket);
    await connection.greet();
    connection.write(optionRequest(OPT.LIST, bytes("junk")));
    expect(await connection.readOptionReply()).toMatchObject({
      option: OPT.LIST,
      type: REP.ERR_INVALID,
    });
    connection.write(optionRequest(OPT.LIST));
    const server0 = await connection.readOptionReply();
    expect(server0).toMatchObject({ option: OPT.LIST, type: REP.SERVER, data: new Uint8Array(4) });
    expect(await connection.readOptionReply()).toMatchObject({ option: OPT.LIST, type: REP.ACK });
    connection.close();
  });
});
