/**
 * --filter=truncate (man nbdkit-truncate-filter) serves the disk at another size: truncate=
 * sets it, round-up= and round-down= round it. Past the real end it reads zeroes and takes
 * only zeroes (ENOSPC otherwise, after writing the part that fits, as nbdkit), and reports a
 * hole. Same bytes, sizes, map, flags and errors as nbdkit. The disk below is a data
 * expression whose data runs are 32 KiB pages, so that both allocators report the same map.
 */

import { describe, expect, test } from "vitest";
import {
  ALL_FLAGS,
  filterHelp,
  mapOf,
  PATTERN_FLAGS,
  refusedStart,
  withFlags,
} from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** 1 MiB: 32 KiB of 1s at 32 KiB, and its last 64 KiB 3s. */
const DISK = ["data", "@32768 (1)*32768 @983040 (3)*65536", "size=1M"];
const TRUNCATE = ["--filter=truncate", ...DISK];
const END = 1024 * 1024;

describe.each(servers)("truncate filter ($name)", (server) => {
  test("a larger disk reads zeroes past the real end and takes only zeroes there", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      [...TRUNCATE, "truncate=2M"],
      withFlags(`
      h = connect()
      end = ${END}
      across = bytes(h.pread(8, end - 4)).hex()
      refused = outcome(lambda: h.pwrite(b"\\x07" * 8, end - 4))
      after_refusal = bytes(h.pread(8, end - 4)).hex()
      outcomes = [outcome(lambda: h.pwrite(bytes(8), end - 2)),
                  outcome(lambda: h.pwrite(bytes(8), end + 4096)),
                  outcome(lambda: h.zero(8, end - 4, nbd.CMD_FLAG_FAST_ZERO)),
                  outcome(lambda: h.zero(8, end + 4096, nbd.CMD_FLAG_FAST_ZERO)),
                  outcome(lambda: h.trim(8, end + 4096)),
                  outcome(lambda: h.cache(8, end - 4))]
      report(size=h.get_size(), across=across, refused=refused, after_refusal=after_refusal,
             outcomes=outcomes, zeroed=bytes(h.pread(8, end - 4)).hex(), flags=flags(h))
    `),
    );
    expect(result).toEqual({
      size: 2 * END,
      across: "0303030300000000",
      refused: "ENOSPC",
      after_refusal: "0707070700000000", // the part inside the disk was written
      outcomes: ["ok", "ok", "ok", "ok", "ok", "ok"],
      zeroed: "0000000000000000",
      flags: ALL_FLAGS,
    });
  });

  test("the map is the plugin's, then one hole to the new end", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await mapOf(server, [...TRUNCATE, "truncate=2M"])).toEqual([
      { offset: 0, length: 32768, type: 3, description: "hole,zero" },
      { offset: 32768, length: 32768, type: 0, description: "data" },
      { offset: 65536, length: 917504, type: 3, description: "hole,zero" },
      { offset: 983040, length: 65536, type: 0, description: "data" },
      { offset: END, length: END, type: 3, description: "hole,zero" },
    ]);
  });

  test("truncate= smaller cuts the disk; round-up= and round-down= round the size", async (context) => {
    requireClients(context, "nbdsh");
    const sizes = async (params: string[]) =>
      await libnbd(
        server,
        ["--filter=truncate", "data", "@32768 (1)*32768", "size=1000000", ...params],
        `
      h = connect()
      size = h.get_size()
      report(size=size, last=bytes(h.pread(1, size - 1)).hex(),
             past=outcome(lambda: h.pread(1, size)))
    `,
      );
    expect(await sizes(["truncate=40000"])).toEqual({ size: 40000, last: "01", past: "EINVAL" });
    expect(await sizes(["round-up=64k"])).toEqual({ size: 1048576, last: "00", past: "EINVAL" });
    expect(await sizes(["round-down=64k"])).toEqual({ size: 983040, last: "00", past: "EINVAL" });
  });

  test("on a plugin that cannot write the flags stay its own, but fast zero is not offered", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=truncate", "pattern", "1M", "truncate=2M"],
      withFlags(`
      h = connect()
      report(flags=flags(h), across=bytes(h.pread(16, ${END} - 8)).hex())
    `),
    );
    expect(result).toEqual({
      flags: PATTERN_FLAGS,
      across: "00000000000ffff8" + "0000000000000000",
    });
  });

  test("bad parameters are refused at start-up, and --help shows nbdkit's parameters", async () => {
    const refusal = (param: string) => refusedStart(server, [...TRUNCATE, param]);
    expect(await refusal("round-up=3")).toContain("the round-up parameter must be a power of 2");
    expect(await refusal("round-down=0")).toContain(
      "if set, the round-down parameter must be > 0",
    );
    expect(await refusal("round-up=8G")).toContain("the round-up parameter is too large");
    expect(await refusal("truncate=-5")).toContain("size cannot be negative (-5)");
    expect(await filterHelp(server, "truncate")).toBe(
      "truncate=<SIZE>                The new size.\n" +
        "round-up=<N>                   Round up to next multiple of N.\n" +
        "round-down=<N>                 Round down to multiple of N.",
    );
  });
});
