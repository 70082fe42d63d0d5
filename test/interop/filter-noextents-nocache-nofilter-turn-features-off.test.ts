/**
 * Three filters that turn a feature off or do nothing, as nbdkit's: --filter=noextents (man
 * nbdkit-noextents-filter) reports the whole disk as data, so a copy reads every byte;
 * --filter=nocache (man nbdkit-nocache-filter) takes NBD_CMD_CACHE away (`cachemode=none`),
 * serves it by reading (`emulate`) or by doing nothing (`nop`); --filter=nofilter (man
 * nbdkit-nofilter-filter) passes everything through. The plugin (a logging plugin, the same on
 * either server) is asked the same calls as nbdkit asks.
 */

import { describe, expect, test } from "vitest";
import { filterHelp, mapOf, refusedStart, withFlags } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { logPlugin } from "../helpers/log-plugin.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** 1 MiB: 32 KiB of 1s at 32 KiB, holes elsewhere (32 KiB pages: the same map on both). */
const DISK = ["data", "@32768 (1)*32768", "size=1M"];

describe.each(servers)("noextents, nocache and nofilter filters ($name)", (server) => {
  test("noextents: the map is all data; nofilter: the plugin's own map", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await mapOf(server, ["--filter=noextents", ...DISK])).toEqual([
      { offset: 0, length: 1048576, type: 0, description: "data" },
    ]);
    expect(await mapOf(server, ["--filter=nofilter", ...DISK])).toEqual([
      { offset: 0, length: 32768, type: 3, description: "hole,zero" },
      { offset: 32768, length: 32768, type: 0, description: "data" },
      { offset: 65536, length: 983040, type: 3, description: "hole,zero" },
    ]);
  });

  test.for([
    { params: [], cache: false, outcome: "EINVAL", calls: [] },
    { params: ["cachemode=none"], cache: false, outcome: "EINVAL", calls: [] },
    { params: ["cachemode=emulate"], cache: true, outcome: "ok", calls: ["pread 4096 8192"] },
    { params: ["cachemode=nop"], cache: true, outcome: "ok", calls: [] },
    { params: ["cachemode=no-op"], cache: true, outcome: "ok", calls: [] },
  ])("nocache $params: cache $cache, the plugin asked $calls", async (
    { params, cache, outcome, calls },
    context,
  ) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server);
    const result = await libnbd(
      server,
      ["--filter=nocache", ...plugin.argv, ...params],
      withFlags(`
      h = connect()
      report(cache=flags(h)["cache"], outcome=outcome(lambda: h.cache(4096, 8192)))
    `),
    );
    expect(result).toEqual({ cache, outcome });
    expect(plugin.lines()).toEqual(calls);
  });

  test("nofilter passes every request through", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server);
    await libnbd(
      server,
      ["--filter=nofilter", ...plugin.argv],
      `
      h = connect()
      h.pwrite(b"a" * 512, 0, nbd.CMD_FLAG_FUA)
      h.pread(512, 0)
      h.trim(512, 4096)
      h.zero(512, 8192)
      h.cache(512, 0)
      h.flush()
      report(done=True)
    `,
    );
    expect(plugin.lines()).toEqual([
      "pwrite 512 0 fua",
      "pread 512 0",
      "trim 512 4096",
      "zero 512 8192 may_trim",
      "cache 512 0",
      "flush",
    ]);
  });

  test("a bad cache mode is refused, and --help shows nbdkit's parameters", async () => {
    expect(await refusedStart(server, ["--filter=nocache", "null", "cachemode=x"])).toContain(
      "unknown cachemode 'x'",
    );
    expect(await filterHelp(server, "nocache")).toBe(
      "cachemode=<MODE>     Either 'none' (default), 'emulate', or 'nop'.",
    );
    expect(await filterHelp(server, "noextents")).toBe("");
    expect(await filterHelp(server, "nofilter")).toBe("");
  });
});
