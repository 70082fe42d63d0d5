/**
 * NBD_OPT_STARTTLS byte by byte, with a hand-driven client and node:tls for the client side of
 * the handshake: --tls=require refuses every option but STARTTLS and ABORT before TLS (and
 * hangs up on EXPORT_NAME), --tls=on serves clear and TLS clients alike, --tls=off refuses
 * STARTTLS by policy; STARTTLS with data, or a second one, is ERR_INVALID; what was agreed in
 * clear is forgotten; bytes sent behind STARTTLS are never answered as options.
 */

import type { ConnectionOptions } from "node:tls";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { captive } from "../helpers/captive.ts";
import {
  bytes,
  CMD,
  goData,
  OPT,
  optionRequest,
  RawConnection,
  readU64,
  REP,
  request,
  u64,
  WIRE,
} from "../helpers/raw-nbd.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";
import { makePki, nodeTlsClient, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

/** node:tls's side of the handshake: trusts our CA, expects the name "localhost". */
const client = (): ConnectionOptions => nodeTlsClient(pki);

/** A raw connection, greeted, to `server` started with --tls=`mode` and our certificates. */
async function connectTo(server: Server, mode: string): Promise<RawConnection> {
  const serverOptions = [`--tls=${mode}`, `--tls-certificates=${pki.serverDir}`];
  const background = await startServer(server, ["memory", "1M"], { serverOptions });
  return await greeted(background.socket);
}

async function greeted(socket: string): Promise<RawConnection> {
  const connection = await RawConnection.open(socket);
  await connection.greet();
  return connection;
}

/** Sends one option and expects exactly one reply to it, of `type`. */
async function expectAnswer(
  connection: RawConnection,
  option: number,
  type: number,
  data?: Uint8Array,
): Promise<void> {
  expect(await connection.exchange(option, data)).toMatchObject([{ option, type }]);
}

/** Starts TLS on `connection`: STARTTLS, its ACK, then the handshake. */
async function startTls(connection: RawConnection): Promise<RawConnection> {
  await expectAnswer(connection, OPT.STARTTLS, REP.ACK);
  return await connection.startTls(client());
}

describe.each(servers)("STARTTLS on the wire ($name)", (server) => {
  test("--tls=require: options before STARTTLS get ERR_TLS_REQD, then TLS serves them", async () => {
    const connection = await connectTo(server, "require");
    for (
      const [option, data] of [
        [OPT.LIST, new Uint8Array()],
        [OPT.INFO, goData("")],
        [OPT.GO, goData("")],
        [OPT.STRUCTURED_REPLY, new Uint8Array()],
        [0x2a, bytes("unknown option data")],
      ] as const
    ) {
      await expectAnswer(connection, option, REP.ERR_TLS_REQD, data);
    }
    const secure = await startTls(connection);
    expect((await secure.exchange(OPT.LIST)).at(-1)).toMatchObject({ type: REP.ACK });
    expect(await secure.go()).toMatchObject({ option: OPT.GO, type: REP.ACK });
    secure.write(request({ type: CMD.READ, cookie: 7n, length: 16 }));
    expect(await secure.readSimpleReply()).toEqual({
      magic: WIRE.SIMPLE_REPLY_MAGIC,
      error: 0,
      cookie: 7n,
    });
    expect(await secure.read(16)).toEqual(new Uint8Array(16));
    secure.close();
  });

  test("--tls=require: EXPORT_NAME in clear ends the connection with nothing sent", async () => {
    const connection = await connectTo(server, "require");
    connection.write(optionRequest(OPT.EXPORT_NAME));
    expect(await connection.closedByServer()).toBe(true);
    expect(connection.received()).toEqual(new Uint8Array());
  });

  test("--tls=require: ABORT in clear is acknowledged", async () => {
    const connection = await connectTo(server, "require");
    await expectAnswer(connection, OPT.ABORT, REP.ACK);
    expect(await connection.closedByServer()).toBe(true);
  });

  test("--tls=require: nbdinfo without TLS fails, with nbds:// it works", async (context) => {
    requireClients(context, "nbdinfo");
    const serverOptions = ["--tls=require", `--tls-certificates=${pki.serverDir}`];
    const plain = await captive(
      server,
      ["memory", "1M"],
      'nbdinfo "nbd+unix://?socket=$unixsocket"',
      {
        serverOptions,
      },
    );
    expect(plain.status).not.toBe(0);
    const secure = await captive(
      server,
      ["memory", "1M"],
      `nbdinfo --size "nbds+unix:///?socket=$unixsocket&tls-certificates=${pki.clientDir}"`,
      { serverOptions },
    );
    expect(secure.stdout.trim()).toBe("1048576");
  });

  test("--tls=on: a client that never asks for TLS is served in clear", async () => {
    const connection = await connectTo(server, "on");
    expect(await connection.go()).toMatchObject({ option: OPT.GO, type: REP.ACK });
    connection.write(request({ type: CMD.READ, cookie: 1n, length: 8 }));
    expect((await connection.readSimpleReply()).error).toBe(0);
    connection.close();
  });

  test("--tls=off: STARTTLS is refused by policy, as nbdkit built with GnuTLS does", async () => {
    const connection = await connectTo(server, "off");
    await expectAnswer(connection, OPT.STARTTLS, REP.ERR_POLICY);
    expect(await connection.go()).toMatchObject({ type: REP.ACK });
    connection.close();
  });

  test("STARTTLS with data is ERR_INVALID; a second one over TLS is ERR_INVALID too", async () => {
    const connection = await connectTo(server, "on");
    await expectAnswer(connection, OPT.STARTTLS, REP.ERR_INVALID, bytes("x"));
    const secure = await startTls(connection);
    await expectAnswer(secure, OPT.STARTTLS, REP.ERR_INVALID);
    expect(await secure.go()).toMatchObject({ type: REP.ACK });
    secure.close();
  });

  test("structured replies agreed in clear are forgotten once TLS is up (CVE-2021-3716)", async () => {
    const connection = await connectTo(server, "on");
    await expectAnswer(connection, OPT.STRUCTURED_REPLY, REP.ACK);
    const secure = await startTls(connection);
    const go = await secure.exchange(OPT.GO, goData(""));
    expect(go.at(-1)).toMatchObject({ type: REP.ACK });
    secure.write(request({ type: CMD.READ, cookie: 3n, length: 8 }));
    // A simple reply: the server did not keep the plaintext agreement.
    expect(await secure.readSimpleReply()).toMatchObject({ magic: WIRE.SIMPLE_REPLY_MAGIC });
    expect(readU64(go[0].data, 2)).toBe(1048576n); // NBD_INFO_EXPORT's size, for good measure
    secure.close();
  });

  test("options sent right behind STARTTLS are never answered in clear", async () => {
    const serverOptions = ["--tls=on", `--tls-certificates=${pki.serverDir}`];
    const background = await startServer(server, ["memory", "1M"], { serverOptions });
    const connection = await greeted(background.socket);
    connection.write(
      bytes(
        optionRequest(OPT.STARTTLS),
        optionRequest(OPT.STRUCTURED_REPLY),
        optionRequest(OPT.LIST),
      ),
    );
    expect(await connection.readOptionReply()).toMatchObject({
      option: OPT.STARTTLS,
      type: REP.ACK,
    });
    // The injected bytes went to the TLS layer, which cannot take them for a handshake ...
    await expect(connection.startTls(client())).rejects.toThrow();
    // ... and nothing came back that reads as an option reply in clear.
    expect(connection.received().subarray(0, 8)).not.toEqual(u64(WIRE.OPTION_REPLY_MAGIC));
    // The server goes on serving the next client.
    const next = await startTls(await greeted(background.socket));
    expect(await next.go()).toMatchObject({ type: REP.ACK });
    next.close();
  });
});
