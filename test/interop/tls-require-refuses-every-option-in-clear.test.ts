/**
 * Before TLS, --tls=require answers no option but STARTTLS and ABORT: every other option code,
 * with data or without, before and after a STARTTLS that failed for carrying data, gets
 * ERR_TLS_REQD, and EXPORT_NAME (which has no error reply) ends the connection with nothing
 * sent. What STARTTLS keeps and forgets is nbdkit 1.32.5's (server/protocol-handshake-newstyle.c):
 * the option budget and the LIST-seen flag carry over; structured replies and the meta context
 * chosen in clear do not.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import {
  bytes,
  goData,
  HANDSHAKE,
  OPT,
  optionRequest,
  RawConnection,
  REP,
  request,
  u32,
  WIRE,
} from "../helpers/raw-nbd.ts";
import { type Server, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

/** Option codes of the spec, "Option types", with two no one defined. */
const OPTION_CODES = [0, 3, 4, 6, 7, 8, 9, 10, 11, 12, 0x2a, 0xffffffff];
const LIST_META_CONTEXT = 9;
const SET_META_CONTEXT = 10;
const BLOCK_STATUS = 7;
/** The spec's limit on options before an export is chosen, as nbdkit counts it. */
const MAX_OPTIONS = 32;

/** SET/LIST_META_CONTEXT data: export name "", one query. */
const metaContextData = (query: string) =>
  bytes(u32(0), u32(1), u32(new TextEncoder().encode(query).length), query);

async function greeted(server: Server, mode: string, flags?: number): Promise<RawConnection> {
  const serverOptions = [`--tls=${mode}`, `--tls-certificates=${pki.serverDir}`];
  const background = await startServer(server, ["memory", "1M"], { serverOptions });
  const connection = await RawConnection.open(background.socket);
  await connection.greet(flags);
  return connection;
}

/** STARTTLS, its ACK in clear, then the handshake. */
async function upgrade(connection: RawConnection): Promise<RawConnection> {
  expect(await connection.exchange(OPT.STARTTLS)).toMatchObject([{ type: REP.ACK }]);
  const ca = readFileSync(join(pki.clientDir, "ca-cert.pem"));
  return await connection.startTls({ ca, servername: "localhost" });
}

/** The error of the reply to BLOCK_STATUS (0 for success), simple or structured. */
async function blockStatusError(connection: RawConnection): Promise<number> {
  connection.write(request({ type: BLOCK_STATUS, cookie: 9n, length: 512 }));
  const head = new DataView((await connection.read(20)).buffer);
  if (head.getUint32(0) === WIRE.SIMPLE_REPLY_MAGIC) return head.getUint32(4);
  const payload = await connection.read(head.getUint32(16));
  const isError = (head.getUint16(6) & 0x8000) !== 0; // spec: error chunk types set bit 15
  return isError ? new DataView(payload.buffer).getUint32(0) : 0;
}

describe.each(servers)("--tls=require before STARTTLS ($name)", (server) => {
  test("every option code, with data or not, gets ERR_TLS_REQD; EXPORT_NAME then ends it", async () => {
    const connection = await greeted(server, "require");
    const answers = async () => {
      const seen = [];
      for (const option of OPTION_CODES) {
        for (const data of [new Uint8Array(), goData("x")]) {
          seen.push((await connection.exchange(option, data))[0].type);
        }
      }
      return seen;
    };
    expect(await answers()).toEqual(
      OPTION_CODES.flatMap(() => [REP.ERR_TLS_REQD, REP.ERR_TLS_REQD]),
    );
    expect(await connection.exchange(OPT.STARTTLS, bytes("x"))).toMatchObject([
      { type: REP.ERR_INVALID },
    ]);
    expect(await connection.exchange(OPT.GO, goData(""))).toMatchObject([
      { type: REP.ERR_TLS_REQD },
    ]);
    connection.write(optionRequest(OPT.EXPORT_NAME));
    expect(await connection.readUntilClosed()).toEqual(new Uint8Array());
  });

  test("a client without fixed newstyle gets ERR_INVALID, and its EXPORT_NAME nothing", async () => {
    const connection = await greeted(server, "require", HANDSHAKE.NO_ZEROES);
    expect(await connection.exchange(OPT.STARTTLS)).toMatchObject([{ type: REP.ERR_INVALID }]);
    connection.write(optionRequest(OPT.EXPORT_NAME));
    expect(await connection.readUntilClosed()).toEqual(new Uint8Array());
  });

  test("options refused in clear count against the budget, which STARTTLS does not refill", async () => {
    const connection = await greeted(server, "require");
    for (let i = 0; i < MAX_OPTIONS - 1; i++) {
      expect((await connection.exchange(OPT.LIST))[0].type).toBe(REP.ERR_TLS_REQD);
    }
    const secure = await upgrade(connection); // the 32nd option
    secure.write(optionRequest(OPT.LIST));
    expect(await secure.readUntilClosed()).toEqual(new Uint8Array());
  });
});

describe.each(servers)("--tls=on: what STARTTLS forgets ($name)", (server) => {
  test("a meta context chosen in clear is not in force over TLS until chosen again", async () => {
    const chooseInClear = async (again: boolean) => {
      const connection = await greeted(server, "on");
      await connection.exchange(OPT.STRUCTURED_REPLY);
      const chosen = await connection.exchange(
        SET_META_CONTEXT,
        metaContextData("base:allocation"),
      );
      expect(chosen.map((reply) => reply.type)).toEqual([4, /* NBD_REP_META_CONTEXT */ REP.ACK]);
      const secure = await upgrade(connection);
      expect((await secure.exchange(OPT.STRUCTURED_REPLY))[0].type).toBe(REP.ACK);
      if (again) await secure.exchange(SET_META_CONTEXT, metaContextData("base:allocation"));
      expect((await secure.go()).type).toBe(REP.ACK);
      const error = await blockStatusError(secure);
      secure.close();
      return error;
    };
    expect(await chooseInClear(false)).toBe(22); // EINVAL: no context was negotiated over TLS
    expect(await chooseInClear(true)).toBe(0);
  });

  test("SET_META_CONTEXT right after STARTTLS is refused: structured replies were forgotten", async () => {
    const connection = await greeted(server, "on");
    expect((await connection.exchange(OPT.STRUCTURED_REPLY))[0].type).toBe(REP.ACK);
    const secure = await upgrade(connection);
    const refused = await secure.exchange(SET_META_CONTEXT, metaContextData("base:allocation"));
    expect(refused).toMatchObject([{ type: REP.ERR_INVALID }]);
    // Listing needs no structured replies, and still works.
    const listed = await secure.exchange(LIST_META_CONTEXT, metaContextData("base:allocation"));
    expect(listed.at(-1)).toMatchObject({ type: REP.ACK });
    secure.close();
  });

  test("LIST seen in clear stays seen: a second LIST over TLS is ERR_INVALID", async () => {
    const connection = await greeted(server, "on");
    expect((await connection.exchange(OPT.LIST)).at(-1)).toMatchObject({ type: REP.ACK });
    const secure = await upgrade(connection);
    expect(await secure.exchange(OPT.LIST)).toMatchObject([{ type: REP.ERR_INVALID }]);
    secure.close();
  });
});
