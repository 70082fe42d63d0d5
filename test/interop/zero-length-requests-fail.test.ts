/**
 * Zero-length requests are answered with an error, never a disconnect: EINVAL for read,
 * trim, cache and block status, ENOSPC for write and write-zeroes (what nbdkit does; the
 * spec leaves the result open but forbids hanging up).
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("zero-length requests fail ($name)", (server) => {
  test("each zero-length command gets its error and the connection keeps serving", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      h.set_strict_mode(0)
      report(
          read=outcome(lambda: h.pread(0, 0)),
          write=outcome(lambda: h.pwrite(b"", 0)),
          zero=outcome(lambda: h.zero(0, 0)),
          trim=outcome(lambda: h.trim(0, 0)),
          cache=outcome(lambda: h.cache(0, 0)),
          block_status=outcome(lambda: h.block_status(0, 0, lambda *args: 0)),
          after=outcome(lambda: h.pread(512, 0)),
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
      after: "ok",
    });
  });
});
