/**
 * -o (--oldstyle) serves the oldstyle handshake (the spec's "Oldstyle negotiation") as nbdkit
 * does: the whole handshake is one 152-byte greeting sent as the client connects (NBDMAGIC,
 * cliserv_magic, the export's size, no global flags, its transmission flags, 124 zero bytes),
 * then requests, with simple replies only. nbdinfo and nbdsh see protocol "oldstyle". The
 * expected bytes and output are nbdkit 1.32.5's, which runs every case too.
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { OLDSTYLE_MEMORY_1M, portableInfo } from "../helpers/nbdinfo-report.ts";
import { RawConnection, readU16, readU64, WIRE } from "../helpers/raw-nbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("oldstyle handshake greets with size and flags ($name)", (server) => {
  test.for([
    { options: [], flags: 0x0d6d },
    { options: ["-r"], flags: 0x0507 }, // HAS_FLAGS READ_ONLY FLUSH MULTI_CONN CACHE
  ])("the greeting with $options is 152 bytes, and a READ may follow at once", async ({
    options,
    flags,
  }) => {
    const background = await startServer(server, ["memory", "1M"], {
      serverOptions: ["-o", ...options],
    });
    const connection = await RawConnection.open(background.socket);
    const greeting = await connection.read(152);
    expect(readU64(greeting, 0)).toBe(WIRE.NBDMAGIC);
    expect(readU64(greeting, 8)).toBe(WIRE.OLDSTYLE_MAGIC);
    expect(readU64(greeting, 16)).toBe(1048576n);
    expect(readU16(greeting, 24)).toBe(0); // global flags
    expect(readU16(greeting, 26)).toBe(flags); // no DF: structured replies never come
    expect(greeting.subarray(28).every((byte) => byte === 0)).toBe(true);
    expect(await connection.readWorks()).toBe(true); // no option comes first
    connection.close();
  });

  test("nbdinfo over -U - --run shows protocol oldstyle, the size and the flags", async (context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(
      await captive(server, ["memory", "1M"], 'nbdinfo "$uri"', { serverOptions: ["-o"] }),
    );
    expect(portableInfo(stdout)).toBe(OLDSTYLE_MEMORY_1M);
  });

  test("nbdsh reads and writes with simple replies and no metadata contexts", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      h.pwrite(b"oldstyle", 4096)
      report(protocol=h.get_protocol(), size=h.get_size(), back=bytes(h.pread(8, 4096)).decode(),
             sr=h.get_structured_replies_negotiated(),
             allocation=h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
    `,
      { serverOptions: ["-o"] },
    );
    expect(result).toEqual({
      protocol: "oldstyle",
      size: 1048576,
      back: "oldstyle",
      sr: false,
      allocation: false,
    });
  });
});
