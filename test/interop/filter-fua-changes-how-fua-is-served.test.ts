/**
 * --filter=fua (man nbdkit-fua-filter): `fuamode=` offers FUA or not, and serves it with a
 * flush (emulate), passes it on (native, pass), forces it on every write (force: flushes are
 * dropped) or drops it and every flush (discard). The plugin (a logging plugin, the same on
 * either server) is asked the same calls as nbdkit asks, the export offers the same flags, and
 * a plugin that cannot flush or FUA refuses the modes that need it, with nbdkit's words.
 *
 * `fuamode=none`, which the manual documents as the default, is refused by nbdkit 1.32.5 ("unknown
 * fuamode 'none'", a bug in its parameter parsing); nbdts takes it, tested apart from nbdkit.
 */

import { describe, expect, test } from "vitest";
import {
  ALL_FLAGS,
  filterHelp,
  refusedExport,
  refusedStart,
  withFlags,
} from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { logPlugin } from "../helpers/log-plugin.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** A FUA write, trim and zero, a flush, and a plain write, each with its outcome. */
const REQUESTS = withFlags(`
h = connect()
report(flags=flags(h), outcomes=[
    outcome(lambda: h.pwrite(b"x" * 512, 0, nbd.CMD_FLAG_FUA)),
    outcome(lambda: h.trim(512, 4096, nbd.CMD_FLAG_FUA)),
    outcome(lambda: h.zero(512, 8192, nbd.CMD_FLAG_FUA)),
    outcome(lambda: h.flush()),
    outcome(lambda: h.pwrite(b"y" * 512, 512))])
`);

const OK = ["ok", "ok", "ok", "ok", "ok"];

/** What the plugin is asked when FUA is passed on as the client sent it. */
const PASSED_ON = [
  "pwrite 512 0 fua",
  "trim 512 4096 fua",
  "zero 512 8192 fua,may_trim",
  "flush",
  "pwrite 512 512",
];
const FLAGS = { ...ALL_FLAGS, multi_conn: false, fast_zero: false };

describe.each(servers)("fua filter ($name)", (server) => {
  test.for([
    {
      params: [],
      fua: false,
      outcomes: ["EINVAL", "EINVAL", "EINVAL", "ok", "ok"],
      calls: ["flush", "pwrite 512 512"],
    },
    {
      params: ["fuamode=emulate"],
      fua: true,
      outcomes: OK,
      calls: [
        "pwrite 512 0",
        "flush",
        "trim 512 4096",
        "flush",
        "zero 512 8192 may_trim",
        "flush",
        "flush",
        "pwrite 512 512",
      ],
    },
    {
      params: ["fuamode=native"],
      fua: true,
      outcomes: OK,
      calls: PASSED_ON,
    },
    {
      params: ["fuamode=pass"],
      fua: true,
      outcomes: OK,
      calls: PASSED_ON,
    },
    {
      params: ["fuamode=force"],
      fua: true,
      outcomes: OK,
      calls: [
        "pwrite 512 0 fua",
        "trim 512 4096 fua",
        "zero 512 8192 fua,may_trim",
        "pwrite 512 512 fua",
      ],
    },
    {
      params: ["fuamode=discard"],
      fua: true,
      outcomes: OK,
      calls: ["pwrite 512 0", "trim 512 4096", "zero 512 8192 may_trim", "pwrite 512 512"],
    },
  ])("$params: FUA $fua, the plugin asked $calls", async (
    { params, fua, outcomes, calls },
    context,
  ) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server);
    const result = await libnbd(server, ["--filter=fua", ...plugin.argv, ...params], REQUESTS);
    expect(result).toEqual({ flags: { ...FLAGS, fua }, outcomes });
    expect(plugin.lines()).toEqual(calls);
  });

  test("force and discard offer flush over a plugin without it; the modes that need it refuse", async (context) => {
    requireClients(context, "nbdsh", "nbdinfo");
    const report = withFlags("report(flags=flags(connect()))");
    for (const mode of ["force", "discard"]) {
      const result = await libnbd(
        server,
        ["--filter=fua", "memory", "1M", `fuamode=${mode}`],
        report,
      );
      expect(result.flags).toMatchObject({ flush: true, fua: true });
    }
    const full = ["--filter=fua", "full", "1M"];
    expect(await refusedExport(server, [...full, "fuamode=emulate"])).toContain(
      "fuamode 'emulate' requires plugin flush support",
    );
    for (const mode of ["native", "force"]) {
      expect(await refusedExport(server, [...full, `fuamode=${mode}`])).toContain(
        "requires plugin fua support",
      );
    }
    // Read-only, nothing is asked of the plugin's writes.
    const readOnly = await libnbd(server, [...full, "fuamode=native"], report, {
      serverOptions: ["-r"],
    });
    expect(readOnly.flags).toMatchObject({ read_only: true, fua: false });
  });

  test("a bad mode is refused at start-up, and --help shows nbdkit's parameters", async () => {
    expect(await refusedStart(server, ["--filter=fua", "null", "fuamode=sometimes"])).toContain(
      "unknown fuamode 'sometimes'",
    );
    expect(await filterHelp(server, "fua")).toBe(
      "fuamode=<MODE>       One of 'none' (default), 'emulate', 'native',\n" +
        "                       'force', 'pass'.",
    );
  });
});

describe.each(servers.filter((server) => server.name !== "nbdkit"))(
  "fua filter, fuamode=none ($name; nbdkit 1.32.5 refuses it)",
  (server) => {
    test("fuamode=none is taken and offers no FUA, as the manual says", async (context) => {
      requireClients(context, "nbdsh");
      const result = await libnbd(
        server,
        ["--filter=fua", "memory", "1M", "fuamode=none"],
        withFlags("report(flags=flags(connect()))"),
      );
      expect(result.flags).toMatchObject({ flush: true, fua: false });
    });
  },
);
