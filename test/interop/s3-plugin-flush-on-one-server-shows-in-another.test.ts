/**
 * Many front ends, one disk: two servers (two processes, two sockets) serve the same objects of
 * one bucket of the local Ceph RADOS Gateway. Once a write is flushed through one — every write is
 * in the store by the time it is acknowledged, so FLUSH has nothing left to wait for — a read
 * through the other sees it, whole objects and parts of objects alike, and trims too.
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { run } from "../helpers/captive.ts";
import { newBucket } from "../helpers/s3-store.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** Runs python with libnbd against `uri`, printing what `code` prints. */
async function nbdsh(uri: string, code: string): Promise<string> {
  const result = await run(["nbdsh", "-u", uri, "-c", "h.set_strict_mode(0)", "-c", code]);
  if (result.status !== 0) throw new Error(`nbdsh failed: ${result.stderr}`);
  return result.stdout.trim();
}

describe.each(servers)("S3 plugin: a flush on one server shows in another ($name)", (server) => {
  test("writes flushed through one server read back through the other", async (context) => {
    requireClients(context, "nbdsh");
    const bucket = await newBucket(context);
    const disk = bucket.plugin("shared", "size=1M", "object-size=64K");
    const first = await startServer(server, disk);
    const second = await startServer(server, disk);
    await nbdsh(
      first.uri,
      `h.pwrite(b"A" * 65536, 65536); h.pwrite(b"partial", 200000); h.pwrite(b"B" * 70000, 300000); h.flush()`,
    );
    const seen = await nbdsh(
      second.uri,
      `print(h.pread(65536, 65536) == b"A" * 65536, bytes(h.pread(7, 200000)), h.pread(70000, 300000) == b"B" * 70000)`,
    );
    expect(seen).toBe("True b'partial' True");
    await nbdsh(second.uri, `h.trim(65536, 65536); h.pwrite(b"back", 200003, nbd.CMD_FLAG_FUA)`);
    const after = await nbdsh(
      first.uri,
      `print(h.pread(65536, 65536) == bytes(65536), bytes(h.pread(7, 200000)))`,
    );
    expect(after).toBe("True b'parback'");
  });
});
