/**
 * The logging plugin as each server loads it: nbdts loads test/fixtures/log-plugin.ts, nbdkit
 * runs test/fixtures/log-plugin.sh with its sh plugin; both serve the same disk file and log
 * the same line for the same call, so a test compares what a filter asked of the plugin on
 * either server. Never judges a result itself.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "./captive.ts";
import { REPO_ROOT, type Server } from "./servers.ts";

const TS_PLUGIN = join(REPO_ROOT, "test", "fixtures", "log-plugin.ts");
const SH_PLUGIN = join(REPO_ROOT, "test", "fixtures", "log-plugin.sh");

export interface LogPlugin {
  /** The plugin and its parameters, for captive() or libnbd(). */
  readonly argv: readonly string[];
  /** The log file, which a client script may read too. */
  readonly log: string;
  /** The file whose existence lets held cache calls return (with `hold: true`). */
  readonly release: string;
  /** The lines logged so far. */
  lines(): string[];
  /** The lines logged so far that start with `op` ("cache", "pread" …). */
  calls(op: string): string[];
  /** The disk's bytes now. */
  disk(): Uint8Array;
}

export interface LogPluginOptions {
  /** The disk's bytes (default 1 MiB of zeroes). */
  readonly disk?: Uint8Array;
  /** Cache calls wait until `release` exists. */
  readonly hold?: boolean;
  /** Further parameters: "block-size=512,4096,65536", "threads=serialize_requests" … */
  readonly params?: readonly string[];
}

export function logPlugin(server: Server, options: LogPluginOptions = {}): LogPlugin {
  const dir = scratchDir();
  const disk = join(dir, "disk");
  const log = join(dir, "log");
  const release = join(dir, "release");
  writeFileSync(disk, options.disk ?? new Uint8Array(1024 * 1024));
  writeFileSync(log, "");
  const params = [
    `disk=${disk}`,
    `log=${log}`,
    ...(options.hold ? [`release=${release}`] : []),
    ...(options.params ?? []),
  ];
  const argv = server.name === "nbdkit" ? ["sh", SH_PLUGIN, ...params] : [TS_PLUGIN, ...params];
  const lines = () =>
    existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((line) => line !== "") : [];
  return {
    argv,
    log,
    release,
    lines,
    calls: (op) => lines().filter((line) => line.split(" ")[0] === op),
    disk: () => new Uint8Array(readFileSync(disk)),
  };
}

/**
 * Python a libnbd script starts with to watch the log while it runs (pass `logEnv(plugin)` as
 * the run's env): `logged(op)` lists the calls of one kind so far, each as its words after the
 * name ("cache 32768 65536" is ["32768", "65536"]); `wait_for(check, what)` polls until
 * check() holds (failing after 20 s); `release()` lets held cache calls return.
 */
export const WATCH_LOG = `
import time

def logged(op):
    with open(os.environ["LOG_PLUGIN_LOG"]) as f:
        lines = [line.split() for line in f.read().splitlines()]
    return [words[1:] for words in lines if words and words[0] == op]

def wait_for(check, what):
    for _ in range(400):
        if check():
            return
        time.sleep(0.05)
    raise Exception("timed out waiting for " + what)

def release():
    open(os.environ["LOG_PLUGIN_RELEASE"], "w").close()
`;

/** The environment WATCH_LOG reads. */
export function logEnv(plugin: LogPlugin): Record<string, string> {
  return { LOG_PLUGIN_LOG: plugin.log, LOG_PLUGIN_RELEASE: plugin.release };
}
