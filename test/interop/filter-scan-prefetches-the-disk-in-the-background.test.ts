/**
 * --filter=scan (man nbdkit-scan-filter) asks the plugin to cache the whole disk in scan-size
 * pieces while a client is connected: the plugin (a logging plugin, the same on either server)
 * is asked the same cache calls as nbdkit asks, in the same order — skipping past what the
 * client read (scan-ahead), starting where the last connection got to (scan-clock), starting
 * over (scan-forever) — and none once the client has gone. The scan runs in the background:
 * the client waits for it in the log, never on time, and a held cache call holds up no read.
 * Where it cannot scan, it warns as nbdkit does and asks nothing.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { dedent, libnbd } from "../helpers/libnbd.ts";
import { logEnv, type LogPlugin, logPlugin, WATCH_LOG } from "../helpers/log-plugin.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

const MiB = 1024 * 1024;

/** Cache lines of 1 MiB pieces at these MiB offsets. */
const pieces = (...at: number[]) => at.map((m) => `cache ${MiB} ${m * MiB}`);

/** Runs `body` (Python, after WATCH_LOG) with the scan filter in front of `plugin`. */
function scanning(server: Server, plugin: LogPlugin, params: readonly string[], body: string) {
  return libnbd(
    server,
    ["--filter=scan", ...plugin.argv, "scan-size=1M", ...params],
    WATCH_LOG + dedent(body),
    { env: logEnv(plugin) },
  );
}

describe.each(servers)("scan filter ($name)", (server) => {
  test("a connection caches the disk from the start in scan-size pieces, the last one short", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server, { disk: new Uint8Array(4 * MiB + 4096) });
    await scanning(
      server,
      plugin,
      [],
      `
      h = connect()
      wait_for(lambda: ["4096", "4194304"] in logged("cache"), "the last piece")
      report(done=True)
    `,
    );
    expect(plugin.lines()).toEqual([...pieces(0, 1, 2, 3), "cache 4096 4194304"]);
  });

  test.for(
    [
      ["scan-ahead=true", [0, 7, 8, 9]],
      ["scan-ahead=false", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
    ] as const,
  )(
    "%s: a read skips the scan past it, and is served while a cache call is held",
    async ([ahead, expected], context) => {
      requireClients(context, "nbdsh");
      const plugin = logPlugin(server, { disk: new Uint8Array(10 * MiB), hold: true });
      const result = await scanning(
        server,
        plugin,
        [ahead],
        `
      h = connect()
      wait_for(lambda: logged("cache") == [["1048576", "0"]], "the first piece")
      h.pread(1048576, 6291456)  # while that cache call is held
      read = logged("pread")
      release()
      wait_for(lambda: ["1048576", "9437184"] in logged("cache"), "the last piece")
      report(read=read)
    `,
      );
      expect(result).toEqual({ read: [["1048576", "6291456"]] });
      expect(plugin.calls("cache")).toEqual(pieces(...expected));
    },
  );

  test.for(
    [
      ["scan-clock=true", [0, 1, 2, 3, 3]],
      ["scan-clock=false", [0, 1, 2, 3, 0, 1, 2, 3]],
    ] as const,
  )("%s: where the next connection starts", async ([clock, expected], context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server, { disk: new Uint8Array(4 * MiB) });
    await scanning(
      server,
      plugin,
      [clock],
      `
      last = ["1048576", "3145728"]
      h = connect()
      wait_for(lambda: logged("cache").count(last) == 1, "the first scan")
      h.shutdown()
      h = connect()
      wait_for(lambda: logged("cache").count(last) == 2, "the second scan")
      report(done=True)
    `,
    );
    expect(plugin.calls("cache")).toEqual(pieces(...expected));
  });

  test("scan-forever starts over at the end, and the scan stops when the client leaves", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server, { disk: new Uint8Array(4 * MiB) });
    const result = await scanning(
      server,
      plugin,
      ["scan-forever=true"],
      `
      h = connect()
      wait_for(lambda: logged("cache").count(["1048576", "0"]) >= 2, "the second round")
      h.shutdown()
      del h
      time.sleep(0.5)  # what was running when the client left may still finish
      after_close = len(logged("cache"))
      time.sleep(0.5)
      report(stopped=len(logged("cache")) == after_close)
    `,
    );
    expect(result).toEqual({ stopped: true });
    expect(plugin.calls("cache").slice(0, 5)).toEqual(pieces(0, 1, 2, 3, 0));
  });

  test("no scan, and nbdkit's warning, for another export, a serialized plugin or no cache", async (context) => {
    requireClients(context, "nbdsh");
    const cases: [readonly string[], string, string][] = [
      [[], "foo", "scan: warning: not the default export, not scanning"],
      [
        ["threads=serialize_requests"],
        "",
        "scan: warning: underlying plugin does not support the PARALLEL thread model, " +
        "not scanning",
      ],
      [
        ["cache=none"],
        "",
        "scan: warning: underlying plugin does not support NBD_CMD_CACHE, not scanning; " +
        "try adding --filter=cache after this filter",
      ],
    ];
    for (const [params, exportName, warning] of cases) {
      const plugin = logPlugin(server, { params });
      const run = expectSuccess(
        await captive(
          server,
          ["--filter=scan", ...plugin.argv],
          `nbdsh -c 'h.set_export_name("${exportName}")' -c 'h.connect_unix("'"$unixsocket"'")' ` +
            `-c 'h.pread(512, 0)'`,
        ),
      );
      expect(run.stderr).toContain(warning);
      expect(plugin.lines()).toEqual(["pread 512 0"]);
    }
  });

  test("scan-size must be a power of two from 512 to 32M; --help shows nbdkit's parameters", async () => {
    const args = ["--filter=scan", "memory", "1M"];
    for (const size of ["256", "3000", "64M"]) {
      expect(await refusedStart(server, [...args, `scan-size=${size}`])).toContain(
        "scan-size parameter should be [512..32M] and a power of two",
      );
    }
    expect(await refusedStart(server, [...args, "scan-ahead=maybe"])).toContain(
      "could not decipher boolean (maybe)",
    );
    expect(await filterHelp(server, "scan")).toBe(
      "scan-ahead=false         Skip ahead when client reads faster.\n" +
        "scan-clock=false         Always start prefetching from beginning.\n" +
        "scan-forever=true        Scan in a loop while clients connected.\n" +
        "scan-size=NN             Set scan block size.",
    );
  });
});
