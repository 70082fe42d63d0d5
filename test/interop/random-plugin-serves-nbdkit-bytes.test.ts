/**
 * The random plugin: for a given seed, every byte at every offset (past 2^53 too) is the byte
 * nbdkit's random plugin serves there. A Python transcription of nbdkit's generator
 * (common/include/random.h, used as plugins/random/random.c uses it) says what each byte must
 * be, and a digest taken from nbdkit 1.32.5 pins a whole MiB.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { NBDKIT_RANDOM_PYTHON } from "../helpers/nbdkit-random-python.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** xoshiro256** seeded by splitmix64, and the random plugin's byte at seed + offset. */
const EXPECTED = NBDKIT_RANDOM_PYTHON + `

def expected(seed, count, offset):
    out = bytearray()
    for i in range(count):
        s = xsrandom(seed + offset + i)
        xrandom(s); xrandom(s)
        out.append(xrandom(s) & 255)
    return bytes(out)
`;

const PRELUDE = EXPECTED.trim().replaceAll("\n", "\n      ");

describe.each(servers)("random plugin serves nbdkit's bytes ($name)", (server) => {
  test("reads at aligned and unaligned offsets hold nbdkit's bytes for seed=42", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["random", "1M", "seed=42"],
      `
      import hashlib
      ${PRELUDE}
      h = connect()
      reads = [(64, 0), (1, 1), (100, 4095), (3000, 70000), (7, 1024 * 1024 - 7)]
      report(first=bytes(h.pread(16, 0)).hex(),
             matches=[bytes(h.pread(count, offset)) == expected(42, count, offset) for count, offset in reads],
             digest=hashlib.sha256(h.pread(1024 * 1024, 0)).hexdigest())
    `,
    );
    expect(result).toEqual({
      first: "a16730e21cb6f8750dc6ae014f2a46e4",
      matches: [true, true, true, true, true],
      // sha256 of the whole disk as nbdkit 1.32.5 serves it: random 1M seed=42
      digest: "95de5c69ffcb5979eade6fcff57f11dffc677db71ff135da56c745563792b9f0",
    });
  });

  test("offsets past 2^53 are exact on a random disk of 2^63-1 bytes", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["random", String(2n ** 63n - 1n), "seed=4294967295"],
      `
      ${PRELUDE}
      h = connect()
      size = h.get_size()
      reads = [(16, size - 16), (24, 2 ** 53 - 4), (8, 2 ** 62 + 8), (70000, 2 ** 32 - 100)]
      report(size=str(size),
             matches=[bytes(h.pread(count, offset)) == expected(4294967295, count, offset) for count, offset in reads])
    `,
    );
    expect(result).toEqual({ size: "9223372036854775807", matches: [true, true, true, true] });
  });

  test("writing back what was read succeeds; other writes, trims and zeroes fail with EIO", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["random", "1M", "seed=7"],
      `
      h = connect()
      data = bytearray(h.pread(10000, 5000))
      same = outcome(lambda: h.pwrite(bytes(data), 5000))
      data[1234] ^= 1
      changed = outcome(lambda: h.pwrite(bytes(data), 5000))
      report(same=same, changed=changed,
             trim=outcome(lambda: h.trim(4096, 0)),
             zero=outcome(lambda: h.zero(4096, 0)),
             unchanged=bytes(h.pread(10000, 5000)) == bytes(data[:1234]) + bytes([data[1234] ^ 1]) + bytes(data[1235:]))
    `,
    );
    expect(result).toEqual({
      same: "ok",
      changed: "EIO",
      trim: "EIO",
      zero: "EIO",
      unchanged: true,
    });
  });

  test("the disk is writable, shareable and all data, without flush or fast zero", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["random", "1M"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      report(read_only=h.is_read_only(), multi_conn=h.can_multi_conn(), cache=h.can_cache(),
             flush=h.can_flush(), fua=h.can_fua(), trim=h.can_trim(), zero=h.can_zero(),
             fast_zero=h.can_fast_zero(), extents=extents(h, 1024 * 1024, 0))
    `,
    );
    expect(result).toEqual({
      read_only: false,
      multi_conn: true,
      cache: true,
      flush: false,
      fua: false,
      trim: true,
      zero: true,
      fast_zero: false,
      extents: [[1048576, 0]],
    });
  });

  test("random without a size serves an empty disk", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(server, ["random"], `report(size=connect().get_size())`);
    expect(result).toEqual({ size: 0 });
  });
});
