/**
 * The call-log plugin as each server loads it: nbdts loads test/fixtures/call-log-plugin.ts,
 * nbdkit runs test/fixtures/call-log-plugin.sh with its sh plugin; both serve the same disk
 * file and log the same lines for the same calls, so a test can assert what a filter asked of
 * the plugin below it. Never judges a result itself.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "./captive.ts";
import { REPO_ROOT, type Server } from "./servers.ts";

const TS_PLUGIN = join(REPO_ROOT, "test", "fixtures", "call-log-plugin.ts");
const SH_PLUGIN = join(REPO_ROOT, "test", "fixtures", "call-log-plugin.sh");

export interface CallLogPlugin {
  /** The plugin and its parameters, for captive() or libnbd(). */
  readonly argv: readonly string[];
  /** The disk file the plugin serves. */
  readonly disk: string;
  /** The log file, for a script that marks its steps in it. */
  readonly log: string;
  /** The lines logged so far: "pread 65536 0", "flush", … */
  calls(): string[];
}

/** A fresh disk holding `bytes` in a private directory, and the plugin serving it. */
export function callLogPlugin(server: Server, bytes: Uint8Array): CallLogPlugin {
  const dir = scratchDir();
  const disk = join(dir, "disk");
  const log = join(dir, "log");
  writeFileSync(disk, bytes);
  const params = [`disk=${disk}`, `log=${log}`];
  const argv = server.name === "nbdkit" ? ["sh", SH_PLUGIN, ...params] : [TS_PLUGIN, ...params];
  return {
    argv,
    disk,
    log,
    calls: () => existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(0, -1) : [],
  };
}

/** Bytes that differ in every 4 KiB: 4 KiB block i is filled with i + 1 (mod 256). */
export function numberedBlocks(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 4096) bytes.fill(((at / 4096) + 1) & 0xff, at, at + 4096);
  return bytes;
}
