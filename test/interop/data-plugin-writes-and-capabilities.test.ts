/**
 * A data disk is a writable in-memory disk like nbdkit's: multi-conn, native FUA, cache,
 * fast zero, trim and extents; writes replace the expression's bytes and are shared by every
 * connection; -r makes it read-only.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("data plugin writes and capabilities ($name)", (server) => {
  test("advertises nbdkit's data plugin capabilities", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["data", "1 2 3 @0x100000"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      report(data_at_0=extents(h, 512, 0)[0][1], hole_at_512k=extents(h, 512, 0x80000)[0][1],
             read_only=h.is_read_only(), flush=h.can_flush(), fua=h.can_fua(),
             multi_conn=h.can_multi_conn(), trim=h.can_trim(), zero=h.can_zero(),
             fast_zero=h.can_fast_zero(), cache=h.can_cache(),
             extents=h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
    `,
    );
    expect(result).toEqual({
      data_at_0: 0,
      hole_at_512k: 3,
      read_only: false,
      flush: true,
      fua: true,
      multi_conn: true,
      trim: true,
      zero: true,
      fast_zero: true,
      cache: true,
      extents: true,
    });
  });

  test("writes, zeroes and trims change the disk for every connection", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["data", '"abcdefgh" @0x10000'],
      `
      a = connect()
      b = connect()
      a.pwrite(b"XY", 1, nbd.CMD_FLAG_FUA)
      a.zero(1, 3)
      a.trim(1, 4)
      a.flush()
      a.pwrite(b"z", 0xffff)
      a.cache(16, 0)
      report(seen=bytes(b.pread(8, 0)).hex(), last=bytes(b.pread(1, 0xffff)).hex(),
             size=b.get_size())
    `,
    );
    expect(result).toEqual({ seen: "61585900006667" + "68", last: "7a", size: 65536 });
  });

  test("-r serves the data read-only", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["data", "0x55*16"],
      `
      h = connect()
      report(read_only=h.is_read_only(), write=outcome(lambda: h.pwrite(b"x", 0)),
             data=bytes(h.pread(16, 0)).hex())
    `,
      { serverOptions: ["-r"] },
    );
    expect(result).toEqual({ read_only: true, write: "EPERM", data: "55".repeat(16) });
  });
});
