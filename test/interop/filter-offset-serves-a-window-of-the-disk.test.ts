/**
 * --filter=offset (man nbdkit-offset-filter) serves `range=` bytes of the disk from `offset=`
 * on: the same bytes, size, map, flags and refusals as nbdkit. The disk below is a data
 * expression whose data runs are 32 KiB pages, so that nbdkit's allocator and ours report the
 * same extents.
 */

import { describe, expect, test } from "vitest";
import {
  ALL_FLAGS,
  filterHelp,
  mapOf,
  refusedExport,
  refusedStart,
  withFlags,
} from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** 1 MiB: 32 KiB of 1s at 32 KiB, 64 KiB of 2s at 128 KiB, holes elsewhere. */
const DISK = ["data", "@32768 (1)*32768 @131072 (2)*65536", "size=1M"];
const OFFSET = ["--filter=offset", ...DISK];

describe.each(servers)("offset filter ($name)", (server) => {
  test("offset= and range= serve a window: its bytes, size, flags and writes", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      [...OFFSET, "offset=16384", "range=200000"],
      withFlags(`
      h = connect()
      before = bytes(h.pread(4, 16382)).hex() + "/" + bytes(h.pread(4, 114686)).hex()
      h.pwrite(b"abcd", 199996, nbd.CMD_FLAG_FUA)
      h.zero(2, 16383)
      report(size=h.get_size(), before=before, tail=bytes(h.pread(4, 199996)).decode(),
             zeroed=bytes(h.pread(4, 16382)).hex(), past_end=outcome(lambda: h.pread(1, 200000)),
             flags=flags(h))
    `),
    );
    expect(result).toEqual({
      size: 200000,
      before: "00000101" + "/" + "00000202", // plugin bytes 32766.. and 131070..
      tail: "abcd",
      zeroed: "00000001",
      past_end: "EINVAL",
      flags: ALL_FLAGS,
    });
  });

  test("the map is the plugin's, moved by offset= and cut at range=", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await mapOf(server, [...OFFSET, "offset=16384", "range=200000"])).toEqual([
      { offset: 0, length: 16384, type: 3, description: "hole,zero" },
      { offset: 16384, length: 32768, type: 0, description: "data" },
      { offset: 49152, length: 65536, type: 3, description: "hole,zero" },
      { offset: 114688, length: 65536, type: 0, description: "data" },
      { offset: 180224, length: 19776, type: 3, description: "hole,zero" },
    ]);
  });

  test("offsets past 2^53 stay exact: the pattern plugin's words read back their own offset", async (context) => {
    requireClients(context, "nbdsh");
    const offset = 2n ** 62n + 8n;
    const result = await libnbd(
      server,
      ["--filter=offset", "pattern", String(2n ** 63n - 1n), `offset=${offset}`],
      `
      h = connect()
      size = h.get_size()
      at = 2**53 + 8
      report(size=str(size), word=str(int.from_bytes(h.pread(8, at), "big")),
             last=str(int.from_bytes(h.pread(7, size - 7), "big")))
    `,
    );
    expect(result).toEqual({
      size: String(2n ** 63n - 1n - offset),
      word: String(offset + 2n ** 53n + 8n),
      // The disk's last 7 bytes: the first 7 of the word at 2^63-8, whose value is 2^63-8.
      last: String((2n ** 63n - 8n) >> 8n),
    });
  });

  test("a window past the end of the disk refuses the export with nbdkit's message", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await refusedExport(server, [...OFFSET, "offset=2M"])).toContain(
      "offset (2097152) is larger than the real size (1048576) of the underlying file or device",
    );
    expect(await refusedExport(server, [...OFFSET, "offset=512k", "range=1M"])).toContain(
      "offset+range (524288+1048576) is larger than the real size (1048576) " +
        "of the underlying file or device",
    );
  });

  test("bad sizes are refused at start-up, and --help shows nbdkit's parameters", async () => {
    expect(await refusedStart(server, [...OFFSET, "offset=-1"])).toContain(
      "size cannot be negative (-1)",
    );
    expect(await refusedStart(server, [...OFFSET, "range=x"])).toContain(
      "could not parse size string (x)",
    );
    expect(await filterHelp(server, "offset")).toBe(
      "offset=<OFFSET>            The start offset to serve (default 0).\n" +
        "range=<LENGTH>             The total size to serve (default rest of file).",
    );
  });
});
