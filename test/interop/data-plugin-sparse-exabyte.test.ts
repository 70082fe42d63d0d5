/**
 * The data plugin serves sparse disks up to 2^63-1 bytes described by a few characters: a byte
 * at each end, a sparse group repeated far, a pattern cut to size=. Offsets past 2^53 stay
 * exact, and writes near the end read back.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const LARGEST = String(2n ** 63n - 1n);

describe.each(servers)("data plugin sparse exabyte disks ($name)", (server) => {
  test("'1 @0x7ffffffffffffffe 2' puts a byte at each end of a 2^63-1 byte disk", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["data", "1 @0x7ffffffffffffffe 2"],
      `
      h = connect()
      size = h.get_size()
      start = bytes(h.pread(4, 0)).hex()
      end = bytes(h.pread(4, size - 4)).hex()
      middle = bytes(h.pread(4, 2 ** 53 + 1)).hex()
      h.pwrite(b"xyz", size - 5)
      report(size=str(size), start=start, end=end, middle=middle,
             written=bytes(h.pread(5, size - 5)).hex())
    `,
    );
    expect(result).toEqual({
      size: LARGEST,
      start: "01000000",
      end: "00000002",
      middle: "00000000",
      written: "78797a0002",
    });
  });

  test("nbdinfo reports the size of a disk reaching 2^63-1 exactly", async (context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(
      await captive(
        server,
        ["data", '@0x7fffffffffffff00 "end" @0x7fffffffffffffff'],
        'nbdinfo --size "$uri"',
      ),
    );
    expect(stdout.trim()).toBe(LARGEST);
  });

  test("a sparse group repeated 1000 times, then data near the end of the disk", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["data", '(1 @^0x100000)*1000 @0x7ffffffffffffff0 "end" le16:0xaa55'],
      `
      h = connect()
      size = h.get_size()
      report(size=str(size),
             copies=[bytes(h.pread(2, n * 0x100000)).hex() for n in (0, 1, 500, 999)],
             after=bytes(h.pread(2, 1000 * 0x100000)).hex(),
             end=bytes(h.pread(5, 0x7ffffffffffffff0)).hex())
    `,
    );
    expect(result).toEqual({
      size: String(0x7ffffffffffffff0n + 5n),
      copies: ["0100", "0100", "0100", "0100"],
      after: "0000",
      end: "656e6455aa",
    });
  });

  test("a two-byte pattern repeated 2^20 times is cut to 1M by size=", async (context) => {
    requireClients(context, "nbdsh");
    // nbdkit blits a repeated string once per copy, so the count stays modest for its sake.
    const result = await libnbd(
      server,
      ["data", '("ab")*0x100000', "size=1M"],
      `
      h = connect()
      report(size=h.get_size(), head=bytes(h.pread(4, 0)).hex(),
             tail=bytes(h.pread(4, h.get_size() - 4)).hex())
    `,
    );
    expect(result).toEqual({ size: 1048576, head: "61626162", tail: "61626162" });
  });
});
