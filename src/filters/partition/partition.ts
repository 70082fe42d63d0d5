/**
 * The partition filter (man nbdkit-partition-filter): serves partition `partition=N` (from 1)
 * of a disk partitioned with MBR (1-4 primary, 5 and up logical) or GPT. The table is read
 * once per connection, in prepare; then every request is moved into the partition, its buffer
 * untouched, and the export description (when the plugin gives one) says which partition.
 */

import { ConfigError } from "../../api/errors.ts";
import type { Filter } from "../../api/filter.ts";
import { parseUnsigned } from "../../api/parse-integer.ts";
import { toOffset } from "../../api/parse.ts";
import { VERSION } from "../../api/version.ts";
import { type Window, windowMethods } from "../window.ts";
import { findGptPartition } from "./gpt.ts";
import { findMbrPartition } from "./mbr.ts";
import { type FoundPartition, type ReadDisk, SECTOR_SIZE } from "./table.ts";

const SECTOR = BigInt(SECTOR_SIZE);
/** The smallest disk with a GPT: the MBR, the header and 32 sectors of entries, twice. */
const GPT_MIN_SIZE = 2n * 34n * SECTOR;

export function createPartitionFilter(): Filter {
  let number = 0;
  return {
    name: "partition",
    longname: "nbdts partition filter",
    version: VERSION,
    configHelp: "partition=<PART>    (required) The partition number (counting from 1).",

    config(next, key, value) {
      if (key !== "partition") return next(key, value);
      number = parseUnsigned("partition", value);
      if (number === 0) throw new ConfigError("invalid partition number");
    },

    configComplete(next) {
      if (number === 0) {
        throw new ConfigError("you must supply the partition parameter on the command line");
      }
      return next();
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      const window: Window = { start: 0, end: 0 };
      let kind = "";
      return {
        async prepare() {
          const read: ReadDisk = async (count, offset) => {
            const bytes = new Uint8Array(count);
            await below.readAt(bytes, toOffset(offset));
            return bytes;
          };
          const size = BigInt(await below.getSize());
          const found = await findPartition(read, size, number);
          kind = found.kind;
          window.start = toOffset(found.offset);
          window.end = toOffset(found.offset + found.range);
        },
        getSize: () => toOffset(BigInt(window.end) - BigInt(window.start)),
        async exportDescription() {
          const base = await below.exportDescription();
          return base === undefined ? undefined : `partition ${number} of ${kind} disk: ${base}`;
        },
        ...windowMethods(below, window),
      };
    },
  };
}

/**
 * Partition `number` of a disk of `size` bytes: GPT when LBA 1 says "EFI PART" on a disk big
 * enough for one, else MBR when sector 0 ends in 55 AA; it must lie inside the disk.
 */
export async function findPartition(
  read: ReadDisk,
  size: bigint,
  number: number,
): Promise<FoundPartition & { kind: "GPT" | "MBR" }> {
  if (size < 2n * SECTOR) throw new Error("disk is too small to be a partitioned disk");
  const lba01 = await read(2 * SECTOR_SIZE, 0n);
  const header = lba01.subarray(SECTOR_SIZE);
  let found: FoundPartition & { kind: "GPT" | "MBR" };
  if (size >= GPT_MIN_SIZE && new TextDecoder().decode(header.subarray(0, 8)) === "EFI PART") {
    found = { kind: "GPT", ...await findGptPartition(read, size, header, number) };
  } else if (lba01[0x1fe] === 0x55 && lba01[0x1ff] === 0xaa) {
    found = { kind: "MBR", ...await findMbrPartition(read, size, lba01, number) };
  } else {
    throw new Error("disk does not contain MBR or GPT partition table signature");
  }
  if (found.offset < 0n || found.range < 0n || found.offset + found.range > size) {
    throw new Error("partition is outside the disk");
  }
  return found;
}
