/**
 * A disk made of a script: the sh plugin serves what the script's methods say, so a script
 * over a file (dd for pread and pwrite, fallocate for trim and zero, as nbdkit's own example.sh
 * does) is a disk real clients copy in and out byte for byte, zero and trim, and whose map
 * (extents, "OFFSET LENGTH TYPE" lines with sizes and words) nbdinfo prints as nbdkit prints it.
 */

import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { writeScript } from "../helpers/scripts.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const MiB = 1024 * 1024;

/** A script serving the file at `disk`, every method given, as nbdkit's example.sh does. */
function fileScript(disk: string): string {
  return writeScript(`
f='${disk}'
case "$1" in
  thread_model) echo parallel ;;
  get_size) stat -L -c %s "$f" ;;
  can_write|can_flush|can_trim|can_zero|can_multi_conn) exit 0 ;;
  can_fua|can_cache) echo native ;;
  pread) dd if="$f" skip=$4 count=$3 iflag=count_bytes,skip_bytes status=none ;;
  pwrite) dd of="$f" seek=$4 conv=notrunc oflag=seek_bytes status=none ;;
  flush) sync "$f" ;;
  trim) fallocate -p -o $4 -l $3 -n "$f" ;;
  zero) fallocate -z -o $4 -l $3 -n "$f" ;;
  cache) exit 0 ;;
  *) exit 2 ;;
esac
`);
}

describe.each(servers)("the sh plugin serves the disk its script describes ($name)", (server) => {
  test("nbdcopy copies a file in and out through the script, byte for byte", async (context) => {
    requireClients(context, "nbdcopy");
    const dir = scratchDir();
    const disk = join(dir, "disk.img");
    const source = join(dir, "source.img");
    const copy = join(dir, "copy.img");
    const data = randomBytes(2 * MiB);
    writeFileSync(source, data);
    writeFileSync(disk, new Uint8Array(2 * MiB));
    expectSuccess(
      await captive(
        server,
        ["sh", fileScript(disk)],
        `nbdcopy '${source}' "$uri" && nbdcopy "$uri" '${copy}'`,
      ),
    );
    expect(readFileSync(disk).equals(data)).toBe(true);
    expect(readFileSync(copy).equals(data)).toBe(true);
  });

  test("flags, FUA writes, zero, trim, cache and flush reach the script", async (context) => {
    requireClients(context, "nbdsh");
    const disk = join(scratchDir(), "disk.img");
    writeFileSync(disk, new Uint8Array(MiB).fill(0x55));
    const result = await libnbd(
      server,
      ["sh", fileScript(disk)],
      `
      h = connect()
      flags = [h.can_flush(), h.can_fua(), h.can_trim(), h.can_zero(), h.can_fast_zero(),
               h.can_multi_conn(), h.can_cache(), h.is_read_only(), h.is_rotational()]
      h.pwrite(b"\\xaa" * 4096, 8192, nbd.CMD_FLAG_FUA)
      h.zero(4096, 0, nbd.CMD_FLAG_FUA)
      h.trim(4096, 4096)
      h.cache(65536, 0)
      h.flush()
      report(flags=flags, size=h.get_size(),
             head=bytes(h.pread(12288, 0)).hex())
    `,
    );
    expect(result).toEqual({
      // can_fast_zero is missing: nbdkit answers "not can_zero", and can_zero is true.
      flags: [true, true, true, true, false, true, true, false, false],
      size: MiB,
      head: "00".repeat(8192) + "aa".repeat(4096),
    });
  });

  test("extents: sizes, numbers and words, as nbdinfo --map prints them", async (context) => {
    requireClients(context, "nbdinfo");
    const script = writeScript(`
case "$1" in
  get_size) echo 4M ;;
  pread) dd if=/dev/zero count=$3 iflag=count_bytes status=none ;;
  can_extents) exit 0 ;;
  extents)
    echo 0 64K
    echo 64K 64K 3
    printf '128K\\t896K\\thole,zero\\n'
    echo 1M 1M zero
    echo 2M 2M hole ;;
  *) exit 2 ;;
esac
`);
    const { stdout } = expectSuccess(await captive(server, ["sh", script], 'nbdinfo --map "$uri"'));
    expect(stdout.trim().split("\n").map((line) => line.trim().split(/\s+/))).toEqual([
      ["0", "65536", "0", "data"],
      ["65536", "983040", "3", "hole,zero"],
      ["1048576", "1048576", "2", "zero"],
      ["2097152", "2097152", "1", "hole"],
    ]);
  });
});
