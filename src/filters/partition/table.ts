/**
 * What the partition table readers share: the 512-byte sector they count in, how they read
 * the disk, what they find, and little-endian fields. They only read; they never write.
 */

/** MBR and GPT here count in 512-byte sectors, as nbdkit's partition filter does. */
export const SECTOR_SIZE = 512;

/** Reads `count` bytes at byte `offset` of the disk. */
export type ReadDisk = (count: number, offset: bigint) => Promise<Uint8Array>;

/** A partition: `range` bytes from byte `offset` of the disk. */
export interface FoundPartition {
  readonly offset: bigint;
  readonly range: bigint;
}

/** The little-endian u32 at `at`. */
export function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24) >>> 0;
}

/** The little-endian u64 at `at`, exactly. */
export function u64(bytes: Uint8Array, at: number): bigint {
  return BigInt(u32(bytes, at)) | BigInt(u32(bytes, at + 4)) << 32n;
}
