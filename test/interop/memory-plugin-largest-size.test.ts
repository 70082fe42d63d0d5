/**
 * A memory disk of the largest size NBD allows, 2^63-1 bytes, serves its last sector: the
 * size and offsets stay exact past 2^53 (nbdkit's tests/test-memory-largest.sh).
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** 2^63-1, what `$(( 2**63 - 1 ))` expands to in nbdkit's test. */
const LARGEST = String(2n ** 63n - 1n);

describe.each(servers)("memory plugin largest size ($name)", (server) => {
  test("the last sector of a 2^63-1 byte disk can be written and read back", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", LARGEST],
      `
      h = connect()
      size = h.get_size()
      before = bytes(h.pread(512, size - 512)) == bytes(512)
      sector = bytes(range(256)) * 2
      h.pwrite(sector, size - 512)
      h.pwrite(b"L", size - 1)
      back = bytes(h.pread(512, size - 512))
      h.set_strict_mode(0)
      report(size=str(size), before=before, back=back == sector[:511] + b"L",
             near=bytes(h.pread(512, size - 1024)) == bytes(512),
             past=outcome(lambda: h.pread(1, size)), write_past=outcome(lambda: h.pwrite(b"xx", size - 1)))
    `,
    );
    expect(result).toEqual({
      size: LARGEST,
      before: true,
      back: true,
      near: true,
      past: "EINVAL",
      write_past: "ENOSPC",
    });
  });

  test("nbdinfo reports the size exactly", async (context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(
      await captive(server, ["memory", LARGEST], 'nbdinfo --size "$uri"'),
    );
    expect(stdout.trim()).toBe(LARGEST);
  });
});
