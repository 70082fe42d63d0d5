/**
 * S3, on the local Ceph RADOS Gateway: trimming or zeroing whole objects deletes them (seen in the
 * store's own listing) and they read as zeroes; zeroing part of an object zeroes just those bytes.
 * nbdinfo --map shows objects that do not exist as holes — nbdkit's S3 plugin reports no extents
 * (the whole disk is data), so that test runs against nbdts alone. The partial zero asks NO_HOLE:
 * nbdkit 1.32.5's plugin, allowed to trim, only trims, and leaves the bytes of a part of an object
 * as they were (nbdts zeroes them either way).
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { newBucket } from "../helpers/s3-store.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const KIB = 1024;
const DISK = ["size=1M", "object-size=64K"];
/** nbdinfo --map's lines as [offset, length, type]. */
const mapOf = (text: string) =>
  text.trim().split("\n").map((line) => line.trim().split(/\s+/).slice(0, 3).map(Number));
const key = (index: number) => `disk/${index.toString(16).padStart(16, "0")}`;

describe.each(servers)("S3 plugin trims, zeroes and maps objects ($name)", (server) => {
  test("trim and zero of whole objects delete them; a partial zero keeps the rest", async (context) => {
    requireClients(context, "python3");
    const bucket = await newBucket(context);
    const reported = await libnbd(
      server,
      bucket.plugin("disk", ...DISK),
      `
      h = connect()
      h.set_strict_mode(0)
      h.pwrite(b"\\x5a" * (1024 * 1024), 0)
      h.trim(128 * 1024, 64 * 1024)          # objects 1 and 2
      h.zero(64 * 1024, 320 * 1024)          # object 5
      h.zero(1000, 448 * 1024 + 100, nbd.CMD_FLAG_NO_HOLE)  # part of object 7
      h.flush()
      report(
        trimmed=h.pread(128 * 1024, 64 * 1024) == bytes(128 * 1024),
        zeroed=h.pread(64 * 1024, 320 * 1024) == bytes(64 * 1024),
        part=h.pread(1200, 448 * 1024).hex(),
        multi_conn=h.can_multi_conn(), flush=h.can_flush(), fua=h.can_fua(),
        trim=h.can_trim(), zero=h.can_zero(),
      )
      `,
    );
    expect(reported).toMatchObject({
      trimmed: true,
      zeroed: true,
      multi_conn: true,
      flush: true,
      fua: true,
      trim: true,
      zero: true,
    });
    expect(reported.part).toBe("5a".repeat(100) + "00".repeat(1000) + "5a".repeat(100));
    const keys = (await bucket.list("disk/")).map((entry) => entry.key);
    expect(keys).toEqual([0, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map(key));
  });

  test.skipIf(server.name === "nbdkit")(
    "nbdinfo --map shows absent objects as holes and written ones as data",
    async (context) => {
      requireClients(context, "nbdinfo", "nbdsh");
      const bucket = await newBucket(context);
      const { stdout } = expectSuccess(
        await captive(
          server,
          bucket.plugin("disk", ...DISK),
          `nbdsh -u "$uri" -c 'h.pwrite(b"x" * 100, 130 * 1024)' -c 'h.pwrite(b"y" * 65536, 65536 * 9)' && nbdinfo --map "$uri"`,
        ),
      );
      expect(mapOf(stdout)).toEqual([
        [0, 128 * KIB, 3],
        [128 * KIB, 64 * KIB, 0],
        [192 * KIB, 384 * KIB, 3],
        [576 * KIB, 64 * KIB, 0],
        [640 * KIB, 384 * KIB, 3],
      ]);
    },
  );
});
