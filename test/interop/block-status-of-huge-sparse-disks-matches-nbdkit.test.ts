/**
 * Block status of huge sparse memory and data disks (up to 2^63-1 bytes; nbdinfo --map would
 * take hours on them, for nbdkit too) gives nbdkit's descriptors exactly: 32 KiB pages up to
 * the last, partial one, offsets exact past 2^53, and a request starting inside a page judged
 * from its offset to the page's end, as nbdkit's sparse_array_extents does. The expected
 * descriptors are nbdkit 1.32.5's, which runs every case too.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const LARGEST = String(2n ** 63n - 1n);

describe.each(servers)("block status of huge sparse disks matches nbdkit ($name)", (server) => {
  test("a 2^63-1 byte memory disk after writes at its end and across 2^53", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", LARGEST],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      N = h.get_size()
      h.pwrite(b"\\1" * 512, N - 512)
      h.pwrite(bytes(100), N - 40000)
      h.pwrite(b"\\2", 2**53 + 5)
      report(
          end=extents(h, 131072, N - 131072),
          last=extents(h, 100, N - 100),
          inside_zero_page=extents(h, 1000, N - 40000 + 50),
          across_2_53=extents(h, 2**31, 2**53 - 2**20),
          at_2_53=extents(h, 4096, 2**53),
      )
    `,
    );
    expect(result).toEqual({
      end: [[65537, 3], [32768, 2], [32767, 0]],
      last: [[100, 0]],
      inside_zero_page: [[7183, 2]],
      across_2_53: [[1048576, 3], [32768, 0], [2146402304, 3]],
      at_2_53: [[32768, 0]],
    });
  });

  test("a data disk reaching nearly 2^63 bytes", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["data", "1 @9223372036854740000 0 @+5 2 @9223372036854775000 0"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      N = h.get_size()
      report(
          size=str(N),
          end=extents(h, 200000, N - 200000),
          inside_a_hole=extents(h, 1000, 9223372036854700010),
          start=extents(h, 100, 0),
      )
    `,
    );
    expect(result).toEqual({
      size: "9223372036854775001",
      end: [[135271, 3], [32768, 0], [31961, 2]],
      inside_a_hole: [[10262, 3]],
      start: [[32768, 0]],
    });
  });
});
