/**
 * libc's lseek and fallocate on Deno, through Deno.dlopen (FFI, allowed by --allow-ffi or -A),
 * for the file plugin's holes (libc-file.ts). Linux only; without the permission nothing is
 * asked (no prompt) and files are served without holes.
 */

import type { Libc } from "./libc-file.ts";

/** The slice of Deno's FFI and permissions used here (lib.deno.ns.d.ts has the full story). */
interface DenoFfi {
  readonly build: { readonly os: string };
  readonly permissions: { querySync(query: { name: "ffi" }): { readonly state: string } };
  dlopen<S>(path: string, symbols: Record<keyof S, unknown>): { readonly symbols: S };
  readonly UnsafePointerView: new (pointer: object) => { getInt32(): number };
}

interface Symbols {
  lseek(fd: number, offset: bigint, whence: number): bigint;
  fallocate(fd: number, mode: number, offset: bigint, length: bigint): number;
  __errno_location(): object | null;
}

const Deno = (globalThis as unknown as { Deno: DenoFfi }).Deno;

/** libc through Deno's FFI, or undefined where it cannot be reached. */
export function denoLibc(): Libc | undefined {
  if (Deno.build.os !== "linux") return undefined;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
  let symbols: Symbols;
  try {
    symbols = Deno.dlopen<Symbols>("libc.so.6", {
      lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
      fallocate: { parameters: ["i32", "i32", "i64", "i64"], result: "i32" },
      __errno_location: { parameters: [], result: "pointer" },
    }).symbols;
  } catch {
    return undefined; // not glibc (musl names it otherwise): served without holes
  }
  return {
    lseek: (fd, offset, whence) => symbols.lseek(fd, offset, whence),
    fallocate: (fd, mode, offset, length) => symbols.fallocate(fd, mode, offset, length),
    errno: () => new Deno.UnsafePointerView(symbols.__errno_location()!).getInt32(),
  };
}
