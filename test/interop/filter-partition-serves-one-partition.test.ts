/**
 * --filter=partition (man nbdkit-partition-filter) serves one partition of a disk partitioned
 * with MBR (primaries 1-4, logical partitions 5 and up through the EBR chain) or GPT: its size,
 * its bytes, writes landing inside it, its map, and nbdkit's refusals. The images are made by
 * sfdisk, and by sgdisk when it is installed; the file plugin serves them to both servers.
 */

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { scratchDir } from "../helpers/captive.ts";
import { filterHelp, mapOf, refusedExport, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import {
  gptDisk,
  mbrDisk,
  type Partition,
  SECTOR,
  sgdiskDisk,
  tablesExpression,
} from "../helpers/partitioned-disk.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

/** What a client sees of partition `number`: its size and the bytes at both ends. */
async function seen(server: Server, image: string, number: number) {
  return await libnbd(
    server,
    ["--filter=partition", "file", image, `partition=${number}`],
    `
    h = connect()
    size = h.get_size()
    report(size=size, first=h.pread(1, 0)[0], last=h.pread(1, size - 1)[0])
  `,
  );
}

/** What each partition must look like: its number at both ends. */
function expected(part: Partition) {
  return { size: part.size * SECTOR, first: part.number, last: part.number };
}

describe.each(servers)("partition filter ($name)", (server) => {
  test("MBR: primary and logical partitions, each its size and its own bytes", async (context) => {
    requireClients(context, "nbdsh", "sfdisk");
    const { image, partitions } = mbrDisk(scratchDir());
    expect(partitions.map((part) => part.number)).toEqual([1, 2, 5, 6]);
    for (const part of partitions) {
      expect(await seen(server, image, part.number)).toEqual(expected(part));
    }
  });

  test("MBR: the extended partition, an empty slot and a missing logical are refused", async (context) => {
    requireClients(context, "nbdinfo", "sfdisk");
    const { image } = mbrDisk(scratchDir());
    for (const number of [3, 4, 7]) {
      expect(
        await refusedExport(server, ["--filter=partition", "file", image, `partition=${number}`]),
      )
        .toContain(`MBR partition ${number} not found`);
    }
  });

  test("GPT by sfdisk: each partition, and nbdkit's refusals past them", async (context) => {
    requireClients(context, "nbdsh", "nbdinfo", "sfdisk");
    const { image, partitions } = gptDisk(scratchDir());
    for (const part of partitions) {
      expect(await seen(server, image, part.number)).toEqual(expected(part));
    }
    const args = (number: number) => ["--filter=partition", "file", image, `partition=${number}`];
    expect(await refusedExport(server, args(4))).toContain("GPT partition 4 not found");
    expect(await refusedExport(server, args(129))).toContain("GPT partition number out of range");
  });

  test("GPT by sgdisk: partitions around an unused entry", async (context) => {
    requireClients(context, "nbdsh", "nbdinfo", "sfdisk", "sgdisk");
    const { image, partitions } = sgdiskDisk(scratchDir());
    expect(partitions.map((part) => part.number)).toEqual([1, 3]);
    for (const part of partitions) {
      expect(await seen(server, image, part.number)).toEqual(expected(part));
    }
    expect(await refusedExport(server, ["--filter=partition", "file", image, "partition=2"]))
      .toContain("GPT partition 2 not found");
  });

  test("writes land inside the partition, and end at its end", async (context) => {
    requireClients(context, "nbdsh", "sfdisk");
    const { image, partitions } = mbrDisk(scratchDir());
    const logical = partitions.find((part) => part.number === 5)!;
    const result = await libnbd(
      server,
      ["--filter=partition", "file", image, "partition=5"],
      `
      h = connect()
      h.pwrite(b"hello", 100, nbd.CMD_FLAG_FUA)
      report(past_end=outcome(lambda: h.pwrite(b"x", h.get_size())))
    `,
    );
    expect(result).toEqual({ past_end: "ENOSPC" });
    const at = logical.start * SECTOR + 100;
    expect(new TextDecoder().decode(readFileSync(image).subarray(at, at + 5))).toBe("hello");
  });

  test("the map is the partition's own", async (context) => {
    requireClients(context, "nbdinfo", "sfdisk");
    const { image, partitions } = mbrDisk(scratchDir());
    const logical = partitions.find((part) => part.number === 5)!;
    const start = logical.start * SECTOR; // a multiple of 32 KiB: both allocators' pages agree
    const expression = tablesExpression(image, partitions, `@${start + 32768} (5)*32768`);
    const size = logical.size * SECTOR;
    expect(await mapOf(server, ["--filter=partition", "data", expression, "partition=5"]))
      .toEqual([
        { offset: 0, length: 32768, type: 3, description: "hole,zero" },
        { offset: 32768, length: 32768, type: 0, description: "data" },
        { offset: 65536, length: size - 65536, type: 3, description: "hole,zero" },
      ]);
  });

  test("a disk without a table, or too small for one, is refused when opened", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await refusedExport(server, ["--filter=partition", "memory", "1M", "partition=1"]))
      .toContain("disk does not contain MBR or GPT partition table signature");
    expect(await refusedExport(server, ["--filter=partition", "memory", "1000", "partition=1"]))
      .toContain("disk is too small to be a partitioned disk");
  });

  test("partition= is required, from 1, and --help shows nbdkit's parameter", async () => {
    const stack = ["--filter=partition", "memory", "1M"];
    expect(await refusedStart(server, stack)).toContain(
      "you must supply the partition parameter on the command line",
    );
    expect(await refusedStart(server, [...stack, "partition=0"])).toContain(
      "invalid partition number",
    );
    expect(await refusedStart(server, [...stack, "partition=-1"])).toContain(
      "partition: negative numbers are not allowed",
    );
    expect(await filterHelp(server, "partition")).toBe(
      "partition=<PART>    (required) The partition number (counting from 1).",
    );
  });
});
