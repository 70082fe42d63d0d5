/**
 * --filter=cache (man nbdkit-cache-filter) keeps blocks of the plugin in a cache: with
 * cache=writeback writes reach the plugin only at a flush, with writethrough at once, with
 * unsafe never on a flush; cache-on-read and cache requests keep what they read, in blocks of
 * cache-min-block-size. What the plugin is asked comes from the call-log plugin (nbdkit's sh
 * plugin for nbdkit). Same flags, bytes and messages as nbdkit.
 *
 * Two differences from nbdkit 1.32.5, each tested for both: it answers block status from the
 * plugin alone, so data written but not yet flushed shows as a hole there and a copier that
 * trusts the map skips it (nbdts reports it as data); and a read the cache does not keep asks
 * the plugin for the bytes wanted, where nbdkit asks for whole blocks.
 */

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { callLogPlugin, numberedBlocks } from "../helpers/call-log-plugin.ts";
import {
  ALL_FLAGS,
  filterHelp,
  PATTERN_FLAGS,
  READ_ONLY_FLAGS,
  refusedStart,
  withFlags,
} from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

const BLOCK = 65536;

/**
 * Runs `body` (Python; `mark(text)` writes "# text" in the plugin's log) through the cache
 * filter over the call-log plugin, and returns the plugin's disk and its log.
 */
async function logged(server: Server, params: readonly string[], body: string) {
  const plugin = callLogPlugin(server, numberedBlocks(1024 * 1024));
  await libnbd(
    server,
    ["--filter=cache", ...plugin.argv, ...params],
    `
    def mark(text):
        with open(os.environ["log"], "a") as log:
            log.write("# " + text + "\\n")
    ${body}
    report()
    `,
    { env: { log: plugin.log } },
  );
  return { disk: readFileSync(plugin.disk), calls: plugin.calls() };
}

/** The log between "# from" and the next mark (or the end), as the calls' names. */
function between(calls: readonly string[], from: string): string[] {
  const start = calls.indexOf(`# ${from}`) + 1;
  const end = calls.findIndex((call, i) => i >= start && call.startsWith("#"));
  return calls.slice(start, end < 0 ? undefined : end).map((call) => call.split(" ")[0]);
}

