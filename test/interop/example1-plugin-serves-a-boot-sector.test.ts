/**
 * The example1 plugin: a read-only 100 MB disk whose first sector is nbdkit's example boot
 * record (one Linux partition from sector 128, 204545 sectors long) and the rest zeroes.
 */

import { describe, expect, test } from "vitest";
import { captive } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("example1 plugin serves a boot sector ($name)", (server) => {
  test("example1 is 100 MB, a boot record with one partition, then zeroes", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["example1"],
      `
      import struct
      h = connect()
      mbr = bytes(h.pread(512, 0))
      status, kind, first, count = struct.unpack_from("<B3xB3xII", mbr, 0x1be)
      report(size=h.get_size(), code=mbr[:8].hex(), signature=mbr[510:].hex(),
             partition=[status, kind, first, count], empty_entries=mbr[0x1ce:0x1fe] == bytes(48),
             zero_after=bytes(h.pread(1024 * 1024, 512)) == bytes(1024 * 1024),
             zero_at_end=bytes(h.pread(4096, h.get_size() - 4096)) == bytes(4096))
    `,
    );
    expect(result).toEqual({
      size: 104857600,
      code: "fab800108ed0bc00",
      signature: "55aa",
      partition: [0, 0x83, 128, 204545],
      empty_entries: true,
      zero_after: true,
      zero_at_end: true,
    });
  });

  test("example1 is read-only, all data, and not shareable or cacheable", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["example1"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      h.set_strict_mode(0)
      report(read_only=h.is_read_only(), write=outcome(lambda: h.pwrite(b"x", 0)),
             multi_conn=h.can_multi_conn(), cache=h.can_cache(), flush=h.can_flush(),
             extents=extents(h, 65536, 0))
    `,
    );
    expect(result).toEqual({
      read_only: true,
      write: "EPERM",
      multi_conn: false,
      cache: false,
      flush: false,
      extents: [[65536, 0]],
    });
  });

  test("example1 takes no parameters", async () => {
    const result = await captive(server, ["example1", "size=1M"], "true");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/this plugin does not need command line configuration/);
  });
});
