/**
 * --filter=cacheextents (man nbdkit-cacheextents-filter) remembers the last block status
 * answer: a request starting inside it is answered without asking the plugin, the plugin is
 * asked without REQ_ONE so that it says as much as it can, and a write forgets the answer.
 * What the plugin is asked comes from the call-log plugin (nbdkit's sh plugin for nbdkit); the
 * maps clients print are the plugin's. Same as nbdkit.
 */

import { describe, expect, test } from "vitest";
import { callLogPlugin, numberedBlocks } from "../helpers/call-log-plugin.ts";
import { filterHelp, mapOf } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const DISK = ["data", "@32768 (1)*32768 @131072 (2)*65536", "size=1M"];

describe.each(servers)("cacheextents filter ($name)", (server) => {
  test("a request inside the last answer is not asked again; REQ_ONE is dropped; a write forgets", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = callLogPlugin(server, numberedBlocks(1024 * 1024));
    const result = await libnbd(
      server,
      ["--filter=cacheextents", ...plugin.argv],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      first = extents(h, 65536, 0, nbd.CMD_FLAG_REQ_ONE)
      inside = extents(h, 4096, 8192)
      h.pwrite(b"x", 0)
      after_write = extents(h, 4096, 8192)
      report(first=first, inside=inside, after_write=after_write)
    `,
    );
    expect(result).toEqual({
      first: [[65536, 0]],
      inside: [[57344, 0]], // the rest of the answer remembered
      after_write: [[4096, 0]],
    });
    expect(plugin.calls().filter((call) => call.startsWith("extents"))).toEqual([
      "extents 65536 0",
      "extents 4096 8192",
    ]);
  });

  test("nbdinfo --map prints the plugin's map", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await mapOf(server, ["--filter=cacheextents", ...DISK])).toEqual(
      await mapOf(server, DISK),
    );
  });

  test("--help shows no parameters, as nbdkit", async () => {
    expect(await filterHelp(server, "cacheextents")).toBe("");
  });
});
