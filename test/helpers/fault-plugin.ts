/**
 * The fault plugin as each server loads it: nbdts loads test/fixtures/fault-plugin.ts, nbdkit
 * runs test/fixtures/fault-plugin.sh with its sh plugin, and both serve the same disk file and
 * fail the same way for the same export name. Also reads a server's resident memory, for the
 * tests that prove a fault leaves it bounded. Never judges a result itself.
 *
 * Export names: "" (or any name not below) is the healthy disk; "slow" waits 0.2 s in each
 * read and write; "flaky" and "flaky-open" fail reads and writes, or opens, as often as
 * failNext() says; the others fail one callback as their name says (open-fails, size-junk,
 * can-write-junk, pread-errno, pread-short, pread-hangs, …: see the fixtures). pread-hangs
 * hangs only reads at offset 0, so a client can fill its buffers with other reads first.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "./captive.ts";
import { REPO_ROOT, type Server } from "./servers.ts";

const TS_PLUGIN = join(REPO_ROOT, "test", "fixtures", "fault-plugin.ts");
const SH_PLUGIN = join(REPO_ROOT, "test", "fixtures", "fault-plugin.sh");

export interface FaultPlugin {
  /** The plugin and its parameters, for captive() or startServer(). */
  readonly argv: readonly string[];
  /** The disk file the plugin serves. */
  readonly disk: string;
  /** Where the plugin logs its events (events() reads it). */
  readonly eventsFile: string;
  /** Holds how many more calls of "flaky" or "flaky-open" fail; failNext writes it. */
  readonly fails: string;
  /** The lines the plugin has logged so far: "open NAME", "close NAME", "flush NAME", "unload". */
  events(): string[];
  /** Lets every hung callback return (they poll for the release file). */
  release(): void;
  /** The next `n` calls of the export "flaky" (reads, writes) or "flaky-open" (opens) fail. */
  failNext(n: number): void;
}

/** A fresh disk of `size` bytes (zeroes) in a private directory, and the plugin serving it. */
export function faultPlugin(server: Server, size = 1024 * 1024): FaultPlugin {
  const dir = scratchDir();
  const disk = join(dir, "disk");
  const events = join(dir, "events");
  const release = join(dir, "release");
  const fails = join(dir, "fails");
  writeFileSync(disk, new Uint8Array(size));
  const params = [`disk=${disk}`, `events=${events}`, `release=${release}`, `fails=${fails}`];
  const argv = server.name === "nbdkit" ? ["sh", SH_PLUGIN, ...params] : [TS_PLUGIN, ...params];
  return {
    argv,
    disk,
    eventsFile: events,
    fails,
    events: () => existsSync(events) ? readFileSync(events, "utf8").split("\n").slice(0, -1) : [],
    release: () => writeFileSync(release, ""),
    failNext: (n) => writeFileSync(fails, `${n}\n`),
  };
}

/** The most process `pid` has been resident, in bytes (VmHWM, Linux). */
export function peakResidentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`Cannot read VmHWM of process ${pid}`);
  return Number(match[1]) * 1024;
}

/** The resident set size of process `pid` in bytes, from /proc (Linux). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`Cannot read VmRSS of process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Polls `check` every 20 ms until it holds; false if it still does not after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
