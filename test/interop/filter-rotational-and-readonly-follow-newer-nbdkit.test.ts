/**
 * Two filters nbdkit 1.32.5 lacks, as the newest nbdkit manuals describe them (so nbdkit is left
 * out here): --filter=rotational (nbdkit 1.40, man nbdkit-rotational-filter) sets whether the
 * export says it is rotational; --filter=readonly (nbdkit 1.38, man nbdkit-readonly-filter)
 * makes the export read-only, or with `readonly-file=` refuses writes with EPERM while that
 * file exists, switching at run time.
 */

import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, scratchDir } from "../helpers/captive.ts";
import {
  ALL_FLAGS,
  filterHelp,
  READ_ONLY_FLAGS,
  refusedStart,
  withFlags,
} from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name !== "nbdkit");

describe.each(ours)("rotational and readonly filters ($name)", (server) => {
  test("rotational=true (the default) or false sets the flag, whatever the plugin says", async (context) => {
    requireClients(context, "nbdsh");
    const rotational = (args: string[]) =>
      libnbd(server, args, "report(rotational=connect().is_rotational())");
    expect(await rotational(["memory", "1M"])).toEqual({ rotational: false });
    expect(await rotational(["--filter=rotational", "memory", "1M"])).toEqual({ rotational: true });
    expect(await rotational(["--filter=rotational", "memory", "1M", "rotational=false"]))
      .toEqual({ rotational: false });
    // The outer filter takes rotational=false and overrides the inner one's true.
    expect(
      await rotational([
        "--filter=rotational",
        "--filter=rotational",
        "memory",
        "1M",
        "rotational=false",
      ]),
    ).toEqual({ rotational: false });
    expect(await refusedStart(server, ["--filter=rotational", "null", "rotational=maybe"]))
      .toContain("could not decipher boolean (maybe)");
    expect(await filterHelp(server, "rotational")).toBe(
      "rotational=true|false   Set the rotational property (default: true)",
    );
  });

  test("without readonly-file= the export is read-only, as with -r", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=readonly", "memory", "1M"],
      withFlags("report(flags=flags(connect()))"),
    );
    expect(result.flags).toEqual(READ_ONLY_FLAGS);
  });

  test("with readonly-file= writes fail with EPERM while the file exists", async (context) => {
    requireClients(context, "nbdsh");
    const dir = scratchDir();
    const file = join(dir, "ro");
    const flag = JSON.stringify(file);
    const result = await libnbd(
      server,
      ["--filter=readonly", "memory", "1M", `readonly-file=${file}`],
      withFlags(`
      h = connect()
      def attempts():
          return [outcome(lambda: h.pwrite(b"a" * 512, 0)), outcome(lambda: h.trim(512, 0)),
                  outcome(lambda: h.zero(512, 0)), outcome(lambda: h.flush()),
                  outcome(lambda: h.pread(512, 0))]
      writable = attempts()
      open(${flag}, "w").close()
      protected = attempts()
      os.remove(${flag})
      report(flags=flags(h), writable=writable, protected=protected, again=attempts())
    `),
    );
    expect(result).toEqual({
      flags: ALL_FLAGS,
      writable: ["ok", "ok", "ok", "ok", "ok"],
      protected: ["EPERM", "EPERM", "EPERM", "ok", "ok"],
      again: ["ok", "ok", "ok", "ok", "ok"],
    });
    expect(existsSync(file)).toBe(false);
  });

  test("a refused write is logged; readonly-file= twice is refused; --help", async (context) => {
    requireClients(context, "nbdsh");
    const dir = scratchDir();
    const file = join(dir, "ro");
    writeFileSync(file, "");
    const run = await captive(
      server,
      ["--filter=readonly", "memory", "1M", `readonly-file=${file}`],
      `nbdsh -u "$uri" -c 'h.pwrite(b"a", 0)' || echo refused`,
    );
    rmSync(file);
    expect(run.stdout).toContain("refused");
    expect(run.stderr).toContain("pwrite operation rejected by readonly filter");
    expect(
      await refusedStart(server, [
        "--filter=readonly",
        "null",
        "readonly-file=/a",
        "readonly-file=/b",
      ]),
    ).toContain("readonly-file parameter appears multiple times");
    expect(await filterHelp(server, "readonly")).toBe(
      "readonly-file=FILENAME         If FILENAME present, set to readonly",
    );
  });
});
