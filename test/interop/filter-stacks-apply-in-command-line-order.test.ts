/**
 * Filters stack as in nbdkit: `--filter=A --filter=B PLUGIN` puts A outermost, so B works on
 * the plugin and A on what B serves. Truncating under a partition lets a partition that runs
 * past the end of its image be served; offset and truncate in either order give nbdkit's sizes
 * and maps, which differ.
 */

import { truncateSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { scratchDir } from "../helpers/captive.ts";
import { mapOf, refusedExport } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { mbrDisk, SECTOR } from "../helpers/partitioned-disk.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const DISK = ["data", "@32768 (1)*32768 @131072 (2)*65536", "size=1M"];

describe.each(servers)("filter stacks ($name)", (server) => {
  test("--filter=partition --filter=truncate serves a partition cut off by the image's end", async (context) => {
    requireClients(context, "nbdsh", "nbdinfo", "sfdisk");
    const { image, partitions } = mbrDisk(scratchDir());
    const last = partitions.find((part) => part.number === 6)!;
    const cut = (last.start + last.size / 2) * SECTOR;
    truncateSync(image, cut); // half of partition 6 is gone
    expect(await refusedExport(server, ["--filter=partition", "file", image, "partition=6"]))
      .toContain("partition is outside the disk");
    const result = await libnbd(
      server,
      ["--filter=partition", "--filter=truncate", "file", image, "partition=6", "truncate=8M"],
      `
      h = connect()
      size = h.get_size()
      report(size=size, first=h.pread(1, 0)[0], last=h.pread(1, size - 1)[0])
    `,
    );
    expect(result).toEqual({ size: last.size * SECTOR, first: 6, last: 0 });
  });

  test("offset then truncate, and truncate then offset, serve what nbdkit serves", async (context) => {
    requireClients(context, "nbdinfo");
    const params = ["offset=4096", "truncate=2M"];
    /** The plugin's map moved down by offset=, then a hole of `tail` bytes. */
    const moved = (tail: number) => [
      { offset: 0, length: 28672, type: 3, description: "hole,zero" },
      { offset: 28672, length: 32768, type: 0, description: "data" },
      { offset: 61440, length: 65536, type: 3, description: "hole,zero" },
      { offset: 126976, length: 65536, type: 0, description: "data" },
      { offset: 192512, length: tail, type: 3, description: "hole,zero" },
    ];
    // Truncated first, then moved: 2M - 4K. Moved first, then truncated: 2M.
    expect(await mapOf(server, ["--filter=offset", "--filter=truncate", ...DISK, ...params]))
      .toEqual(moved(2 * 1024 * 1024 - 4096 - 192512));
    expect(await mapOf(server, ["--filter=truncate", "--filter=offset", ...DISK, ...params]))
      .toEqual(moved(2 * 1024 * 1024 - 192512));
  });
});
