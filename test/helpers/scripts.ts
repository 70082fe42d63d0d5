/**
 * Scripts for the sh and eval plugins' tests: a shell script written into a scratch directory
 * and made executable, and the log a script keeps of the calls it gets ("$@" per line), read
 * back as arrays of words.
 */

import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "./captive.ts";

/** `body` (shell text after a `#!/bin/sh` line) as an executable file; returns its path. */
export function writeScript(body: string, dir = scratchDir(), name = "plugin.sh"): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}`);
  chmodSync(path, 0o755);
  return path;
}

/** A fresh log file's path and the shell line that appends a call's arguments to it. */
export function callLog(dir = scratchDir()): { path: string; line: string; calls(): string[] } {
  const path = join(dir, "calls.log");
  return {
    path,
    line: `echo "$@" >> '${path}'`,
    calls: () => (existsSync(path) ? readFileSync(path, "utf8").trimEnd().split("\n") : []),
  };
}

/**
 * The calls a script gets in nbdkit's order from config_complete up to the first open of the
 * default export (a read-write server): what every test of the call order shares.
 */
export const UNTIL_OPEN: readonly string[] = [
  "config_complete",
  "thread_model",
  "get_ready",
  "after_fork",
  "preconnect false",
  "default_export false false",
];

/** The questions after get_size for a handle that cannot write, in nbdkit's order. */
export function readOnlyQuestions(handle: string): string[] {
  return ["can_flush", "is_rotational", "can_multi_conn", "can_cache", "can_extents", "block_size"]
    .map((method) => `${method} ${handle}`);
}
