/**
 * --filter=nozero (man nbdkit-nozero-filter): `zeromode=` takes WRITE_ZEROES off the export
 * (none, the default), serves it by writing zeroes (emulate), passes it on without letting it
 * punch holes (notrim) or untouched (plugin); `fastzeromode=` says what a fast zero does. The
 * plugin (a logging plugin, the same on either server) is asked the same calls as nbdkit asks,
 * the export offers the same flags, and bad modes are refused with nbdkit's words.
 */

import { describe, expect, test } from "vitest";
import { ALL_FLAGS, filterHelp, refusedStart, withFlags } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { logPlugin } from "../helpers/log-plugin.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** A zero, a fast zero and a zero that may not punch holes, each with its outcome. */
const ZEROES = withFlags(`
h = connect()
report(flags=flags(h), outcomes=[
    outcome(lambda: h.zero(4096, 0)),
    outcome(lambda: h.zero(4096, 8192, nbd.CMD_FLAG_FAST_ZERO)),
    outcome(lambda: h.zero(4096, 16384, nbd.CMD_FLAG_NO_HOLE))])
`);

describe.each(servers)("nozero filter ($name)", (server) => {
  test.for([
    {
      params: [],
      zero: false,
      fast_zero: false,
      outcomes: ["EINVAL", "EINVAL", "EINVAL"],
      calls: [],
    },
    {
      params: ["zeromode=emulate"],
      zero: true,
      fast_zero: true,
      outcomes: ["ok", "ENOTSUP", "ok"],
      calls: ["pwrite 4096 0", "pwrite 4096 16384"],
    },
    {
      params: ["zeromode=notrim"],
      zero: true,
      fast_zero: false,
      outcomes: ["ok", "EINVAL", "ok"],
      calls: ["zero 4096 0", "zero 4096 16384"],
    },
    {
      params: ["zeromode=plugin"],
      zero: true,
      fast_zero: false,
      outcomes: ["ok", "EINVAL", "ok"],
      calls: ["zero 4096 0 may_trim", "zero 4096 16384"],
    },
    {
      params: ["zeromode=plugin", "fastzeromode=slow"],
      zero: true,
      fast_zero: true,
      outcomes: ["ok", "ENOTSUP", "ok"],
      calls: ["zero 4096 0 may_trim", "zero 4096 16384"],
    },
    {
      params: ["zeromode=notrim", "fastzeromode=ignore"],
      zero: true,
      fast_zero: true,
      outcomes: ["ok", "ok", "ok"],
      calls: ["zero 4096 0", "zero 4096 8192", "zero 4096 16384"],
    },
    {
      params: ["zeromode=emulate", "fastzeromode=none"],
      zero: true,
      fast_zero: false,
      outcomes: ["ok", "EINVAL", "ok"],
      calls: ["pwrite 4096 0", "pwrite 4096 16384"],
    },
  ])("$params: zero $zero, fast zero $fast_zero, the plugin asked $calls", async (
    { params, zero, fast_zero, outcomes, calls },
    context,
  ) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server);
    const result = await libnbd(server, ["--filter=nozero", ...plugin.argv, ...params], ZEROES);
    expect(result).toEqual({
      flags: { ...ALL_FLAGS, multi_conn: false, zero, fast_zero },
      outcomes,
    });
    expect(plugin.lines().filter((line) => /^(zero|pwrite)/.test(line))).toEqual(calls);
  });

  test("a fast zero the layer below can do is passed on in plugin mode", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=nozero", "memory", "1M", "zeromode=plugin"],
      withFlags(`
      h = connect()
      report(flags=flags(h), fast=outcome(lambda: h.zero(4096, 0, nbd.CMD_FLAG_FAST_ZERO)))
    `),
    );
    expect(result).toEqual({ flags: ALL_FLAGS, fast: "ok" });
  });

  // (That plugin and notrim refuse a layer below without zeroes is a unit test: in nbdkit only
  // another nozero filter takes them away, and two copies of one filter share its modes there.)
  test("read-only, the filter changes nothing", async (context) => {
    requireClients(context, "nbdsh");
    const readOnly = await libnbd(
      server,
      ["--filter=nozero", "memory", "1M", "zeromode=plugin"],
      withFlags("report(flags=flags(connect()))"),
      { serverOptions: ["-r"] },
    );
    expect(readOnly.flags).toMatchObject({ read_only: true, zero: false });
  });

  test("bad modes are refused at start-up, and --help shows nbdkit's parameters", async () => {
    expect(await refusedStart(server, ["--filter=nozero", "null", "zeromode=fast"])).toContain(
      "unknown zeromode 'fast'",
    );
    expect(await refusedStart(server, ["--filter=nozero", "null", "fastzeromode=x"])).toContain(
      "unknown fastzeromode 'x'",
    );
    expect(await filterHelp(server, "nozero")).toBe(
      "zeromode=<MODE>      One of 'none' (default), 'emulate', 'notrim', 'plugin'.\n" +
        "fastzeromode=<MODE>  One of 'default', 'none', 'slow', 'ignore'.",
    );
  });
});
