/**
 * --filter=swab (man nbdkit-swab-filter) swaps the bytes of each 16-, 32- or 64-bit word
 * (swab-bits=, default 16) in what is read and written; requests must be whole words (EINVAL
 * otherwise), the size is rounded down to whole words and the block size says so. Same bytes,
 * errors, sizes, map and messages as nbdkit. The one difference is the block size maximum:
 * nbdkit passes on "no limit" (0xffffffff), nbdts caps it at its 64 MiB payload limit (README,
 * Limits).
 */

import { describe, expect, test } from "vitest";
import { filterHelp, mapOf, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("swab filter ($name)", (server) => {
  test("reads swap each word of the pattern plugin, for every swab-bits", async (context) => {
    requireClients(context, "nbdsh");
    const words: Record<string, string> = {};
    for (const bits of ["8", "16", "32", "64"]) {
      const result = await libnbd(
        server,
        ["--filter=swab", "pattern", "1M", `swab-bits=${bits}`],
        `
        h = connect()
        report(word=bytes(h.pread(16, 0x1230)).hex())
      `,
      );
      words[bits] = result.word as string;
    }
    expect(words).toEqual({
      "8": "0000000000001230" + "0000000000001238",
      "16": "0000000000003012" + "0000000000003812",
      "32": "0000000030120000" + "0000000038120000",
      "64": "3012000000000000" + "3812000000000000",
    });
  });

  // Reads swap (above), so reading back what was written proves writes swap too.
  test("writes are swapped on the way down: they read back as written", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=swab", "memory", "1001", "swab-bits=32"],
      `
      h = connect()
      h.pwrite(bytes(range(16)), 8)
      report(size=h.get_size(), back=bytes(h.pread(16, 8)).hex())
    `,
    );
    expect(result).toEqual({ size: 1000, back: "000102030405060708090a0b0c0d0e0f" });
  });

  test("requests that are not whole words fail with EINVAL", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=swab", "memory", "1M", "swab-bits=64"],
      `
      h = connect(lambda h: h.set_strict_mode(0))
      report(outcomes=[outcome(lambda: h.pread(3, 0)),
                       outcome(lambda: h.pread(8, 4)),
                       outcome(lambda: h.pwrite(bytes(12), 0)),
                       outcome(lambda: h.zero(8, 2)),
                       outcome(lambda: h.trim(4, 0)),
                       outcome(lambda: h.cache(8, 1)),
                       outcome(lambda: h.pread(16, 8))],
             block=[h.get_block_size(nbd.SIZE_MINIMUM), h.get_block_size(nbd.SIZE_PREFERRED)],
             maximum=h.get_block_size(nbd.SIZE_MAXIMUM))
    `,
    );
    expect(result.outcomes).toEqual([
      "EINVAL",
      "EINVAL",
      "EINVAL",
      "EINVAL",
      "EINVAL",
      "EINVAL",
      "ok",
    ]);
    expect(result.block).toEqual([8, 512]);
    expect(result.maximum).toBe(server.name === "nbdkit" ? 0xffffffff : 64 * 1024 * 1024);
  });

  test("the map is the plugin's", async (context) => {
    requireClients(context, "nbdinfo");
    const disk = ["data", "@32768 (1)*32768 @131072 (2)*65536", "size=1M"];
    expect(await mapOf(server, ["--filter=swab", ...disk, "swab-bits=32"])).toEqual([
      { offset: 0, length: 32768, type: 3, description: "hole,zero" },
      { offset: 32768, length: 32768, type: 0, description: "data" },
      { offset: 65536, length: 65536, type: 3, description: "hole,zero" },
      { offset: 131072, length: 65536, type: 0, description: "data" },
      { offset: 196608, length: 851968, type: 3, description: "hole,zero" },
    ]);
  });

  test("swab-bits must be 8, 16, 32 or 64; --help shows nbdkit's parameter", async () => {
    const stack = ["--filter=swab", "memory", "1M"];
    expect(await refusedStart(server, [...stack, "swab-bits=12"])).toContain(
      "invalid swab-bits, must be 8, 16, 32 or 64",
    );
    expect(await refusedStart(server, [...stack, "swab-bits=x"])).toContain(
      "swab-bits: empty string where we expected a number",
    );
    expect(await filterHelp(server, "swab")).toBe(
      "swab-bits=8|16|32|64       Size of byte swap (default 16).",
    );
  });
});
