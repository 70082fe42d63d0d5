/**
 * Without -o the server greets every client in fixed newstyle, with NO_ZEROES offered, never in
 * oldstyle: the first 18 bytes are NBDMAGIC, IHAVEOPT and handshake flags 0x0003.
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { RawConnection, readU16, readU64, WIRE } from "../helpers/raw-nbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("handshake greeting is fixed newstyle ($name)", (server) => {
  test("the greeting bytes are NBDMAGIC, IHAVEOPT and flags FIXED_NEWSTYLE|NO_ZEROES", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    const connection = await RawConnection.open(background.socket);
    const greeting = await connection.read(18);
    connection.close();
    expect(readU64(greeting, 0)).toBe(WIRE.NBDMAGIC);
    expect(readU64(greeting, 8)).toBe(WIRE.IHAVEOPT);
    expect(readU64(greeting, 8)).not.toBe(WIRE.OLDSTYLE_MAGIC);
    expect(readU16(greeting, 16)).toBe(0x0003);
  });

  test("libnbd sees newstyle-fixed with both handshake flags", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect()
      report(protocol=h.get_protocol(), flags=h.get_handshake_flags())
    `,
    );
    expect(result).toEqual({ protocol: "newstyle-fixed", flags: 3 });
  });
});
