/**
 * file [file=]PATH: what clients write lands in the backing file and what is in the file is
 * what they read (nbdcopy, qemu-img convert, libnbd), with flush, FUA and zeroing.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { holesUnsupported } from "../helpers/sparse-files.ts";

const MIB = 1024 * 1024;

/** Bytes that differ at every offset and from one file to the next. */
function patterned(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed + (i >> 9)) & 0xff;
  return out;
}

describe.each(servers)("file plugin round trips ($name)", (server) => {
  test("nbdcopy reads the file out unchanged", async (context) => {
    requireClients(context, "nbdcopy");
    const dir = scratchDir();
    const disk = join(dir, "disk.img");
    const copy = join(dir, "copy.img");
    writeFileSync(disk, patterned(3 * MIB + 512, 7));
    expectSuccess(await captive(server, ["file", disk], `nbdcopy "$uri" ${copy}`));
    expect(Buffer.compare(readFileSync(copy), readFileSync(disk))).toBe(0);
  });

  test("qemu-img convert writes an image into the file", async (context) => {
    requireClients(context, "qemu-img");
    const dir = scratchDir();
    const disk = join(dir, "disk.img");
    const source = join(dir, "source.img");
    const data = patterned(2 * MIB, 99);
    writeFileSync(source, data);
    writeFileSync(disk, new Uint8Array(2 * MIB));
    expectSuccess(
      await captive(
        server,
        ["file", `file=${disk}`],
        `qemu-img convert -n -f raw -O raw ${source} "$nbd"`,
      ),
    );
    expect(Buffer.compare(readFileSync(disk), data)).toBe(0);
  });

  test("libnbd writes, FUA writes, zeroes and flushes reach the file", async (context) => {
    requireClients(context, "python3");
    const disk = join(scratchDir(), "disk.img");
    writeFileSync(disk, new Uint8Array(MIB).fill(0xff));
    const reported = await libnbd(
      server,
      ["file", disk],
      `
      h = connect()
      h.pwrite(b"written", 4096)
      h.pwrite(b"durable", 8192, nbd.CMD_FLAG_FUA)
      h.zero(65536, 65536)
      h.flush()
      with open(${JSON.stringify(disk)}, "rb") as f:
          seen = f.read()
      report(
        first=seen[4096:4103].decode(), fua=seen[8192:8199].decode(),
        zeroed=sorted(set(seen[65536:131072])), after=seen[131072],
        size=len(seen), read=h.pread(7, 4096).decode(),
      )
      `,
    );
    expect(reported).toEqual({
      first: "written",
      fua: "durable",
      zeroed: [0],
      after: 0xff,
      size: MIB,
      read: "written",
    });
  });

  test("the export flushes natively, allows multi-conn, trims where it can punch holes and never zeroes fast", async (context) => {
    requireClients(context, "python3");
    const disk = join(scratchDir(), "disk.img");
    writeFileSync(disk, new Uint8Array(MIB));
    const reported = await libnbd(
      server,
      ["file", disk],
      `
      h = connect()
      if h.can_trim(): h.trim(4096, 0)
      report(
        read_only=h.is_read_only(), flush=h.can_flush(), fua=h.can_fua(),
        multi_conn=h.can_multi_conn(), trim=h.can_trim(), zero=h.can_zero(),
        fast_zero=h.can_fast_zero(), cache=h.can_cache(),
      )
      `,
    );
    expect(reported).toEqual({
      read_only: false,
      flush: true,
      fua: true,
      multi_conn: true,
      trim: holesUnsupported(server) === undefined,
      zero: true,
      fast_zero: false,
      cache: true,
    });
  });

  test("a file that grows is seen at its new size by the next connection", async (context) => {
    requireClients(context, "nbdinfo");
    const disk = join(scratchDir(), "disk.img");
    writeFileSync(disk, new Uint8Array(4096));
    const { stdout } = expectSuccess(
      await captive(
        server,
        ["file", disk],
        `nbdinfo --size "$uri"; truncate -s 8192 ${disk}; nbdinfo --size "$uri"`,
      ),
    );
    expect(stdout.trim().split("\n")).toEqual(["4096", "8192"]);
  });
});
