/**
 * Hundreds of requests in flight on one connection all complete with the right data: the
 * server reads ahead while earlier replies are still owed, and matches replies by cookie.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("many requests in flight ($name)", (server) => {
  test("256 writes then 256 reads issued together all complete and match", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "8M"],
      `
      N = 256
      SIZE = 4096 + 17
      h = connect()
      blocks = [bytes([i % 251]) * SIZE for i in range(N)]
      def wait_for(cookies):
          pending = set(cookies)
          while pending:
              h.poll(-1)
              pending = {cookie for cookie in pending if not h.aio_command_completed(cookie)}
      writes = [h.aio_pwrite(nbd.Buffer.from_bytearray(bytearray(blocks[i])), i * 20000) for i in range(N)]
      peak_writes = h.aio_in_flight()
      wait_for(writes)
      buffers = [nbd.Buffer(SIZE) for i in range(N)]
      reads = [h.aio_pread(buffers[i], i * 20000) for i in range(N)]
      peak_reads = h.aio_in_flight()
      wait_for(reads)
      matches = sum(1 for i in range(N) if buffers[i].to_bytearray() == blocks[i])
      report(peak_writes=peak_writes, peak_reads=peak_reads, matches=matches, in_flight=h.aio_in_flight())
    `,
    );
    expect(result.matches).toBe(256);
    expect(result.in_flight).toBe(0);
    expect(result.peak_writes).toBeGreaterThanOrEqual(200);
    expect(result.peak_reads).toBeGreaterThanOrEqual(200);
  });

  test("mixed reads, writes, zeroes, flushes and block status in flight together all succeed", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "8M"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      cookies = []
      for i in range(60):
          base = i * 65536
          cookies.append(h.aio_pwrite(nbd.Buffer.from_bytearray(bytearray(b"w" * 4096)), base))
          cookies.append(h.aio_zero(512, base + 8192))
          cookies.append(h.aio_pread(nbd.Buffer(1024), base + 16384))
          cookies.append(h.aio_block_status(65536, base, lambda *args: 0))
          cookies.append(h.aio_flush())
      peak = h.aio_in_flight()
      failures = 0
      pending = list(cookies)
      while pending:
          h.poll(-1)
          still = []
          for cookie in pending:
              try:
                  if not h.aio_command_completed(cookie):
                      still.append(cookie)
              except nbd.Error:
                  failures += 1
          pending = still
      report(peak=peak, failures=failures, sample=bytes(h.pread(4, 59 * 65536)).decode())
    `,
    );
    expect(result).toMatchObject({ failures: 0, sample: "wwww" });
    expect(result.peak).toBeGreaterThanOrEqual(200);
  });
});
