/**
 * A request the server behind the nbd plugin refuses is refused to the client with the same
 * errno, and the connection goes on; a read-only server makes a read-only proxy. Each nbdts
 * runtime in front, and nbdkit's own nbd plugin as the oracle.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { startNbdkitBackend } from "../helpers/nbd-backend.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("nbd plugin ($name)", (server) => {
  test("ENOSPC from a full disk and EIO from a failing read reach the client", async (context) => {
    requireClients(context, "python3");
    const full = await startNbdkitBackend(["full", "1M"]);
    const failing = await startNbdkitBackend([
      "--filter=error",
      "memory",
      "1M",
      "error-pread=EIO",
      "error-pread-rate=1",
    ]);
    const body = `
      h = connect()
      report(write=outcome(lambda: h.pwrite(b"x" * 512, 0)), after=outcome(lambda: h.pread(512, 0)))
    `;
    expect(await libnbd(server, ["nbd", `socket=${full.socket}`], body)).toEqual({
      write: "ENOSPC",
      after: "ok",
    });
    const read = await libnbd(
      server,
      ["nbd", `socket=${failing.socket}`],
      `
      h = connect()
      report(read=outcome(lambda: h.pread(512, 0)), write=outcome(lambda: h.pwrite(b"x", 0)))
    `,
    );
    expect(read).toEqual({ read: "EIO", write: "ok" });
  });

  test("a read-only server gives a read-only export whose writes fail with EPERM", async (context) => {
    requireClients(context, "python3");
    const backend = await startNbdkitBackend(["memory", "1M"], ["-r"]);
    const seen = await libnbd(
      server,
      ["nbd", `socket=${backend.socket}`],
      `
      h = connect()
      report(read_only=h.is_read_only(), write=outcome(lambda: h.pwrite(b"x", 0)))
    `,
    );
    expect(seen).toEqual({ read_only: true, write: "EPERM" });
  });
});
