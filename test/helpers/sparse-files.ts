/**
 * Sparse files for the file plugin's interop tests (made as a user would, with truncate and dd),
 * and which servers can find and punch holes in them.
 */

import { expectSuccess, run } from "./captive.ts";
import type { Server } from "./servers.ts";

/**
 * Why `server` cannot report or punch holes in files, or undefined when it can. Node 20 has no
 * foreign function interface and node:fs has neither SEEK_DATA nor fallocate (README, Runtimes).
 */
export function holesUnsupported(server: Server): string | undefined {
  if (server.name !== "nbdts-node") return undefined;
  return "Node 20 cannot call lseek(SEEK_DATA) or fallocate: no FFI, and node:fs has neither";
}

/**
 * Makes `path` a sparse file of `size` (truncate -s) holding `bytes` at each offset given
 * (dd conv=notrunc): everything else is a hole.
 */
export async function makeSparseFile(
  path: string,
  size: string,
  writes: readonly (readonly [offset: number, bytes: string])[],
): Promise<void> {
  expectSuccess(await run(["truncate", "-s", size, path]));
  for (const [offset, bytes] of writes) {
    expectSuccess(
      await run(
        ["dd", `of=${path}`, "bs=1", `seek=${offset}`, "conv=notrunc", "status=none"],
        { input: bytes },
      ),
    );
  }
}

/** The 512-byte blocks the file system has allocated to `path` (stat %b). */
export async function allocatedBlocks(path: string): Promise<number> {
  return Number(expectSuccess(await run(["stat", "-c", "%b", path])).stdout.trim());
}
