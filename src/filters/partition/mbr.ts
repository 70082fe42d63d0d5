/**
 * Finds a partition in an MBR partition table as nbdkit's partition filter does
 * (filters/partition/partition-mbr.c): 1 to 4 are the primary entries; 5 and up are logical
 * partitions, found by following the chain of extended boot records (EBRs) from the first
 * extended entry, each link strictly further into the disk than the last.
 *
 *   sector 0 (MBR)             EBR                              EBR
 *   ┌──────────────────────┐   ┌────────────────────────────┐   ┌───────────────┐
 *   │ 0x1BE entry 1 … 4    │   │ entry 1: logical partition,│   │ …             │
 *   │  type @+4            │   │   start relative to the EBR│   │               │
 *   │  start LBA @+8 (u32) │──▶│ entry 2: next EBR, start   │──▶│ entry 2 all 0:│
 *   │  sectors @+12 (u32)  │   │   relative to the extended │   │   end of chain│
 *   │ 0x1FE 55 AA          │   │   partition                │   │               │
 *   └──────────────────────┘   └────────────────────────────┘   └───────────────┘
 */

import { type FoundPartition, type ReadDisk, SECTOR_SIZE, u32 } from "./table.ts";

/** Where the four 16-byte entries of a boot record start. */
const ENTRIES = 0x1be;
const ENTRY_SIZE = 16;
const SECTOR = BigInt(SECTOR_SIZE);

/** Extended partition types, as Linux's msdos.c is_extended_partition. */
const EXTENDED = new Set([0x05, 0x0f, 0x85]);

interface MbrEntry {
  readonly type: number;
  readonly startSector: number;
  readonly sectors: number;
}

/** Entry `i` (0 to 3) of the boot record in `sector`. */
export function mbrEntry(sector: Uint8Array, i: number): MbrEntry {
  const at = ENTRIES + i * ENTRY_SIZE;
  return { type: sector[at + 4], startSector: u32(sector, at + 8), sectors: u32(sector, at + 12) };
}

/** Partition `number` (from 1) of the disk of `size` bytes whose sector 0 is `mbr`. */
export async function findMbrPartition(
  read: ReadDisk,
  size: bigint,
  mbr: Uint8Array,
  number: number,
): Promise<FoundPartition> {
  if (number <= 4) {
    const entry = mbrEntry(mbr, number - 1);
    if (entry.sectors > 0 && entry.type !== 0 && !EXTENDED.has(entry.type)) {
      return { offset: BigInt(entry.startSector) * SECTOR, range: BigInt(entry.sectors) * SECTOR };
    }
    throw new Error(`MBR partition ${number} not found`);
  }
  const extended = [0, 1, 2, 3].map((i) => mbrEntry(mbr, i))
    .find((entry) => entry.sectors > 0 && EXTENDED.has(entry.type));
  if (extended === undefined) {
    throw new Error(
      "MBR logical partition selected, but there is no extended partition in the partition table",
    );
  }
  const extendedStart = BigInt(extended.startSector);
  const extendedEnd = (extendedStart + BigInt(extended.sectors)) * SECTOR;
  let ebr = extendedStart * SECTOR;
  for (let i = 5;; i++) {
    if (ebr % SECTOR !== 0n || ebr < SECTOR || ebr >= size - SECTOR) {
      throw new Error(
        "invalid EBR chain: next EBR boot sector is located outside disk boundary",
      );
    }
    const sector = await read(SECTOR_SIZE, ebr);
    if (i === number) {
      const logical = mbrEntry(sector, 0);
      const offset = ebr + BigInt(logical.startSector) * SECTOR;
      const range = BigInt(logical.sectors) * SECTOR;
      if (offset <= ebr || offset + range > extendedEnd) {
        throw new Error(
          `logical partition start or size out of range (offset=${offset}, range=${range}, ` +
            `ep:startsect=${extended.startSector}, ep:nrsects=${extended.sectors})`,
        );
      }
      return { offset, range };
    }
    const link = mbrEntry(sector, 1);
    if (link.startSector === 0 && link.sectors === 0) break;
    const next = (extendedStart + BigInt(link.startSector)) * SECTOR;
    if (next <= ebr) {
      throw new Error(`invalid EBR chain: next EBR ${next} <= current EBR ${ebr}`);
    }
    ebr = next;
  }
  throw new Error(`MBR partition ${number} not found`);
}
