/**
 * --filter=cache with cache-max-size= keeps the cache near that size (man nbdkit-cache-filter,
 * "CACHE MAXIMUM SIZE"): what fits stays cached, and reading more than fits makes the plugin
 * be asked again for what was let go. What the plugin is asked comes from the call-log plugin
 * (nbdkit's sh plugin for nbdkit), never from timing. nbdkit picks what to let go by an
 * approximation and nbdts by least recent use, so the tests assert what both must do.
 *
 * One difference, tested for both: nbdkit 1.32.5 lets go of dirty blocks by punching them out
 * of its cache file, so writes never flushed are lost once the cache is full, and the disk
 * reads back other bytes; nbdts writes a dirty block back before letting it go.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir, shellQuote } from "../helpers/captive.ts";
import { callLogPlugin, numberedBlocks } from "../helpers/call-log-plugin.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

const BLOCK = 65536;
const DISK = 4 * 1024 * 1024;

/**
 * The blocks the plugin was asked to read on each of two passes over the first `bytes` of a
 * 4 MiB disk, 64 KiB at a time, through the cache filter with cache-on-read and `params`.
 */
async function twoPasses(server: Server, bytes: number, params: readonly string[]) {
  const plugin = callLogPlugin(server, numberedBlocks(DISK));
  await libnbd(
    server,
    ["--filter=cache", ...plugin.argv, "cache-on-read=true", ...params],
    `
    h = connect()
    for n in range(2):
        for at in range(0, ${bytes}, 65536):
            h.pread(65536, at)
        with open(os.environ["log"], "a") as log:
            log.write("# pass\\n")
    report()
    `,
    { env: { log: plugin.log } },
  );
  const calls = plugin.calls();
  const split = calls.indexOf("# pass");
  const blocks = (lines: string[]) =>
    lines.filter((line) => line.startsWith("pread")).map((line) =>
      Number(line.split(" ")[2]) / BLOCK
    );
  return [blocks(calls.slice(0, split)), blocks(calls.slice(split + 1, -1))];
}

describe.each(servers)("cache filter under cache-max-size ($name)", (server) => {
  test("without a maximum, a second pass over 4 MiB asks the plugin nothing", async (context) => {
    requireClients(context, "nbdsh");
    const [first, second] = await twoPasses(server, DISK, []);
    expect(first).toHaveLength(64);
    expect(second).toEqual([]);
  });

  test("cache-max-size=1M: 512 KiB fits and is read once; 4 MiB does not, and is read again", async (context) => {
    requireClients(context, "nbdsh");
    const [small, smallAgain] = await twoPasses(server, 512 * 1024, ["cache-max-size=1M"]);
    expect(small).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(smallAgain).toEqual([]);
    const [large, largeAgain] = await twoPasses(server, DISK, ["cache-max-size=1M"]);
    expect(large).toHaveLength(64);
    // At most about 1 MiB (16 blocks) of the 64 can still be cached for the second pass.
    expect(largeAgain.length).toBeGreaterThanOrEqual(64 - 16);
  });

  test("cache-high-threshold and cache-low-threshold move where reclaiming starts", async (context) => {
    requireClients(context, "nbdsh");
    // 768 KiB is 75% of 1M: under the default high threshold (95%), over one of 50%.
    const [, kept] = await twoPasses(server, 768 * 1024, ["cache-max-size=1M"]);
    expect(kept).toEqual([]);
    const [, reread] = await twoPasses(server, 768 * 1024, [
      "cache-max-size=1M",
      "cache-high-threshold=50",
      "cache-low-threshold=25",
    ]);
    expect(reread.length).toBeGreaterThan(0);
  });

  test("writes beyond the maximum: nbdts writes dirty blocks back first, nbdkit 1.32.5 loses them", async (context) => {
    requireClients(context, "nbdcopy");
    const dir = scratchDir();
    const source = join(dir, "source.img");
    const back = join(dir, "back.img");
    writeFileSync(source, numberedBlocks(DISK).map((byte) => byte ^ 0xa5));
    const script = `nbdcopy ${shellQuote(source)} "$uri" && nbdcopy "$uri" ${shellQuote(back)}`;
    expectSuccess(
      await captive(server, ["--filter=cache", "memory", "4M", "cache-max-size=1M"], script),
    );
    const same = readFileSync(back).equals(readFileSync(source));
    expect(same).toBe(server.name !== "nbdkit");
  });
});
