/**
 * --filter=luks writes as LUKS does: what a client writes through the filter in whole sectors
 * (nbdcopy, a write with FUA, zeroes) is what qemu's own LUKS driver then reads from the disk,
 * and what nbdkit's luks filter reads; what nbdkit's filter wrote, the server under test reads
 * back. Disks from `qemu-img create -f luks` (aes-256-xts-plain64).
 *
 * Writes that cover part of a sector are checked against qemu alone, and nbdkit is left out of
 * that test: nbdkit 1.32.5 re-enciphers such a sector without deciphering it first (so the rest
 * of the sector turns to garbage, zeroes that do not start on a sector too), and aborts on one
 * with FUA (its read-modify-write hands the flag to its read, and an assertion fails).
 */

import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { PASSPHRASE, qemuLuks, readLuks } from "../helpers/luks-disks.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

const SIZE = 2 * 1024 * 1024;
const NBDKIT: Server = { name: "nbdkit", argv: ["nbdkit"] };

function luks(image: string): string[] {
  return ["file", image, "--filter=luks", `passphrase=${PASSPHRASE}`];
}

/** A fresh qemu-made disk and random bytes for it, in a file. */
function freshDisk() {
  const dir = scratchDir();
  const image = qemuLuks(dir, "disk.luks", SIZE);
  const source = join(dir, "source.raw");
  const bytes = randomBytes(SIZE);
  writeFileSync(source, bytes);
  return { image, source, bytes };
}

/** Copies the source over the payload through `server`, then edits it in `edits` (Python). */
async function writeThrough(server: Server, image: string, source: string, edits: string) {
  expectSuccess(await captive(server, luks(image), `nbdcopy ${source} "$uri"`));
  await libnbd(
    server,
    luks(image),
    `
    h = connect(lambda h: h.set_strict_mode(h.get_strict_mode() & ~nbd.STRICT_ALIGN))
    ${edits}
    h.flush()
    report()
  `,
  );
}

const WHOLE_SECTORS = `h.pwrite(b"F" * 1024, 8192, nbd.CMD_FLAG_FUA); h.zero(4096, 65536)`;

function wholeSectorsEdited(source: Uint8Array): Uint8Array {
  const expected = Uint8Array.from(source);
  expected.fill("F".charCodeAt(0), 8192, 9216);
  expected.fill(0, 65536, 69632);
  return expected;
}

/** The payload as `server`'s luks filter reads it, through nbdcopy. */
async function readThrough(server: Server, image: string): Promise<Uint8Array> {
  const out = join(scratchDir(), "read.raw");
  expectSuccess(await captive(server, luks(image), `nbdcopy "$uri" ${out}`));
  return readFileSync(out);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

describe.each(servers)("luks filter ($name)", (server) => {
  test("whole sectors it writes, qemu and nbdkit read back", async (context) => {
    requireClients(context, "nbdcopy", "nbdsh", "qemu-img", "nbdkit");
    const { image, source, bytes } = freshDisk();
    await writeThrough(server, image, source, WHOLE_SECTORS);
    const expected = wholeSectorsEdited(bytes);
    expect(sameBytes(readLuks(image), expected)).toBe(true);
    expect(sameBytes(await readThrough(NBDKIT, image), expected)).toBe(true);
  });

  test("what nbdkit's luks filter wrote, it reads back", async (context) => {
    requireClients(context, "nbdcopy", "nbdsh", "qemu-img", "nbdkit");
    const { image, source, bytes } = freshDisk();
    await writeThrough(NBDKIT, image, source, WHOLE_SECTORS);
    expect(sameBytes(await readThrough(server, image), wholeSectorsEdited(bytes))).toBe(true);
  });
});

describe.each(servers.filter((server) => server.name !== "nbdkit"))(
  "luks filter ($name)",
  (server) => {
    test("writes and zeroes over part of a sector leave the rest of it", async (context) => {
      requireClients(context, "nbdcopy", "nbdsh", "qemu-img");
      const { image, source, bytes } = freshDisk();
      await writeThrough(
        server,
        image,
        source,
        `h.pwrite(b"across a sector boundary", 1000)
    h.pwrite(b"!", ${SIZE - 1}, nbd.CMD_FLAG_FUA)
    h.zero(5000, 70000)`,
      );
      const expected = Uint8Array.from(bytes);
      expected.set(new TextEncoder().encode("across a sector boundary"), 1000);
      expected[SIZE - 1] = "!".charCodeAt(0);
      expected.fill(0, 70000, 75000);
      expect(sameBytes(readLuks(image), expected)).toBe(true);
      expect(sameBytes(await readThrough(server, image), expected)).toBe(true);
    });
  },
);
