/**
 * Data written with NBD_CMD_WRITE (with and without FUA) reads back byte for byte, survives
 * a flush, and is seen by a later connection to the same memory disk.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("written data reads back ($name)", (server) => {
  test("pwrite then pread returns the same bytes at aligned and unaligned offsets", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "4M"],
      `
      h = connect()
      samples = [(0, bytes(range(256)) * 16), (12345, b"unaligned" * 100), (4 * 1024 * 1024 - 7, b"the end")]
      for offset, data in samples:
          h.pwrite(data, offset)
      same = [bytes(h.pread(len(data), offset)) == data for offset, data in samples]
      report(same=same, between=bytes(h.pread(16, 8192)).hex())
    `,
    );
    expect(result).toEqual({ same: [true, true, true], between: "00".repeat(16) });
  });

  test("a write with FUA and a flush both succeed and keep the data", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect()
      h.pwrite(b"forced unit access", 4096, nbd.CMD_FLAG_FUA)
      h.flush()
      report(fua=h.can_fua(), flush=h.can_flush(), data=bytes(h.pread(18, 4096)).decode())
    `,
    );
    expect(result).toEqual({ fua: true, flush: true, data: "forced unit access" });
  });

  test("a second connection reads what the first one wrote", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      first = connect()
      first.pwrite(b"shared", 1000)
      first.flush()
      first.shutdown()
      second = connect()
      report(data=bytes(second.pread(6, 1000)).decode())
    `,
    );
    expect(result).toEqual({ data: "shared" });
  });

  test("a 32 MiB write and read round-trip in one request each", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "64M"],
      `
      import hashlib
      h = connect()
      data = os.urandom(32 * 1024 * 1024)
      h.pwrite(data, 1024 * 1024)
      back = h.pread(len(data), 1024 * 1024)
      report(same=hashlib.sha256(back).digest() == hashlib.sha256(data).digest())
    `,
    );
    expect(result).toEqual({ same: true });
  });
});
