/**
 * S3, on the local Ceph RADOS Gateway: many writes in flight from several connections at once,
 * each covering parts of two or three objects (so each object is read, changed and written back),
 * lose none of each other's bytes. The client's strict alignment is off so that nbdkit's plugin,
 * which advertises the object size as the minimum block size, gets the same unaligned writes.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { newBucket } from "../helpers/s3-store.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("S3 plugin keeps concurrent partial writes ($name)", (server) => {
  test("four connections writing interleaved stripes across object boundaries", async (context) => {
    requireClients(context, "python3");
    const bucket = await newBucket(context);
    const reported = await libnbd(
      server,
      bucket.plugin("disk", "size=1M", "object-size=64K"),
      `
      import random
      handles = [connect() for i in range(4)]
      for h in handles:
          h.set_strict_mode(0)
      # Stripes of 5000 bytes: stripe i belongs to connection i % 4; each object holds parts of
      # about 13 stripes from all four connections, and most stripes cross a boundary.
      STRIPE = 5000
      stripes = list(range((1024 * 1024) // STRIPE))
      random.Random(7).shuffle(stripes)
      expected = bytearray(1024 * 1024)
      bufs = []
      for s in stripes:
          data = bytes([(s * 7 + 1) & 0xff]) * STRIPE
          expected[s * STRIPE:(s + 1) * STRIPE] = data
          h = handles[s % 4]
          b = nbd.Buffer.from_bytearray(bytearray(data))
          bufs.append(b)
          h.aio_pwrite(b, s * STRIPE)
      for h in handles:
          while h.aio_in_flight() > 0:
              h.poll(-1)
      handles[0].flush()
      got = connect().pread(1024 * 1024, 0)
      bad = [s for s in range(len(stripes)) if got[s * STRIPE:(s + 1) * STRIPE] != expected[s * STRIPE:(s + 1) * STRIPE]]
      report(bad=bad[:10], same=got == bytes(expected))
      `,
      { timeoutMs: 120_000 },
    );
    expect(reported).toEqual({ bad: [], same: true });
  }, 150_000);
});
