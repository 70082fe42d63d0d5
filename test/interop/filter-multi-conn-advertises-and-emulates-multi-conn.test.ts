/**
 * --filter=multi-conn (man nbdkit-multi-conn-filter): what clients are told of multi-conn in
 * each `multi-conn-mode=`, and, under `emulate` (or `auto` over a plugin that cannot promise
 * it), the promise kept for a plugin that is not consistent across connections: a flush on any
 * connection writes back every connection's changes and drops every stale copy. The plugin is
 * test/fixtures/conn-cache-plugin.* (each connection works on its own copy of the disk until it
 * flushes); the hardening issue's consistency scenario runs through every mode over the memory
 * plugin, and through emulate over that inconsistent one.
 */

import { describe, expect, test } from "vitest";
import { connCachePlugin } from "../helpers/conn-cache-plugin.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { type ConsistencyReport, consistencyScript } from "../helpers/multi-conn-consistency.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const MODES = ["auto", "emulate", "plugin", "unsafe", "disable"] as const;

/**
 * Python: connection C copies the disk (a read), A writes, B flushes, then C reads again;
 * reports what C read and what each connection was told. `fua` writes with FUA instead of
 * B's flush; `exports` names the export of A, B and C.
 */
function threeConnections(fua = false, exports = ["", "", ""]): string {
  const [a, b, c] = exports.map((name) => JSON.stringify(name));
  return `
    A, B, C = connect(export=${a}), connect(export=${b}), connect(export=${c})
    C.pread(8, 0)
    A.pwrite(b"written!", 0${fua ? ", nbd.CMD_FLAG_FUA" : ""})
    ${fua ? "" : "B.flush()"}
    seen = bytes(C.pread(8, 0)).decode(errors="replace")
    report(seen="written!" if seen == "written!" else "stale", multi_conn=A.can_multi_conn(),
           fua=A.can_fua())
  `;
}

describe.each(servers)("multi-conn filter ($name)", (server) => {
  test("each mode tells clients of multi-conn as nbdkit does, over a plugin without it and one with it", async (context) => {
    requireClients(context, "nbdsh");
    const told = async (plugin: readonly string[], mode: string) =>
      await libnbd(
        server,
        ["--filter=multi-conn", ...plugin, `multi-conn-mode=${mode}`],
        "h = connect(); report(multi_conn=h.can_multi_conn())",
      );
    const without = connCachePlugin(server).argv;
    const results: Record<string, unknown> = {};
    for (const mode of MODES) {
      results[`conncache ${mode}`] = (await told(without, mode)).multi_conn;
      results[`memory ${mode}`] = (await told(["memory", "1M"], mode)).multi_conn;
    }
    expect(results).toEqual({
      "conncache auto": true,
      "memory auto": true,
      "conncache emulate": true,
      "memory emulate": true,
      "conncache plugin": false,
      "memory plugin": true,
      "conncache unsafe": true,
      "memory unsafe": true,
      "conncache disable": false,
      "memory disable": false,
    });
  });

  test("under emulate a flush on one connection lets every connection see every write", async (context) => {
    requireClients(context, "nbdsh");
    const seen: Record<string, unknown> = {};
    for (const mode of MODES) {
      const plugin = connCachePlugin(server);
      seen[mode] = await libnbd(
        server,
        ["--filter=multi-conn", ...plugin.argv, `multi-conn-mode=${mode}`],
        threeConnections(),
      );
    }
    // Only emulate (which auto comes to here) keeps the promise; unsafe makes it and breaks it.
    expect(seen).toEqual({
      auto: { seen: "written!", multi_conn: true, fua: true },
      emulate: { seen: "written!", multi_conn: true, fua: true },
      plugin: { seen: "stale", multi_conn: false, fua: true },
      unsafe: { seen: "stale", multi_conn: true, fua: true },
      disable: { seen: "stale", multi_conn: false, fua: true },
    });
  });

  test("under emulate a FUA write is flushed on every connection; each tracking level keeps the promise", async (context) => {
    requireClients(context, "nbdsh");
    const seen: Record<string, unknown> = {};
    for (const track of ["conn", "fast", "off"]) {
      for (const fua of [false, true]) {
        const plugin = connCachePlugin(server);
        const result = await libnbd(
          server,
          ["--filter=multi-conn", ...plugin.argv, `multi-conn-track-dirty=${track}`],
          threeConnections(fua),
        );
        seen[`${track}${fua ? " fua" : ""}`] = result.seen;
      }
    }
    expect(Object.values(seen)).toEqual(Array(6).fill("written!"));
  });

  test("multi-conn-exportname=true: a flush reaches only the connections of its own export", async (context) => {
    requireClients(context, "nbdsh");
    const run = async (flushOn: string) => {
      const plugin = connCachePlugin(server);
      return (await libnbd(
        server,
        ["--filter=multi-conn", ...plugin.argv, "multi-conn-exportname=true"],
        threeConnections(false, ["a", flushOn, "a"]),
      )).seen;
    };
    expect(await run("b")).toBe("stale");
    expect(await run("a")).toBe("written!");
  });

  test("the consistency scenario holds through every mode over the memory plugin", async (context) => {
    requireClients(context, "nbdsh");
    const [connections, rounds, slot] = [16, 6, 4096 + 4099];
    for (const mode of MODES) {
      const result = await libnbd<ConsistencyReport>(
        server,
        ["--filter=multi-conn", "memory", String(connections * slot), `multi-conn-mode=${mode}`],
        consistencyScript(connections, rounds, slot),
      );
      expect({ mode, stale: result.stale, failures: result.failures }).toEqual({
        mode,
        stale: [],
        failures: [],
      });
      expect(result.checks).toBe(connections * rounds);
      expect(result.final_bad_slots).toEqual([]);
      expect(result.multi_conn).toEqual(Array(connections).fill(mode !== "disable"));
    }
  });

  test("the consistency scenario holds under emulate over a plugin that is not consistent", async (context) => {
    requireClients(context, "nbdsh");
    const [connections, rounds, slot] = [8, 3, 512 + 7];
    const plugin = connCachePlugin(server, connections * slot);
    const result = await libnbd<ConsistencyReport>(
      server,
      ["--filter=multi-conn", ...plugin.argv, "multi-conn-mode=emulate"],
      consistencyScript(connections, rounds, slot),
    );
    expect(result.multi_conn).toEqual(Array(connections).fill(true));
    expect(result.failures).toEqual([]);
    expect(result.stale).toEqual([]);
    expect(result.checks).toBe(connections * rounds);
    expect(result.final_bad_slots).toEqual([]);
  });

  test("bad settings are refused, and --help shows nbdkit's parameters", async () => {
    const refused = (param: string) => refusedStart(server, ["--filter=multi-conn", "null", param]);
    expect(await refused("multi-conn-mode=sometimes")).toContain(
      "unknown multi-conn mode 'sometimes'",
    );
    expect(await refused("multi-conn-track-dirty=x")).toContain(
      "unknown multi-conn track-dirty setting 'x'",
    );
    expect(await refused("multi-conn-exportname=x")).toContain("could not decipher boolean (x)");
    expect(await filterHelp(server, "multi-conn")).toBe(
      "multi-conn-mode=<MODE>          'auto' (default), 'emulate', 'plugin',\n" +
        "                                'disable', or 'unsafe'.\n" +
        "multi-conn-track-dirty=<LEVEL>  'conn' (default), 'fast', or 'off'.\n" +
        "multi-conn-exportname=<BOOL>    true to limit emulation by export name.",
    );
  });
});
