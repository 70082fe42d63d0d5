/**
 * --filter=gzip (man nbdkit-gzip-filter) serves the expansion of a file made by gzip(1),
 * read-only, to every connection: the same bytes, size, flags and map (extents are not
 * offered: all data) as nbdkit, the tar filter stacked on it for a .tar.gz, and nbdkit's
 * refusal of a file that is not gzip. Files of several members are left out: what they expand
 * to depends on the runtime (README, Filters), and nbdkit serves their first member alone.
 */

import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { sourceBytes, sourceFile, tool } from "../helpers/compressed-disks.ts";
import { mapOf, PATTERN_FLAGS, refusedExport, withFlags } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const SIZE = 300_000;

/** The source image and its .gz, as gzip makes it (with the file name in the header). */
function gzImage() {
  const { dir, path } = sourceFile("disk.img", sourceBytes(SIZE));
  tool(dir, "gzip", ["-k", path]);
  return { dir, source: path, gz: `${path}.gz` };
}

describe.each(servers)("gzip filter ($name)", (server) => {
  test("the expansion reads back as the source, on two connections at once", async (context) => {
    requireClients(context, "nbdsh", "gzip");
    const { source, gz } = gzImage();
    const result = await libnbd(
      server,
      ["--filter=gzip", "file", gz],
      withFlags(`
      a = connect()
      b = connect()
      source = open(${JSON.stringify(source)}, "rb").read()
      report(size=a.get_size(), same=a.pread(${SIZE}, 0) == source,
             middle=b.pread(1000, 123456) == source[123456:124456], flags=flags(a),
             write=outcome(lambda: a.pwrite(b"x", 0)))
    `),
    );
    expect(result).toEqual({
      size: SIZE,
      same: true,
      middle: true,
      flags: { ...PATTERN_FLAGS, flush: true }, // the file plugin can flush, and says so
      write: "EPERM",
    });
  });

  test("the map is one data extent: extents are not offered", async (context) => {
    requireClients(context, "nbdinfo", "gzip");
    expect(await mapOf(server, ["--filter=gzip", "file", gzImage().gz])).toEqual([
      { offset: 0, length: SIZE, type: 0, description: "data" },
    ]);
  });

  test("with the tar filter on top, a member of a .tar.gz is served", async (context) => {
    requireClients(context, "nbdsh", "gzip", "tar");
    const { dir, source } = gzImage();
    tool(dir, "tar", ["-czf", "disk.tar.gz", "disk.img"]);
    const result = await libnbd(
      server,
      ["--filter=tar", "--filter=gzip", "file", join(dir, "disk.tar.gz"), "tar-entry=disk.img"],
      `
      h = connect()
      report(size=h.get_size(), same=h.pread(${SIZE}, 0) == open(${
        JSON.stringify(source)
      }, "rb").read())
    `,
    );
    expect(result).toEqual({ size: SIZE, same: true });
  });

  test("a file that is not gzip refuses the export, as inflate says", async (context) => {
    requireClients(context, "nbdinfo", "gzip");
    expect(await refusedExport(server, ["--filter=gzip", "file", gzImage().source])).toContain(
      "gzip: inflate: ",
    );
  });
});
