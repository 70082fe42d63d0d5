/**
 * MBR tables built byte by byte here (each entry: type at +4, start sector at +8, sectors at
 * +12), read as nbdkit's partition filter reads them, including broken EBR chains.
 */

import { describe, expect, test } from "vitest";
import { findMbrPartition } from "../../../src/filters/partition/mbr.ts";
import { findPartition } from "../../../src/filters/partition/partition.ts";

const SECTOR = 512;

/** A disk of `sectors` sectors, with helpers to write boot records into it. */
function disk(sectors: number) {
  const bytes = new Uint8Array(sectors * SECTOR);
  const view = new DataView(bytes.buffer);
  return {
    bytes,
    read: (count: number, offset: bigint) =>
      Promise.resolve(bytes.slice(Number(offset), Number(offset) + count)),
    /** Entry `i` of the boot record at `sector`, and its 55 AA signature. */
    entry(sector: number, i: number, type: number, start: number, count: number) {
      const at = sector * SECTOR + 0x1be + i * 16;
      bytes[at + 4] = type;
      view.setUint32(at + 8, start, true);
      view.setUint32(at + 12, count, true);
      bytes[sector * SECTOR + 0x1fe] = 0x55;
      bytes[sector * SECTOR + 0x1ff] = 0xaa;
    },
  };
}

/** Primaries 1 (sectors 64-191) and 2 (an extended 256-1023, logicals 5 to 7), slot 4 empty. */
function chained() {
  const d = disk(2048);
  d.entry(0, 0, 0x83, 64, 128);
  d.entry(0, 1, 0x0f, 256, 768);
  d.entry(256, 0, 0x83, 8, 100); // logical 5 at 264, relative to its EBR
  d.entry(256, 1, 0x05, 200, 200); // next EBR at 256 + 200, relative to the extended partition
  d.entry(456, 0, 0x83, 8, 100); // logical 6 at 464
  d.entry(456, 1, 0x05, 400, 200); // next EBR at 656
  d.entry(656, 0, 0x83, 16, 300); // logical 7 at 672: ends at 972, inside the extended
  return d;
}

const find = (d: ReturnType<typeof disk>, n: number) =>
  findMbrPartition(d.read, BigInt(d.bytes.length), d.bytes.subarray(0, SECTOR), n);
const at = (start: number, sectors: number) => ({
  offset: BigInt(start * SECTOR),
  range: BigInt(sectors * SECTOR),
});

describe("MBR partitions", () => {
  test("primary partitions are the four entries; empty and extended slots are not found", async () => {
    const d = chained();
    expect(await find(d, 1)).toEqual(at(64, 128));
    await expect(find(d, 2)).rejects.toThrow("MBR partition 2 not found");
    await expect(find(d, 4)).rejects.toThrow("MBR partition 4 not found");
  });

  test("logical partitions follow the EBR chain, each relative to its EBR", async () => {
    const d = chained();
    expect(await find(d, 5)).toEqual(at(264, 100));
    expect(await find(d, 6)).toEqual(at(464, 100));
    expect(await find(d, 7)).toEqual(at(672, 300));
    await expect(find(d, 8)).rejects.toThrow("MBR partition 8 not found");
  });

  test("a logical partition without an extended one is refused", async () => {
    const d = disk(64);
    d.entry(0, 0, 0x83, 1, 10);
    await expect(find(d, 5)).rejects.toThrow(
      "MBR logical partition selected, but there is no extended partition in the partition table",
    );
  });

  test("a chain that goes back, or leaves the disk, is invalid", async () => {
    const back = chained();
    back.entry(456, 1, 0x05, 100, 200); // next EBR at 356: before this one
    await expect(find(back, 7)).rejects.toThrow(
      `invalid EBR chain: next EBR ${356 * SECTOR} <= current EBR ${456 * SECTOR}`,
    );
    const out = chained();
    out.entry(456, 1, 0x05, 1792, 200); // next EBR at 2048: the disk's end
    await expect(find(out, 7)).rejects.toThrow(
      "invalid EBR chain: next EBR boot sector is located outside disk boundary",
    );
  });

  test("a logical partition running out of its extended partition is refused", async () => {
    const d = chained();
    d.entry(656, 0, 0x83, 16, 400); // 672 + 400 > 1024
    await expect(find(d, 7)).rejects.toThrow(
      `logical partition start or size out of range (offset=${672 * SECTOR}, ` +
        `range=${400 * SECTOR}, ep:startsect=256, ep:nrsects=768)`,
    );
  });

  test("the disk must have a signature, be two sectors long, and hold the partition", async () => {
    const d = chained();
    expect(await findPartition(d.read, BigInt(d.bytes.length), 5)).toMatchObject({
      kind: "MBR",
      ...at(264, 100),
    });
    await expect(findPartition(d.read, 1000n, 1)).rejects.toThrow(
      "disk is too small to be a partitioned disk",
    );
    const blank = disk(4);
    await expect(findPartition(blank.read, 2048n, 1)).rejects.toThrow(
      "disk does not contain MBR or GPT partition table signature",
    );
    const beyond = disk(128);
    beyond.entry(0, 0, 0x83, 64, 128);
    await expect(findPartition(beyond.read, 128n * 512n, 1)).rejects.toThrow(
      "partition is outside the disk",
    );
  });
});
