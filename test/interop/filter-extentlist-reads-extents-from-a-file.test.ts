/**
 * --filter=extentlist (man nbdkit-extentlist-filter) answers block status from a file of
 * `offset length [type]` lines, whatever the plugin could say: gaps are holes, types are a
 * number or the words hole and zero, the lines may come in any order, and bad files stop the
 * server before it serves, with nbdkit's messages. Same maps and messages as nbdkit.
 * (`extentlist-size=` is no nbdkit parameter: like any key the filter does not take, it goes
 * to the plugin, which refuses it.)
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { scratchDir } from "../helpers/captive.ts";
import { filterHelp, mapOf, refusedStart } from "../helpers/filters.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** A file holding `text` in a private directory. */
function listFile(text: string): string {
  const path = join(scratchDir(), "extents");
  writeFileSync(path, text);
  return path;
}

describe.each(servers)("extentlist filter ($name)", (server) => {
  test("the map is the file's, over a plugin with no extents of its own", async (context) => {
    requireClients(context, "nbdinfo");
    const list = listFile("1M 512k hole\n0 64k\n  2M\t1M 2\n3M 4k 0\n3145728 0 junk\n");
    expect(await mapOf(server, ["--filter=extentlist", "pattern", "4M", `extentlist=${list}`]))
      .toEqual([
        { offset: 0, length: 65536, type: 0, description: "data" },
        { offset: 65536, length: 983040, type: 3, description: "hole,zero" },
        { offset: 1048576, length: 524288, type: 1, description: "hole" },
        { offset: 1572864, length: 524288, type: 3, description: "hole,zero" },
        { offset: 2097152, length: 1048576, type: 2, description: "zero" },
        { offset: 3145728, length: 4096, type: 0, description: "data" },
        { offset: 3149824, length: 1044480, type: 3, description: "hole,zero" },
      ]);
  });

  test("bad files and parameters stop the server with nbdkit's messages", async () => {
    const start = (...params: string[]) =>
      refusedStart(server, ["--filter=extentlist", "memory", "1M", ...params]);
    expect(await start()).toContain(
      "you must supply the extentlist parameter on the command line",
    );
    const good = listFile("0 1M\n");
    expect(await start(`extentlist=${good}`, `extentlist=${good}`)).toContain(
      "extentlist cannot appear twice",
    );
    const missing = join(scratchDir(), "missing");
    expect(await start(`extentlist=${missing}`)).toContain(
      `open: ${missing}: No such file or directory`,
    );
    const overlapping = listFile("0 1M\n512k 1M\n");
    expect(await start(`extentlist=${overlapping}`)).toContain(
      "extents in the extent list are overlapping",
    );
    const unparsable = listFile("0 1M\n  4096\n");
    expect(await start(`extentlist=${unparsable}`)).toContain(`${unparsable}: cannot parse   4096`);
    expect(await start(`extentlist=${listFile("x 1\n")}`)).toContain(
      "could not parse size string (x)",
    );
    expect(await start(`extentlist=${good}`, "extentlist-size=1M")).toContain(
      "unknown parameter 'extentlist-size'",
    );
  });

  test("--help shows no parameters, as nbdkit", async () => {
    expect(await filterHelp(server, "extentlist")).toBe("");
  });
});
