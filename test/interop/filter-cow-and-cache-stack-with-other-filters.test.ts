/**
 * The cow and cache filters stack with others in command-line order, as in nbdkit: a partition
 * served through cow is writable while the image stays as it was, whichever of the two is
 * outermost; cow over cache and cache over cow copy a disk in and out intact, the plugin's
 * file untouched; and the flags offered are nbdkit's for each order.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir, shellQuote } from "../helpers/captive.ts";
import { numberedBlocks } from "../helpers/call-log-plugin.ts";
import { ALL_FLAGS, withFlags } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { mbrDisk, SECTOR } from "../helpers/partitioned-disk.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const COW_FLAGS = { ...ALL_FLAGS, zero: false, fast_zero: false };

describe.each(servers)("cow and cache in stacks ($name)", (server) => {
  test("--filter=partition --filter=cow, and the other way round, write a partition, not the image", async (context) => {
    requireClients(context, "nbdsh", "sfdisk");
    const { image, partitions } = mbrDisk(scratchDir());
    const before = readFileSync(image);
    const part = partitions.find((found) => found.number === 5)!;
    for (
      const filters of [["--filter=partition", "--filter=cow"], [
        "--filter=cow",
        "--filter=partition",
      ]]
    ) {
      const result = await libnbd(
        server,
        [...filters, "file", image, "partition=5"],
        withFlags(`
        h = connect()
        size = h.get_size()
        first = h.pread(1, 0)[0]
        h.pwrite(b"partition five", 1000)
        h.trim(size - 2000, 2000)
        report(size=size, first=first, written=h.pread(14, 1000).decode(),
               last=h.pread(1, size - 1)[0], flags=flags(h))
      `),
      );
      expect(result).toEqual({
        size: part.size * SECTOR,
        first: 5,
        written: "partition five",
        last: 0,
        flags: COW_FLAGS,
      });
    }
    expect(readFileSync(image).equals(before)).toBe(true);
  });

  test("--filter=cow --filter=cache and --filter=cache --filter=cow copy in and out intact", async (context) => {
    requireClients(context, "nbdcopy");
    const dir = scratchDir();
    const image = join(dir, "disk.img");
    const original = numberedBlocks(4 * 1024 * 1024);
    writeFileSync(image, original);
    const source = join(dir, "source.img");
    const replacement = original.map((byte) => byte ^ 0x3c);
    writeFileSync(source, replacement);
    for (
      const filters of [["--filter=cow", "--filter=cache"], ["--filter=cache", "--filter=cow"]]
    ) {
      const back = join(dir, `back-${filters.join("")}.img`);
      const script = `nbdcopy ${shellQuote(source)} "$uri" && nbdcopy "$uri" ${shellQuote(back)}`;
      expectSuccess(
        await captive(server, [...filters, "file", image, "cache-on-read=true"], script),
      );
      expect(readFileSync(back).equals(replacement)).toBe(true);
    }
    expect(readFileSync(image).equals(original)).toBe(true);
  });

  test("flags in both orders are nbdkit's: zero goes with the read-only layer under cow", async (context) => {
    requireClients(context, "nbdsh");
    const report = withFlags("report(flags=flags(connect()))");
    for (
      const filters of [["--filter=cow", "--filter=cache"], ["--filter=cache", "--filter=cow"]]
    ) {
      expect(await libnbd(server, [...filters, "memory", "1M"], report)).toEqual({
        flags: COW_FLAGS,
      });
    }
  });
});
