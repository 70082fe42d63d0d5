/**
 * --filter=ddrescue (man nbdkit-ddrescue-filter): serves a disk image as its GNU ddrescue
 * mapfile says: a read wholly within one recovered (`+`) range is served; one touching a bad
 * (`-`), untried (`?`) or unfinished (`/`, `*`) range fails with EIO, and so, as in nbdkit, does
 * one across two recovered ranges that merely touch. Read-only, without cache.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { scratchDir } from "../helpers/captive.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const MAPFILE = `# Mapfile. Created by GNU ddrescue version 1.27
# Command line: ddrescue /dev/sdb disk.img disk.map
# current_pos  current_status  current_pass
0x00012000     +               1
#      pos        size  status
0x00000000  0x00004000  +
0x00004000  0x00001000  -
0x00005000  0x00003000  +
0x00008000  0x00002000  /
0x0000A000  0x00006000  ?
0x00010000  0x00001000  +
0x00011000  0x00001000  +
`;

describe.each(servers)("ddrescue filter ($name)", (server) => {
  test("reads within one recovered range are served; the rest fail with EIO", async (context) => {
    requireClients(context, "nbdsh");
    const dir = scratchDir();
    const disk = join(dir, "disk.img");
    writeFileSync(disk, Uint8Array.from({ length: 0x20000 }, (_, i) => (i * 7) & 0xff));
    const map = join(dir, "disk.map");
    writeFileSync(map, MAPFILE);
    const result = await libnbd(
      server,
      ["--filter=ddrescue", "file", disk, `ddrescue-mapfile=${map}`],
      `
      h = connect()
      def read(offset, count):
          try:
              data = bytes(h.pread(count, offset))
              return "ok" if data == bytes((i * 7) & 0xff for i in range(offset, offset + count)) else "wrong"
          except nbd.Error as e:
              return e.errno
      report(
          flags=[h.is_read_only(), h.can_cache()],
          reads={
              "first": read(0, 4096),
              "bad": read(0x4000, 512),
              "recovered": read(0x5000, 0x3000),
              "into bad": read(0x3000, 0x2000),
              "unfinished": read(0x8000, 512),
              "untried": read(0xA000, 512),
              "across touching ranges": read(0x10800, 0x1000),
              "second of them": read(0x11000, 0x1000),
              "past the map": read(0x12000, 512),
          },
      )
    `,
    );
    expect(result).toEqual({
      flags: [true, false],
      reads: {
        first: "ok",
        bad: "EIO",
        recovered: "ok",
        "into bad": "EIO",
        unfinished: "EIO",
        untried: "EIO",
        "across touching ranges": "EIO",
        "second of them": "ok",
        "past the map": "EIO",
      },
    });
  });

  test("a missing mapfile or a negative offset is refused; --help shows nbdkit's parameter", async () => {
    const dir = scratchDir();
    const negative = join(dir, "negative.map");
    writeFileSync(negative, "0 +\n-0x200 0x200 +\n");
    expect(
      await refusedStart(server, ["--filter=ddrescue", "null", `ddrescue-mapfile=${dir}/none`]),
    ).toContain(`${dir}/none: ddrescue: fopen: No such file or directory`);
    expect(
      await refusedStart(server, ["--filter=ddrescue", "null", `ddrescue-mapfile=${negative}`]),
    ).toContain("block offset must not be negative");
    expect(await filterHelp(server, "ddrescue")).toBe(
      "ddrescue-mapfile=...     Specify ddrescue mapfile to use",
    );
  });
});
