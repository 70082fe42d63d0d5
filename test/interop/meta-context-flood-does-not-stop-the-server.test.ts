/**
 * One LIST_META_CONTEXT carrying 200 000 queries must not stop the server. nbdkit answers every
 * matching query; nbdts refuses more than 4096 with NBD_REP_ERR_TOO_BIG (the spec allows it).
 * Either way the client's following ABORT closes the connection and a new client is served.
 * (nbdts once died here: the replies were pushed in one spread call, which overflowed the stack.)
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { bytes, OPT, optionRequest, RawConnection, REP, u32 } from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

const LIST_META_CONTEXT = 9;
const QUERIES = 200_000;

/** LIST_META_CONTEXT data: empty export name, then QUERIES times "base:allocation". */
function floodData(): Uint8Array {
  const query = bytes(u32(15), "base:allocation");
  const data = new Uint8Array(8 + QUERIES * query.length);
  data.set(u32(QUERIES), 4);
  for (let i = 0; i < QUERIES; i++) data.set(query, 8 + i * query.length);
  return data;
}

describe.each(servers)("meta-context flood does not stop the server ($name)", (server) => {
  test("200 000 queries are answered or refused, ABORT then closes, and a new client is served", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const flood = await RawConnection.open(background.socket);
    await flood.greet();
    flood.write(optionRequest(LIST_META_CONTEXT, floodData()));
    flood.write(optionRequest(OPT.ABORT));
    expect(await flood.closedByServer(30_000)).toBe(true);
    const next = await RawConnection.open(background.socket);
    await next.greet();
    expect((await next.go()).type).toBe(REP.ACK);
    next.close();
    expect(background.stderr()).not.toMatch(/RangeError|stack/);
  });
});
