/**
 * A DiskFile's sparse-file calls (punchHole, zeroRange, allocate, nextData, nextHole) over the
 * libc functions a runtime's foreign function interface reaches, for one file descriptor.
 * Linux's numbers: lseek's SEEK_DATA and SEEK_HOLE, fallocate's modes, errno values.
 */

import type { DiskFile } from "../io.ts";

/**
 * libc as an FFI calls it. lseek and fallocate answer -1 on failure; errno() then tells why,
 * and must be read right after the failed call (nothing may run in between on this thread).
 * Offsets are 64-bit: they cross as bigint, and a runtime may answer lseek with either kind.
 */
export interface Libc {
  lseek(fd: number, offset: bigint, whence: number): bigint | number;
  fallocate(fd: number, mode: number, offset: bigint, length: bigint): number;
  errno(): number;
}

/** The calls this module adds to a DiskFile. */
export type SparseCalls = Required<
  Pick<DiskFile, "punchHole" | "zeroRange" | "allocate" | "nextData" | "nextHole">
>;

const SEEK_DATA = 3;
const SEEK_HOLE = 4;
const FALLOC_FL_KEEP_SIZE = 0x01;
const FALLOC_FL_PUNCH_HOLE = 0x02;
const FALLOC_FL_ZERO_RANGE = 0x10;

/** Linux errno values these calls may fail with: [name, what strerror says]. */
const ERRNOS: Record<number, readonly [string, string]> = {
  1: ["EPERM", "Operation not permitted"],
  4: ["EINTR", "Interrupted system call"],
  5: ["EIO", "Input/output error"],
  6: ["ENXIO", "No such device or address"],
  9: ["EBADF", "Bad file descriptor"],
  19: ["ENODEV", "No such device"],
  22: ["EINVAL", "Invalid argument"],
  26: ["ETXTBSY", "Text file busy"],
  27: ["EFBIG", "File too large"],
  28: ["ENOSPC", "No space left on device"],
  29: ["ESPIPE", "Illegal seek"],
  30: ["EROFS", "Read-only file system"],
  95: ["EOPNOTSUPP", "Operation not supported"],
  122: ["EDQUOT", "Disk quota exceeded"],
};

const EINTR = 4;
const ENXIO = 6;
const ENODEV = 19;
const EOPNOTSUPP = 95;

/** The Error a failed call throws: `code` is the errno name, the message says what failed. */
export function systemError(call: string, errno: number): Error & { code: string } {
  const [code, text] = ERRNOS[errno] ?? [`errno ${errno}`, `Unknown error ${errno}`];
  return Object.assign(new Error(`${call}: ${text}`), { code });
}

const SEEK_CUR = 1;
const ESPIPE = 29;

/**
 * Whether `fd` is a pipe or socket, asked of lseek, which refuses those with ESPIPE (and a
 * descriptor that is not open with EBADF): for a runtime whose node:fs cannot stat a
 * descriptor it did not open itself (Deno).
 */
export function isPipeByLibc(libc: Libc, fd: number): boolean {
  return Number(libc.lseek(fd, 0n, SEEK_CUR)) === -1 && libc.errno() === ESPIPE;
}

/** The sparse-file calls on file descriptor `fd` through `libc`. */
export function sparseCalls(libc: Libc, fd: number): SparseCalls {
  function fallocate(mode: number, offset: number, count: number): void {
    for (;;) {
      if (libc.fallocate(fd, mode, BigInt(offset), BigInt(count)) === 0) return;
      const errno = libc.errno();
      if (errno === EINTR) continue;
      // Linux before 4.9 said ENODEV for modes a block device lacks; later ones EOPNOTSUPP.
      throw systemError("fallocate", errno === ENODEV ? EOPNOTSUPP : errno);
    }
  }

  function seek(offset: number, whence: number, call: string): number | undefined {
    const at = libc.lseek(fd, BigInt(offset), whence);
    if (Number(at) !== -1) return Number(at);
    const errno = libc.errno();
    if (errno === ENXIO) return undefined;
    throw systemError(call, errno);
  }

  return {
    punchHole: (offset, count) =>
      fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, count),
    zeroRange: (offset, count) => fallocate(FALLOC_FL_ZERO_RANGE, offset, count),
    allocate: (offset, count) => fallocate(0, offset, count),
    // ENXIO: `offset` is in the hole that ends the file, or past the end.
    nextData: (offset) => seek(offset, SEEK_DATA, "lseek: SEEK_DATA"),
    nextHole(offset) {
      const at = seek(offset, SEEK_HOLE, "lseek: SEEK_HOLE");
      if (at === undefined) throw systemError("lseek: SEEK_HOLE", ENXIO);
      return at;
    },
  };
}
