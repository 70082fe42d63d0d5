/**
 * NBD_CMD_TRIM succeeds (with and without FUA) on a memory disk, which then reads the
 * trimmed range as zeroes, and leaves data outside the range alone.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("trim discards data ($name)", (server) => {
  test("trimming a written range makes it read as zeroes on a memory disk", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "4M"],
      `
      M = 1024 * 1024
      h = connect()
      h.pwrite(b"\\xcd" * (3 * M), 0)
      plain = outcome(lambda: h.trim(M, 0))
      fua = outcome(lambda: h.trim(M, M, nbd.CMD_FLAG_FUA))
      report(
          can_trim=h.can_trim(), plain=plain, fua=fua,
          trimmed=bytes(h.pread(2 * M, 0)) == bytes(2 * M),
          kept=bytes(h.pread(M, 2 * M)) == b"\\xcd" * M,
      )
    `,
    );
    expect(result).toEqual({ can_trim: true, plain: "ok", fua: "ok", trimmed: true, kept: true });
  });

  test("an unaligned trim leaves the bytes outside the range intact", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect()
      h.pwrite(b"\\x11" * 65536, 0)
      h.trim(1000, 3)
      data = bytes(h.pread(65536, 0))
      report(before=data[:3] == b"\\x11" * 3, after=data[1003:] == b"\\x11" * (65536 - 1003))
    `,
    );
    expect(result).toEqual({ before: true, after: true });
  });
});
