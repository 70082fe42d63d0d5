/**
 * curl timeout=SECS: a request the web server never answers fails with EIO after that long,
 * and the export goes on serving. connections=N (nbdkit ≥ 1.34; 1.32.5 has one request at a
 * time per NBD connection, so that test runs against nbdts alone): at most N requests reach
 * the web server at once, shared by every client, and more than one when N allows it.
 */

import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { startHttpDisk } from "../helpers/http-disk-server.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** Python: 16 reads of 4 KiB in flight at once on one handle, waited for. */
const SIXTEEN_READS = `
h = connect()
bufs = [nbd.Buffer(4096) for i in range(16)]
for i, b in enumerate(bufs):
    h.aio_pread(b, i * 4096)
while h.aio_in_flight() > 0:
    h.poll(-1)
report(ok=True)
`;

describe.each(servers)("curl plugin bounds time and connections ($name)", (server) => {
  test("a stalled read fails with EIO after timeout= and the next read works", async (context) => {
    requireClients(context, "python3");
    const image = randomBytes(128 * 1024);
    const web = await startHttpDisk(image, { stallFrom: 65536 });
    const reported = await libnbd(
      server,
      ["-r", "curl", web.url, "timeout=1"],
      `
      import time
      h = connect()
      t = time.monotonic()
      stalled = outcome(lambda: h.pread(512, 65536))
      waited = time.monotonic() - t
      report(stalled=stalled, waited=waited, after=h.pread(8, 0).hex())
      `,
    );
    expect(reported.stalled).toBe("EIO");
    expect(reported.waited).toBeGreaterThanOrEqual(0.9);
    expect(reported.after).toBe(image.subarray(0, 8).toString("hex"));
  });

  const ours = server.name.startsWith("nbdts");
  test.skipIf(!ours)(
    "connections=2 holds requests to two at once; 8 lets more run",
    async (context) => {
      requireClients(context, "python3");
      const image = randomBytes(64 * 1024);
      const narrow = await startHttpDisk(image, { delayMs: 50 });
      await libnbd(server, ["-r", "curl", narrow.url, "connections=2"], SIXTEEN_READS);
      expect(narrow.peakInFlight()).toBe(2);
      const wide = await startHttpDisk(image, { delayMs: 50 });
      await libnbd(server, ["-r", "curl", wide.url, "connections=8"], SIXTEEN_READS);
      expect(wide.peakInFlight()).toBeGreaterThan(2);
      expect(wide.peakInFlight()).toBeLessThanOrEqual(8);
    },
  );
});
