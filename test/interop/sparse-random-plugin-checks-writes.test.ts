/**
 * The sparse-random plugin stores nothing: a write succeeds only when it writes what a read
 * returns, zero and trim succeed only on holes, flush always succeeds. So a copy of the disk
 * onto itself succeeds, as nbdkit-sparse-random-plugin(1) suggests for testing copying tools.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** 16 MiB, half data in short runs: both kinds of block are near the start. */
const DISK = ["sparse-random", "16M", "seed=99", "percent=50", "runlength=32768"];

/** Python: offsets of the first data block and the first hole, found through block status. */
const FIND_BLOCKS = `
h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
offset, data, hole = 0, None, None
for length, kind in extents(h, h.get_size(), 0):
    if kind == 0 and data is None:
        data = offset
    if kind == 3 and hole is None:
        hole = offset
    offset += length
`;

describe.each(servers)("sparse-random plugin checks writes ($name)", (server) => {
  test("writing what was read succeeds; changed data and data in a hole fail with EIO", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      DISK,
      `
      ${FIND_BLOCKS.trim().replaceAll("\n", "\n      ")}
      span = bytearray(h.pread(20000, data + 10))
      same = outcome(lambda: h.pwrite(bytes(span), data + 10))
      span[5000] ^= 0xff
      changed = outcome(lambda: h.pwrite(bytes(span), data + 10))
      report(same=same, changed=changed,
             zeroes_in_hole=outcome(lambda: h.pwrite(bytes(4096), hole)),
             data_in_hole=outcome(lambda: h.pwrite(b"x", hole + 7)),
             flush=outcome(lambda: h.flush()),
             fua=outcome(lambda: h.pwrite(bytes(512), hole, nbd.CMD_FLAG_FUA)))
    `,
    );
    expect(result).toEqual({
      same: "ok",
      changed: "EIO",
      zeroes_in_hole: "ok",
      data_in_hole: "EIO",
      flush: "ok",
      fua: "ok",
    });
  });

  test("zero and trim succeed on holes and fail with EIO where any block holds data", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      DISK,
      `
      ${FIND_BLOCKS.trim().replaceAll("\n", "\n      ")}
      report(zero_hole=outcome(lambda: h.zero(4096, hole)),
             trim_hole=outcome(lambda: h.trim(1000, hole + 100)),
             zero_data=outcome(lambda: h.zero(4096, data)),
             trim_data=outcome(lambda: h.trim(1, data + 4095)),
             zero_across=outcome(lambda: h.zero(2, data - 1)))
    `,
    );
    expect(result).toEqual({
      zero_hole: "ok",
      trim_hole: "ok",
      zero_data: "EIO",
      trim_data: "EIO",
      zero_across: "EIO",
    });
  });

  test("the disk is shareable, flushable and cacheable, without fast zero", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      DISK,
      `
      h = connect()
      report(read_only=h.is_read_only(), multi_conn=h.can_multi_conn(), cache=h.can_cache(),
             flush=h.can_flush(), fua=h.can_fua(), trim=h.can_trim(), zero=h.can_zero(),
             fast_zero=h.can_fast_zero())
    `,
    );
    expect(result).toEqual({
      read_only: false,
      multi_conn: true,
      cache: true,
      flush: true,
      fua: true,
      trim: true,
      zero: true,
      fast_zero: false,
    });
  });

  test("nbdcopy copies the disk onto itself", async (context) => {
    requireClients(context, "nbdcopy");
    expectSuccess(await captive(server, DISK, 'nbdcopy --flush "$uri" "$uri"'));
  });
});
