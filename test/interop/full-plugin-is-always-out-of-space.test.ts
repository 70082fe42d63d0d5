/**
 * The full plugin: a disk that reads as zeroes, is mapped as one hole, and fails every write,
 * zero and trim with ENOSPC, except a fast zero, which is refused at once with ENOTSUP.
 */

import { describe, expect, test } from "vitest";
import { captive } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("full plugin is always out of space ($name)", (server) => {
  test("full 1M reads zeroes and answers every write-type command with ENOSPC", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["full", "1M"],
      `
      h = connect()
      report(size=h.get_size(),
             zero=bytes(h.pread(1024 * 1024, 0)) == bytes(1024 * 1024),
             write=outcome(lambda: h.pwrite(b"x" * 4096, 0)),
             small_write=outcome(lambda: h.pwrite(b"x", 1000)),
             zero_cmd=outcome(lambda: h.zero(4096, 0)),
             fast_zero=outcome(lambda: h.zero(4096, 0, nbd.CMD_FLAG_FAST_ZERO)),
             trim=outcome(lambda: h.trim(4096, 0)),
             cache=outcome(lambda: h.cache(4096, 0)))
    `,
    );
    expect(result).toEqual({
      size: 1048576,
      zero: true,
      write: "ENOSPC",
      small_write: "ENOSPC",
      zero_cmd: "ENOSPC",
      fast_zero: "ENOTSUP",
      trim: "ENOSPC",
      cache: "ok",
    });
  });

  test("the full disk offers writes and fast zero but no flush, and is one hole", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["full", "size=1M"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      report(read_only=h.is_read_only(), multi_conn=h.can_multi_conn(), cache=h.can_cache(),
             flush=h.can_flush(), fua=h.can_fua(), trim=h.can_trim(), zero=h.can_zero(),
             fast_zero=h.can_fast_zero(), extents=extents(h, 65536, 4096))
    `,
    );
    expect(result).toEqual({
      read_only: false,
      multi_conn: true,
      cache: true,
      flush: false,
      fua: false,
      trim: true,
      zero: true,
      fast_zero: true,
      extents: [[1044480, 3]],
    });
  });

  test("full without a size refuses to start", async () => {
    const result = await captive(server, ["full"], "true");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/size parameter is required/);
  });
});
