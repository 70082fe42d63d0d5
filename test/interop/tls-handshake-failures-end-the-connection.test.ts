/**
 * A TLS handshake that does not finish ends that connection at once, says so on stderr, and
 * leaves the server serving: a client that hangs up right after the STARTTLS ACK, one that
 * stops sending half-way through its ClientHello, one that refuses the server's certificate,
 * and a hundred garbage handshakes in a row. Under --tls=require, nothing comes back in clear.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BackgroundServer, startServer } from "../helpers/background.ts";
import { bytes, OPT, optionRequest, RawConnection, REP, u64, WIRE } from "../helpers/raw-nbd.ts";
import { type Server, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

/** The first bytes of a TLS ClientHello record: type 22, version 3.1, length 512, then 2 of them. */
const HALF_A_CLIENT_HELLO = new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]);

function requireTls(server: Server): Promise<BackgroundServer> {
  const serverOptions = ["--tls=require", `--tls-certificates=${pki.serverDir}`];
  return startServer(server, ["memory", "1M"], { serverOptions });
}

/** A connection whose STARTTLS the server has just ACKed: the next bytes are TLS. */
async function afterStartTlsAck(socket: string): Promise<RawConnection> {
  const connection = await RawConnection.open(socket);
  await connection.greet();
  connection.write(optionRequest(OPT.STARTTLS));
  expect(await connection.readOptionReply()).toMatchObject({ type: REP.ACK });
  return connection;
}

/** Lines of the server's stderr about a handshake, once there are `times` (or after 5 s). */
async function handshakeFailuresLogged(background: BackgroundServer, times: number) {
  const count = () =>
    background.stderr().split("\n").filter((line) => /handshake/i.test(line)).length;
  for (let waited = 0; waited < 5_000 && count() < times; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return count();
}

/** Whether a fresh client still gets through TLS to its export. */
async function servesTlsClients(socket: string): Promise<boolean> {
  const connection = await afterStartTlsAck(socket);
  const ca = readFileSync(join(pki.clientDir, "ca-cert.pem"));
  const secure = await connection.startTls({ ca, servername: "localhost" });
  const go = await secure.go();
  secure.close();
  return go.type === REP.ACK;
}

describe.each(servers)("a TLS handshake that fails ($name)", (server) => {
  test("a client hanging up right after the STARTTLS ACK is logged, and the next is served", async () => {
    const background = await requireTls(server);
    (await afterStartTlsAck(background.socket)).close();
    const halfHello = await afterStartTlsAck(background.socket);
    halfHello.write(HALF_A_CLIENT_HELLO);
    halfHello.close();
    expect(await handshakeFailuresLogged(background, 2)).toBeGreaterThanOrEqual(2);
    expect(await servesTlsClients(background.socket)).toBe(true);
  });

  test("a client that stops sending half-way through its ClientHello is hung up on", async () => {
    const background = await requireTls(server);
    const connection = await afterStartTlsAck(background.socket);
    connection.write(HALF_A_CLIENT_HELLO);
    connection.endWriting(); // it still reads: the server must not wait for the rest
    expect(await connection.closedByServer()).toBe(true);
    expect(connection.received()).toEqual(new Uint8Array());
  });

  test("a client refusing the server's certificate gets nothing in clear after the ACK", async () => {
    const background = await requireTls(server);
    const connection = await afterStartTlsAck(background.socket);
    connection.write(optionRequest(OPT.GO)); // pipelined behind its doomed handshake
    await expect(connection.startTls({ servername: "localhost" })).rejects.toThrow();
    expect(await connection.closedByServer()).toBe(true);
    expect(connection.received().subarray(0, 8)).not.toEqual(u64(WIRE.OPTION_REPLY_MAGIC));
    expect(await servesTlsClients(background.socket)).toBe(true);
  });

  test("a hundred garbage handshakes in a row leave the server serving", async () => {
    const background = await requireTls(server);
    for (let i = 0; i < 100; i++) {
      const connection = await afterStartTlsAck(background.socket);
      connection.write(bytes("GET / HTTP/1.0\r\n\r\n")); // not a TLS record at all
      expect(await connection.closedByServer()).toBe(true);
    }
    expect(await handshakeFailuresLogged(background, 100)).toBeGreaterThanOrEqual(100);
    expect(await servesTlsClients(background.socket)).toBe(true);
  });
});
