/**
 * --filter=luks (man nbdkit-luks-filter) serves the decrypted payload of a LUKSv1 disk made by
 * `qemu-img create -f luks` (aes-256-xts-plain64, sha256): the bytes qemu wrote through its own
 * LUKS driver, the payload's size, and the same flags, block sizes, map and help as nbdkit
 * (no trim, no fast zero, zero and cache emulated, no extents: all data). The block size
 * maximum is left out: nbdts caps what it advertises at its largest request (README, Limits).
 */

import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { scratchDir } from "../helpers/captive.ts";
import { ALL_FLAGS, filterHelp, mapOf, withFlags } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { fillLuks, PASSPHRASE, qemuLuks } from "../helpers/luks-disks.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const SIZE = 4 * 1024 * 1024;

/**
 * A qemu-made LUKS disk holding random bytes (also written beside it, as the source), made
 * once for every test here, as qemu-img takes seconds to time PBKDF2 first. Only read.
 */
let disk: { image: string; source: string } | undefined;
/** Outside any test, so kept until the process exits. */
const DIR = scratchDir();

function filledDisk() {
  if (disk === undefined) {
    const image = qemuLuks(DIR, "disk.luks", SIZE);
    fillLuks(image, randomBytes(SIZE));
    disk = { image, source: `${image}.source` };
  }
  return disk;
}

describe.each(servers)("luks filter ($name)", (server) => {
  test("the payload reads as qemu wrote it, whole and unaligned", async (context) => {
    requireClients(context, "nbdsh", "qemu-img");
    const { image, source } = filledDisk();
    const result = await libnbd(
      server,
      ["file", image, "--filter=luks", `passphrase=${PASSPHRASE}`],
      withFlags(`
      # libnbd refuses requests unaligned to the advertised minimum unless told not to check.
      h = connect(lambda h: h.set_strict_mode(h.get_strict_mode() & ~nbd.STRICT_ALIGN))
      source = open(${JSON.stringify(source)}, "rb").read()
      size = h.get_size()
      report(size=size, same=h.pread(size, 0) == source,
             unaligned=h.pread(1000, 12345) == source[12345:13345],
             tail=h.pread(3, size - 3) == source[-3:],
             flags=flags(h),
             blocks=[h.get_block_size(nbd.SIZE_MINIMUM), h.get_block_size(nbd.SIZE_PREFERRED)])
    `),
    );
    expect(result).toEqual({
      size: SIZE,
      same: true,
      unaligned: true,
      tail: true,
      flags: { ...ALL_FLAGS, trim: false, fast_zero: false },
      blocks: [512, 512],
    });
  });

  test("the map is one data extent: extents are not offered", async (context) => {
    requireClients(context, "nbdinfo", "qemu-img");
    const { image } = filledDisk();
    expect(await mapOf(server, ["file", image, "--filter=luks", `passphrase=${PASSPHRASE}`]))
      .toEqual([{ offset: 0, length: SIZE, type: 0, description: "data" }]);
  });

  test("--help names the passphrase parameter", async () => {
    expect(await filterHelp(server, "luks")).toBe("passphrase=<SECRET>      Secret passphrase.");
  });
});
