/**
 * Requests reaching past the end of the export fail without harming the connection: reads,
 * trims, caches and block status with EINVAL, writes and write-zeroes with ENOSPC.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("out-of-range requests fail ($name)", (server) => {
  test("requests crossing the end get EINVAL or ENOSPC and the connection keeps serving", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      END = 1024 * 1024
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      h.set_strict_mode(0)
      h.pwrite(b"still here", 0)
      report(
          read=outcome(lambda: h.pread(10, END - 5)),
          write=outcome(lambda: h.pwrite(b"x" * 10, END - 5)),
          zero=outcome(lambda: h.zero(10, END - 5)),
          trim=outcome(lambda: h.trim(10, END - 5)),
          cache=outcome(lambda: h.cache(10, END - 5)),
          block_status=outcome(lambda: h.block_status(10, END - 5, lambda *args: 0)),
          after=bytes(h.pread(10, 0)).decode(),
          last_byte=outcome(lambda: h.pread(1, END - 1)),
      )
    `,
    );
    expect(result).toEqual({
      read: "EINVAL",
      write: "ENOSPC",
      zero: "ENOSPC",
      trim: "EINVAL",
      cache: "EINVAL",
      block_status: "EINVAL",
      after: "still here",
      last_byte: "ok",
    });
  });

  test("requests starting beyond the end fail the same way", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      FAR = 1024 * 1024 * 1024
      h = connect()
      h.set_strict_mode(0)
      report(
          read=outcome(lambda: h.pread(512, FAR)),
          write=outcome(lambda: h.pwrite(b"x" * 512, FAR)),
          zero=outcome(lambda: h.zero(512, FAR)),
          trim=outcome(lambda: h.trim(512, FAR)),
          at_end=outcome(lambda: h.pread(1, 1024 * 1024)),
          after=outcome(lambda: h.pread(512, 0)),
      )
    `,
    );
    expect(result).toEqual({
      read: "EINVAL",
      write: "ENOSPC",
      zero: "ENOSPC",
      trim: "EINVAL",
      at_end: "EINVAL",
      after: "ok",
    });
  });

  test("a write past the end changes nothing inside the export", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect()
      h.set_strict_mode(0)
      outcome(lambda: h.pwrite(b"\\xee" * 4096, 1024 * 1024 - 2048))
      report(tail_is_zero=bytes(h.pread(2048, 1024 * 1024 - 2048)) == bytes(2048))
    `,
    );
    expect(result).toEqual({ tail_is_zero: true });
  });
});
