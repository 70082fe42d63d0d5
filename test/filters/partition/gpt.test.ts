/**
 * GPT tables built byte by byte here (the header at LBA 1, entries from LBA 2), read as
 * nbdkit's partition filter reads them, including lying headers.
 */

import { describe, expect, test } from "vitest";
import { findGptPartition } from "../../../src/filters/partition/gpt.ts";
import { findPartition } from "../../../src/filters/partition/partition.ts";

const SECTOR = 512;

function gpt(sectors: number, entries = 128, entrySize = 128) {
  const bytes = new Uint8Array(sectors * SECTOR);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode("EFI PART"), SECTOR);
  view.setUint32(SECTOR + 80, entries, true);
  view.setUint32(SECTOR + 84, entrySize, true);
  return {
    bytes,
    read: (count: number, offset: bigint) =>
      Promise.resolve(bytes.slice(Number(offset), Number(offset) + count)),
    /** Entry `i` (from 0): a non-zero type GUID, first and last LBA. */
    entry(i: number, first: bigint, last: bigint) {
      const at = 2 * SECTOR + i * entrySize;
      bytes[at] = 0xaf;
      view.setBigUint64(at + 32, first, true);
      view.setBigUint64(at + 40, last, true);
    },
  };
}

const find = (d: ReturnType<typeof gpt>, n: number) =>
  findGptPartition(d.read, BigInt(d.bytes.length), d.bytes.subarray(SECTOR, 2 * SECTOR), n);

describe("GPT partitions", () => {
  test("an entry with a type GUID is a partition from its first LBA to its last, included", async () => {
    const d = gpt(4096);
    d.entry(0, 2048n, 3071n);
    d.entry(2, 3072n, 3072n);
    expect(await find(d, 1)).toEqual({ offset: 2048n * 512n, range: 1024n * 512n });
    expect(await find(d, 3)).toEqual({ offset: 3072n * 512n, range: 512n });
    await expect(find(d, 2)).rejects.toThrow("GPT partition 2 not found");
    await expect(find(d, 129)).rejects.toThrow("GPT partition number out of range");
  });

  test("entries bigger than 128 bytes are stepped over by their size", async () => {
    const d = gpt(4096, 4, 256);
    d.entry(3, 100n, 199n);
    expect(await find(d, 4)).toEqual({ offset: 100n * 512n, range: 100n * 512n });
  });

  test("a header that lies about its entries is refused", async () => {
    await expect(find(gpt(4096, 128, 64), 1)).rejects.toThrow(
      "GPT partition entry size is < 128 bytes",
    );
    await expect(find(gpt(60, 128, 128), 1)).rejects.toThrow(
      "GPT partition table is too large for this disk",
    );
  });

  test("GPT wins over a protective MBR, on a disk of at least 68 sectors", async () => {
    const d = gpt(4096);
    d.entry(0, 2048n, 3071n);
    d.bytes[0x1fe] = 0x55;
    d.bytes[0x1ff] = 0xaa;
    expect(await findPartition(d.read, BigInt(d.bytes.length), 1)).toMatchObject({ kind: "GPT" });
    await expect(findPartition(d.read, 67n * 512n, 1)).rejects.toThrow("MBR partition 1 not found");
  });

  test("a partition past the end of the disk, exactly or by wrapping, is outside it", async () => {
    const d = gpt(4096);
    d.entry(0, 4000n, 4096n);
    d.entry(1, 2n ** 60n, 2n ** 60n + 1n);
    d.entry(2, 10n, 5n);
    for (const n of [1, 2, 3]) {
      await expect(findPartition(d.read, BigInt(d.bytes.length), n)).rejects.toThrow(
        "partition is outside the disk",
      );
    }
  });
});
