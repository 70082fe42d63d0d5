/**
 * `-U -`'s private directory on node:fs, for Node and Bun: made and removed at once with the
 * synchronous calls, inside the promise the contract returns (a throw rejects it), rather than on
 * the thread pool that async file calls go through: for one directory that costs more than the
 * work, at start-up and at exit.
 */

import { mkdtempSync, rmSync } from "node:fs";

/** A fresh private directory in /tmp, whatever $TMPDIR says, as nbdkit's for -U -. */
export function makeTempDir(): Promise<string> {
  return new Promise((resolve) => resolve(mkdtempSync("/tmp/nbdts")));
}

/** Removes `path` and what is in it; nothing there is not an error. */
export function removePath(path: string): Promise<void> {
  return new Promise((resolve) => resolve(rmSync(path, { recursive: true, force: true })));
}