describe.each(servers)("cache filter ($name)", (server) => {
  test("flags follow the mode, as nbdkit's", async (context) => {
    requireClients(context, "nbdsh");
    const report = withFlags("report(flags=flags(connect()))");
    const flagsOf = async (args: string[], serverOptions: string[] = []) =>
      (await libnbd(server, ["--filter=cache", ...args], report, { serverOptions })).flags;
    expect(await flagsOf(["memory", "1M"])).toEqual(ALL_FLAGS);
    expect(await flagsOf(["pattern", "1M"])).toEqual(PATTERN_FLAGS);
    expect(await flagsOf(["full", "1M"])).toEqual({ ...ALL_FLAGS, flush: false, fua: false });
    expect(await flagsOf(["full", "1M", "cache=unsafe"])).toEqual(ALL_FLAGS);
    expect(await flagsOf(["memory", "1M"], ["-r"])).toEqual(READ_ONLY_FLAGS);
  });

  test("writeback: writes reach the plugin at a flush; writethrough: at once; unsafe: never", async (context) => {
    requireClients(context, "nbdsh");
    const body = `
    h = connect()
    mark("write")
    h.pwrite(b"W" * 65536, 131072)
    h.pwrite(b"w" * 100, 70000)
    mark("flush")
    h.flush()
    mark("read")
    h.pread(65536, 131072)
    h.pread(100, 70000)
    `;
    const writeback = await logged(server, [], body);
    expect(between(writeback.calls, "write")).toEqual(["pread"]); // the partial block, kept
    expect(between(writeback.calls, "flush")).toEqual(["pwrite", "pwrite", "flush"]);
    expect(between(writeback.calls, "read")).toEqual([]);
    const through = await logged(server, ["cache=writethrough"], body);
    expect(between(through.calls, "write").filter((call) => call === "pwrite")).toHaveLength(2);
    expect(between(through.calls, "flush")).toEqual(["flush"]);
    expect(between(through.calls, "read")).toEqual([]);
    const unsafe = await logged(server, ["cache=unsafe"], body);
    expect(between(unsafe.calls, "flush")).toEqual([]);
    for (const { disk } of [writeback, through]) {
      expect(disk.subarray(131072, 131072 + BLOCK).every((byte) => byte === 0x57)).toBe(true);
      expect(disk.subarray(70000, 70100).every((byte) => byte === 0x77)).toBe(true);
    }
    expect(unsafe.disk.equals(numberedBlocks(1024 * 1024))).toBe(true);
  });

  test("cache-on-read keeps whole blocks of cache-min-block-size, read once", async (context) => {
    requireClients(context, "nbdsh");
    const body = `
    h = connect()
    mark("first")
    h.pread(4096, 300000)
    mark("again")
    h.pread(4096, 300000)
    `;
    const plain = await logged(server, [], body);
    expect(between(plain.calls, "again")).toEqual(["pread"]);
    const kept = await logged(server, ["cache-on-read=true"], body);
    expect(kept.calls.filter((call) => call.startsWith("pread"))).toEqual([
      `pread ${BLOCK} ${4 * BLOCK}`,
    ]);
    const big = await logged(server, ["cache-on-read=true", "cache-min-block-size=256k"], body);
    expect(big.calls.filter((call) => call.startsWith("pread"))).toEqual([
      `pread ${4 * BLOCK} ${4 * BLOCK}`,
    ]);
  });

  test("a cache request reads its blocks into the cache, whatever cache-on-read says", async (context) => {
    requireClients(context, "nbdsh");
    const { calls } = await logged(
      server,
      [],
      `
    h = connect()
    mark("cache")
    h.cache(100000, 10000)
    mark("read")
    h.pread(100000, 10000)
    `,
    );
    const read = calls.filter((call) => call.startsWith("pread"))
      .reduce((sum, call) => sum + Number(call.split(" ")[1]), 0);
    expect(read).toBe(2 * BLOCK); // blocks 0 and 1, a block at a time (nbdkit) or at once
    expect(between(calls, "read")).toEqual([]);
  });

  test("data written but not flushed: nbdts maps it as data and copies it, nbdkit 1.32.5 does not", async (context) => {
    requireClients(context, "nbdsh", "nbdinfo", "nbdcopy");
    const script = [
      `nbdsh -u "$uri" -c 'h.pwrite(b"\\x01" * 4096, 65536)'`,
      'nbdinfo --map --json "$uri"',
      'nbdcopy "$uri" - | od -An -tx1 -j65536 -N4',
    ].join(" && ");
    const { stdout } = expectSuccess(
      await captive(server, ["--filter=cache", "memory", "1M"], script),
    );
    const [map, bytes] = [
      stdout.slice(0, stdout.lastIndexOf("]") + 1),
      stdout.slice(stdout.lastIndexOf("]") + 1),
    ];
    if (server.name === "nbdkit") {
      expect(JSON.parse(map)).toEqual([{
        offset: 0,
        length: 1048576,
        type: 3,
        description: "hole,zero",
      }]);
      expect(bytes.trim()).toBe("00 00 00 00");
    } else {
      expect(JSON.parse(map)).toEqual([
        { offset: 0, length: 65536, type: 3, description: "hole,zero" },
        { offset: 65536, length: 65536, type: 0, description: "data" },
        { offset: 131072, length: 917504, type: 3, description: "hole,zero" },
      ]);
      expect(bytes.trim()).toBe("01 01 01 01");
    }
  });

  test("bad parameters are refused with nbdkit's messages; --help shows nbdkit's", async () => {
    const start = (...params: string[]) =>
      refusedStart(server, ["--filter=cache", "memory", "1M", ...params]);
    expect(await start("cache=fast")).toContain(
      "invalid cache parameter, should be writeback|writethrough|unsafe",
    );
    expect(await start("cache-min-block-size=12k")).toContain(
      "cache-min-block-size is not a power of 2, or is too small or too large",
    );
    expect(await start("cache-max-size=1000")).toContain("cache-max-size is too small");
    expect(await start("cache-high-threshold=0")).toContain(
      "cache-high-threshold must be greater than zero",
    );
    expect(await start("cache-low-threshold=x")).toContain(
      "cache-low-threshold: empty string where we expected a number",
    );
    expect(await start("cache-max-size=1M", "cache-low-threshold=95")).toContain(
      "cache-low-threshold must be less than cache-high-threshold",
    );
    expect(await start("cache-on-read=maybe")).toContain("could not decipher boolean (maybe)");
    expect(await filterHelp(server, "cache")).toBe(
      "cache=MODE                Set cache MODE, one of writeback (default),\n" +
        "                          writethrough, or unsafe.\n" +
        "cache-on-read=BOOL|/PATH  Set to true to cache on reads (default false).\n" +
        "cache-max-size=SIZE       Set maximum space used by cache.\n" +
        "cache-high-threshold=PCT  Percentage of max size where reclaim begins.\n" +
        "cache-low-threshold=PCT   Percentage of max size where reclaim ends.",
    );
  });
});
