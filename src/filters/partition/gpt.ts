/**
 * Finds a partition in a GPT as nbdkit's partition filter does (filters/partition/
 * partition-gpt.c): the header in LBA 1 says how many entries there are and how big each is;
 * the entries are read from LBA 2 on, and an entry whose type GUID is all zeroes is unused.
 *
 *   LBA 1, header                     LBA 2…, entry i at 1024 + i × entry size
 *   ┌──────────────────────────────┐  ┌──────────────────────────────────┐
 *   │ 0   "EFI PART"               │  │ 0   partition type GUID (16)     │
 *   │ 80  number of entries  (u32) │  │ 16  unique GUID (16)             │
 *   │ 84  size of an entry   (u32) │  │ 32  first LBA (u64)              │
 *   └──────────────────────────────┘  │ 40  last LBA, included (u64)     │
 *                                     └──────────────────────────────────┘
 */

import { type FoundPartition, type ReadDisk, SECTOR_SIZE, u32, u64 } from "./table.ts";

const SECTOR = BigInt(SECTOR_SIZE);
/** The smallest entry the UEFI specification allows, and all that is read of one. */
const ENTRY_SIZE = 128;

/** Partition `number` (from 1) of the disk of `size` bytes whose LBA 1 is `header`. */
export async function findGptPartition(
  read: ReadDisk,
  size: bigint,
  header: Uint8Array,
  number: number,
): Promise<FoundPartition> {
  const entries = u32(header, 80);
  const entrySize = u32(header, 84);
  if (number > entries) throw new Error("GPT partition number out of range");
  if (entrySize < ENTRY_SIZE) throw new Error("GPT partition entry size is < 128 bytes");
  // The entry array twice (primary and backup) and the headers must fit, or the header lies.
  if (size < 3n * SECTOR + 2n * BigInt(entries) * BigInt(entrySize)) {
    throw new Error("GPT partition table is too large for this disk");
  }
  const entry = await read(ENTRY_SIZE, 2n * SECTOR + BigInt(number - 1) * BigInt(entrySize));
  if (entry.subarray(0, 16).every((byte) => byte === 0)) {
    throw new Error(`GPT partition ${number} not found`);
  }
  const first = u64(entry, 32);
  const last = u64(entry, 40);
  return { offset: first * SECTOR, range: (1n + last - first) * SECTOR };
}
