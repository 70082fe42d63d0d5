/**
 * --filter=readahead (man nbdkit-readahead-filter, 1.32's: it prefetches with NBD_CMD_CACHE)
 * asks the plugin to cache the window after each read, the window growing when reads jump
 * ahead and shrinking when they go back: the plugin (a logging plugin, the same on either
 * server) is asked the same cache calls as nbdkit asks, in the same order. Prefetches run in
 * the background, so the test waits for them in the log, never on time; a held prefetch holds
 * up no read. Without cache or PARALLEL, nothing is prefetched and nbdkit's warning is logged.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { dedent, libnbd } from "../helpers/libnbd.ts";
import { logEnv, logPlugin, WATCH_LOG } from "../helpers/log-plugin.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const MiB = 1024 * 1024;

/**
 * Reads of 64 KiB: two in a row (window 32 KiB), a jump to 1 MiB (the window doubles to 64
 * KiB), one more, a jump to the last 64 KiB (nothing after it; the window doubles again), and
 * back to the start (the window had grown to 128 KiB, then falls back to 32 KiB).
 */
const READS = `
for offset in [0, 65536, 1048576, 1114112, 2031616, 0]:
    h.pread(65536, offset)
`;

const EXPECTED_CACHES = [
  "cache 32768 65536",
  "cache 32768 131072",
  "cache 32768 1114112",
  "cache 65536 1179648",
  "cache 131072 65536",
];

describe.each(servers)("readahead filter ($name)", (server) => {
  test("each read prefetches the window after it, as nbdkit's does", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server, { disk: new Uint8Array(2 * MiB) });
    await libnbd(
      server,
      ["--filter=readahead", ...plugin.argv],
      WATCH_LOG + dedent(`
        h = connect()
        ${READS.trim().replace(/\n/g, "\n        ")}
        wait_for(lambda: len(logged("cache")) >= ${EXPECTED_CACHES.length}, "the prefetches")
        report(done=True)
      `),
      { env: logEnv(plugin) },
    );
    expect(plugin.calls("cache")).toEqual(EXPECTED_CACHES);
    expect(plugin.calls("pread")).toHaveLength(6);
  });

  test("reads go on while prefetches are held", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server, { disk: new Uint8Array(2 * MiB), hold: true });
    const result = await libnbd(
      server,
      ["--filter=readahead", ...plugin.argv],
      WATCH_LOG + dedent(`
        h = connect()
        ${READS.trim().replace(/\n/g, "\n        ")}
        reads = len(logged("pread"))
        release()
        wait_for(lambda: len(logged("cache")) >= ${EXPECTED_CACHES.length}, "the prefetches")
        report(reads=reads)
      `),
      { env: logEnv(plugin) },
    );
    expect(result).toEqual({ reads: 6 });
    expect(plugin.calls("cache")).toEqual(EXPECTED_CACHES);
  });

  test("a plugin that cannot cache, or a serialized one, gets no prefetch and a warning", async (context) => {
    requireClients(context, "nbdsh");
    const script = `nbdsh -u "$uri" -c 'h.pread(65536, 0)' -c 'h.pread(65536, 65536)'`;
    const noCache = logPlugin(server, { params: ["cache=none"] });
    const run = expectSuccess(
      await captive(server, ["--filter=readahead", ...noCache.argv], script),
    );
    expect(run.stderr).toContain(
      "readahead: warning: underlying plugin does not support NBD_CMD_CACHE or PARALLEL " +
        "thread model, so the filter won't do anything",
    );
    expect(run.stderr).toContain("readahead: try adding --filter=cache after this filter");
    expect(noCache.lines()).toEqual(["pread 65536 0", "pread 65536 65536"]);

    const serial = logPlugin(server, { params: ["threads=serialize_requests"] });
    const serialRun = expectSuccess(
      await captive(server, ["--filter=readahead", ...serial.argv], script),
    );
    expect(serialRun.stderr).toContain("readahead: warning: underlying plugin does not support");
    expect(serialRun.stderr).not.toContain("try adding --filter=cache");
    expect(serial.lines()).toEqual(["pread 65536 0", "pread 65536 65536"]);
  });
});
