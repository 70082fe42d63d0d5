/**
 * NBD_CMD_WRITE_ZEROES leaves the range reading as zeroes, with NO_HOLE, FAST_ZERO and FUA,
 * and block status then reports it as zero. Whether NO_HOLE keeps the range allocated is not
 * checked: nbdkit's memory plugin reports it as a hole anyway.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("write zeroes reads back zero ($name)", (server) => {
  test("zeroing part of written data zeroes exactly that range", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect()
      h.pwrite(b"\\xff" * 65536, 0)
      h.zero(1000, 5000)
      data = bytes(h.pread(65536, 0))
      report(
          before=data[:5000] == b"\\xff" * 5000,
          zeroed=data[5000:6000] == bytes(1000),
          after=data[6000:] == b"\\xff" * (65536 - 6000),
      )
    `,
    );
    expect(result).toEqual({ before: true, zeroed: true, after: true });
  });

  test("NO_HOLE, FAST_ZERO and FUA zero requests all succeed on a memory disk", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "4M"],
      `
      M = 1024 * 1024
      h = connect()
      h.pwrite(b"\\xab" * (4 * M), 0)
      results = {
          "no-hole": outcome(lambda: h.zero(M, 0, nbd.CMD_FLAG_NO_HOLE)),
          "fast-zero": outcome(lambda: h.zero(M, M, nbd.CMD_FLAG_FAST_ZERO)),
          "fua": outcome(lambda: h.zero(M, 2 * M, nbd.CMD_FLAG_FUA)),
          "all": outcome(lambda: h.zero(100, 3 * M + 1, nbd.CMD_FLAG_FUA | nbd.CMD_FLAG_NO_HOLE)),
      }
      zeroes = [bytes(h.pread(M, i * M)) == bytes(M) for i in range(3)]
      tail = bytes(h.pread(102, 3 * M))
      report(
          results=results, can_zero=h.can_zero(), can_fast_zero=h.can_fast_zero(), zeroes=zeroes,
          tail=[tail[0], tail[1:101] == bytes(100), tail[101]],
      )
    `,
    );
    expect(result).toEqual({
      results: { "no-hole": "ok", "fast-zero": "ok", fua: "ok", all: "ok" },
      can_zero: true,
      can_fast_zero: true,
      zeroes: [true, true, true],
      tail: [0xab, true, 0xab],
    });
  });

  test("block status reports zeroed ranges as reading zero", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "4M"],
      `
      M = 1024 * 1024
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      h.pwrite(b"\\xab" * (2 * M), 0)
      h.zero(M, 0, nbd.CMD_FLAG_NO_HOLE)
      h.zero(M, M)
      report(first=extents(h, M, 0, nbd.CMD_FLAG_REQ_ONE), second=extents(h, M, M, nbd.CMD_FLAG_REQ_ONE))
    `,
    );
    for (const [[length, flags]] of [result.first, result.second] as [number, number][][]) {
      expect(length).toBeGreaterThan(0);
      expect(flags & 2).toBe(2);
    }
  });
});
