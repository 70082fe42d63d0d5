/**
 * A read-only export (-r, or a plugin that cannot write) refuses writes, trims and
 * write-zeroes with EPERM, keeps the data unchanged, and still serves reads and flushes.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ATTEMPTS = `
h = connect()
h.set_strict_mode(0)
report(
    read_only=h.is_read_only(),
    write=outcome(lambda: h.pwrite(b"x" * 512, 0)),
    write_fua=outcome(lambda: h.pwrite(b"x" * 512, 0, nbd.CMD_FLAG_FUA)),
    trim=outcome(lambda: h.trim(512, 0)),
    zero=outcome(lambda: h.zero(512, 0)),
    read=outcome(lambda: h.pread(512, 0)),
    first=bytes(h.pread(8, 0)).hex(),
)
`;

describe.each(servers)("read-only export refuses writes ($name)", (server) => {
  test("memory served with -r answers writes, trims and zeroes with EPERM", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(server, ["memory", "1M"], ATTEMPTS, { serverOptions: ["-r"] });
    expect(result).toEqual({
      read_only: true,
      write: "EPERM",
      write_fua: "EPERM",
      trim: "EPERM",
      zero: "EPERM",
      read: "ok",
      first: "0000000000000000",
    });
  });

  test("memory served with -r still accepts flush", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect()
      report(can_flush=h.can_flush(), flush=outcome(lambda: h.flush()))
    `,
      { serverOptions: ["-r"] },
    );
    expect(result).toEqual({ can_flush: true, flush: "ok" });
  });

  test("the pattern plugin is read-only without -r", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(server, ["pattern", "1M"], ATTEMPTS);
    expect(result).toMatchObject({
      read_only: true,
      write: "EPERM",
      trim: "EPERM",
      zero: "EPERM",
      read: "ok",
    });
  });
});
