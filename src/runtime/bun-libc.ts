/**
 * libc's lseek and fallocate on Bun, through bun:ffi's dlopen, for the file plugin's holes
 * (libc-file.ts). Linux only; where libc.so.6 cannot be loaded, files are served without holes.
 */

import process from "node:process";
import type { Libc } from "./libc-file.ts";

/** The slice of bun:ffi used here (bun-types has the full story). */
interface BunFfi {
  dlopen<S>(path: string, symbols: Record<keyof S, unknown>): { readonly symbols: S };
  readonly read: { i32(pointer: number, offset: number): number };
}

interface Symbols {
  lseek(fd: number, offset: bigint, whence: number): bigint | number;
  fallocate(fd: number, mode: number, offset: bigint, length: bigint): number;
  __errno_location(): number;
}

/** A name esbuild leaves alone: the Node bundle carries this file but never runs it. */
const BUN_FFI = "bun:ffi";

/** libc through Bun's FFI, or undefined where it cannot be reached. */
export async function bunLibc(): Promise<Libc | undefined> {
  if (process.platform !== "linux") return undefined;
  try {
    const ffi = await import(BUN_FFI) as BunFfi;
    const { symbols } = ffi.dlopen<Symbols>("libc.so.6", {
      lseek: { args: ["i32", "i64", "i32"], returns: "i64" },
      fallocate: { args: ["i32", "i32", "i64", "i64"], returns: "i32" },
      __errno_location: { args: [], returns: "ptr" },
    });
    return {
      lseek: (fd, offset, whence) => symbols.lseek(fd, offset, whence),
      fallocate: (fd, mode, offset, length) => symbols.fallocate(fd, mode, offset, length),
      errno: () => ffi.read.i32(symbols.__errno_location(), 0),
    };
  } catch {
    return undefined; // not glibc (musl names it otherwise): served without holes
  }
}
