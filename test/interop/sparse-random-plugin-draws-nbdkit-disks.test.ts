/**
 * The sparse-random plugin: for a given seed and shape, the holes, the extents reported for
 * them and every byte of data are those of nbdkit's sparse-random plugin. A Python
 * transcription of nbdkit's plugins/sparse-random/sparse-random.c (map drawn in get_ready,
 * blocks filled in read_block) says what each must be, and digests taken from nbdkit 1.32.5
 * pin whole disks.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { NBDKIT_RANDOM_PYTHON } from "../helpers/nbdkit-random-python.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/**
 * nbdkit's generator (common/include/random.h), the map of data blocks, the data of a block,
 * and a read: an unaligned first block is seeded from the read's own offset, as nbdkit 1.32's
 * sparse_random_pread seeds it.
 */
const EXPECTED = NBDKIT_RANDOM_PYTHON + `
BLOCK = 4096

def data_map(size, seed, percent=10.0, runlength=16 * 1024 * 1024):
    blocks = (size + BLOCK - 1) // BLOCK
    if percent == 0 or percent == 100:
        return [percent == 100] * blocks
    p_dh = 1.0 / (float(runlength) / BLOCK)
    p_hd = (percent / 100.0) * p_dh / (1.0 - percent / 100.0)
    s = xsrandom(seed)
    state, out = False, []
    for _ in range(blocks):
        out.append(state)
        if float(xrandom(s)) <= (p_dh if state else p_hd) * 18446744073709551616.0:
            state = not state
    return out

def runs(blocks, size):
    found = []
    for i, data in enumerate(blocks):
        kind = 0 if data else 3
        length = min(BLOCK, size - i * BLOCK)
        if found and found[-1][1] == kind:
            found[-1][0] += length
        else:
            found.append([length, kind])
    return found

def block_data(seed, at, length, random_content):
    s = xsrandom(seed + at)
    if not random_content:
        return bytes([xrandom(s) & 255 or 1]) * length
    return bytes(xrandom(s) & 255 for _ in range(length))

def expected(blocks, seed, random_content, count, offset):
    out = b""
    while count > 0:
        within = offset % BLOCK
        n = min(BLOCK - within, count)
        if blocks[offset // BLOCK]:
            out += block_data(seed, offset, within + n, random_content)[within:]
        else:
            out += bytes(n)
        offset += n
        count -= n
    return out

def digest(h):
    import hashlib
    sha = hashlib.sha256()
    for offset in range(0, h.get_size(), 4 * 1024 * 1024):
        sha.update(h.pread(min(4 * 1024 * 1024, h.get_size() - offset), offset))
    return sha.hexdigest()

def data_offsets(blocks, want):
    return [i * BLOCK for i, data in enumerate(blocks) if data][:want]
`;

const PRELUDE = EXPECTED.trim().replaceAll("\n", "\n      ");

/** 64 MiB, half data, runs of 16 blocks on average: many short runs of both kinds. */
const CHOPPY = ["sparse-random", "64M", "seed=1234", "percent=50", "runlength=65536"];

describe.each(servers)("sparse-random plugin draws nbdkit's disks ($name)", (server) => {
  test("with default percent and run length, holes and extents are nbdkit's for the seed", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["sparse-random", "1G", "seed=1"],
      `
      ${PRELUDE}
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      size = h.get_size()
      blocks = data_map(size, 1)
      report(extents=extents(h, size, 0) == runs(blocks, size), data_runs=sum(1 for r in runs(blocks, size) if r[1] == 0))
    `,
    );
    expect(result).toEqual({ extents: true, data_runs: 5 });
  });

  test("a data block repeats one non-zero byte, and reads of any alignment match nbdkit", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      CHOPPY,
      `
      ${PRELUDE}
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      size = h.get_size()
      blocks = data_map(size, 1234, 50.0, 65536)
      at = data_offsets(blocks, 3)
      reads = [(4096, at[0]), (1, at[1] + 100), (10000, at[1] - 3000), (65536 + 7, at[2] + 5), (100, size - 100)]
      report(extents=extents(h, size, 0) == runs(blocks, size),
             matches=[bytes(h.pread(count, offset)) == expected(blocks, 1234, False, count, offset) for count, offset in reads],
             digest=digest(h))
    `,
    );
    expect(result).toEqual({
      extents: true,
      matches: [true, true, true, true, true],
      // sha256 of the whole disk as nbdkit 1.32.5 serves it, read in aligned 4 MiB pieces
      digest: "cfe43aef9caf87366e31cce4fcea7c3ff44d7d30edec1c42e26c254725394641",
    });
  });

  test("random-content=true fills data blocks with nbdkit's random sequence", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      [...CHOPPY, "random-content=true"],
      `
      ${PRELUDE}
      h = connect()
      size = h.get_size()
      blocks = data_map(size, 1234, 50.0, 65536)
      at = data_offsets(blocks, 3)
      reads = [(4096, at[0]), (1, at[1] + 100), (10000, at[1] - 3000), (65536 + 7, at[2] + 5)]
      report(matches=[bytes(h.pread(count, offset)) == expected(blocks, 1234, True, count, offset) for count, offset in reads],
             digest=digest(h))
    `,
    );
    expect(result).toEqual({
      matches: [true, true, true, true],
      digest: "55c11b36a02a69f483c2ade49e1a2de420b6f94e16e9ada308ca20123fa772f6",
    });
  });

  test("an unaligned read seeds its first block from its own offset, as nbdkit 1.32 does", async (context) => {
    requireClients(context, "nbdsh");
    const body = `
      h = connect()
      report(aligned=bytes(h.pread(4096, 4096))[1:9].hex(), unaligned=bytes(h.pread(8, 4097)).hex())
    `;
    const shape = ["sparse-random", "1M", "seed=5", "percent=100"];
    const repeated = await libnbd(server, shape, body);
    const random = await libnbd(server, [...shape, "random-content=true"], body);
    expect(repeated).toEqual({ aligned: "2121212121212121", unaligned: "9595959595959595" });
    expect(random).toEqual({ aligned: "783986d5b6ab8110", unaligned: "cc049a1198a587eb" });
  });

  test("percent=0 is one hole and percent=100 is all data", async (context) => {
    requireClients(context, "nbdsh");
    const body = `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      report(extents=extents(h, h.get_size(), 0))
    `;
    const empty = await libnbd(server, ["sparse-random", "10M", "percent=0"], body);
    const full = await libnbd(server, ["sparse-random", "10M", "percent=100"], body);
    expect(empty).toEqual({ extents: [[10485760, 3]] });
    expect(full).toEqual({ extents: [[10485760, 0]] });
  });
});
