/**
 * The pattern plugin: each aligned 8-byte word holds its own offset as a big-endian number,
 * at any read offset (aligned or not) and at offsets beyond 2^53.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** Python that builds the expected pattern bytes for `count` bytes at `offset`. */
const EXPECTED = `
def expected(count, offset):
    first = offset // 8 * 8
    words = b"".join((word).to_bytes(8, "big") for word in range(first, offset + count + 8, 8))
    return words[offset - first:offset - first + count]
`;

describe.each(servers)("pattern plugin holds offsets ($name)", (server) => {
  test("reads at aligned and unaligned offsets show each word's offset", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["pattern", "1M"],
      `
      ${EXPECTED.trim().replaceAll("\n", "\n      ")}
      h = connect()
      reads = [(32, 0), (16, 8003), (1, 7), (4096, 65536), (100, 1024 * 1024 - 100), (65536 + 5, 12345)]
      report(first=bytes(h.pread(32, 0)).hex(),
             matches=[bytes(h.pread(count, offset)) == expected(count, offset) for count, offset in reads])
    `,
    );
    expect(result).toEqual({
      first: "0000000000000000000000000000000800000000000000100000000000000018",
      matches: [true, true, true, true, true, true],
    });
  });

  test("offsets beyond 2^53 are exact on a pattern disk of 2^63-1 bytes", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["pattern", String(2n ** 63n - 1n)],
      `
      ${EXPECTED.trim().replaceAll("\n", "\n      ")}
      h = connect()
      size = h.get_size()
      reads = [(16, size - 16), (24, 2 ** 53 - 4), (8, 2 ** 62 + 8), (5, size - 5)]
      report(size=str(size), matches=[bytes(h.pread(count, offset)) == expected(count, offset) for count, offset in reads])
    `,
    );
    expect(result).toEqual({ size: "9223372036854775807", matches: [true, true, true, true] });
  });
});
