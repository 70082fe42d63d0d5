/**
 * Structured replies are negotiated by default, can be turned off by the client, and decide
 * what is allowed: DF reads and block status need them; plain reads work either way.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("structured replies on and off ($name)", (server) => {
  test("structured replies are negotiated by default and advertise DF", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect()
      report(structured=h.get_structured_replies_negotiated(), df=h.can_df())
    `,
    );
    expect(result).toEqual({ structured: true, df: true });
  });

  test("a DF read comes back as one chunk covering the whole request", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect()
      h.pwrite(b"don't fragment me" * 100, 3)
      chunks = []
      def chunk(subbuf, offset, status, err):
          chunks.append([len(subbuf), offset, status])
          return 0
      data = h.pread_structured(1700, 3, chunk, nbd.CMD_FLAG_DF)
      zeros = []
      def chunk_zero(subbuf, offset, status, err):
          zeros.append([len(subbuf), offset, status])
          return 0
      hole = h.pread_structured(65536, 512 * 1024, chunk_zero, nbd.CMD_FLAG_DF)
      report(chunks=chunks, same=bytes(data) == b"don't fragment me" * 100,
             zeros=zeros, hole_is_zero=bytes(hole) == bytes(65536))
    `,
    );
    expect(result.chunks).toEqual([[1700, 3, 1]]);
    expect(result.same).toBe(true);
    // An all-zero range may come back as one data chunk or one hole chunk (READ_DATA 1, READ_HOLE 2).
    expect(result.zeros).toHaveLength(1);
    expect((result.zeros as number[][])[0]!.slice(0, 2)).toEqual([65536, 512 * 1024]);
    expect([1, 2]).toContain((result.zeros as number[][])[0]![2]);
    expect(result.hole_is_zero).toBe(true);
  });

  test("structured read chunks cover the request exactly once", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "4M"],
      `
      h = connect()
      h.pwrite(b"\\x5a" * 100000, 1000000)
      chunks = []
      def chunk(subbuf, offset, status, err):
          chunks.append([offset, len(subbuf), status])
          return 0
      data = h.pread_structured(2 * 1024 * 1024, 0, chunk)
      chunks.sort()
      covered = 0
      for offset, length, status in chunks:
          if offset != covered:
              break
          covered += length
      expected = bytes(1000000) + b"\\x5a" * 100000 + bytes(2 * 1024 * 1024 - 1100000)
      report(covered=covered, same=bytes(data) == expected)
    `,
    );
    expect(result).toEqual({ covered: 2 * 1024 * 1024, same: true });
  });

  test("with structured replies off, reads and writes still work", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.set_request_structured_replies(False))
      h.pwrite(b"simple replies", 100)
      h.zero(10, 200)
      h.trim(4096, 8192)
      h.flush()
      report(structured=h.get_structured_replies_negotiated(), df=h.can_df(),
             data=bytes(h.pread(14, 100)).decode())
    `,
    );
    expect(result).toEqual({ structured: false, df: false, data: "simple replies" });
  });

  test("with structured replies off, base:allocation is not negotiated", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      def setup(h):
          h.set_request_structured_replies(False)
          h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
      h = connect(setup)
      report(meta=h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
    `,
    );
    expect(result).toEqual({ meta: false });
  });

  test("with structured replies off, DF reads and block status get EINVAL and the connection goes on", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.set_request_structured_replies(False))
      h.set_strict_mode(0)
      df = outcome(lambda: h.pread_structured(10, 0, lambda *args: 0, nbd.CMD_FLAG_DF))
      status = outcome(lambda: h.block_status(100, 0, lambda *args: 0))
      report(df=df, block_status=status, after=bytes(h.pread(4, 0)).hex())
    `,
    );
    expect(result).toEqual({ df: "EINVAL", block_status: "EINVAL", after: "00000000" });
  });
});
