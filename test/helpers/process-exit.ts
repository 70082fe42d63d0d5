/**
 * Waiting for a server to exit on its own (the exitlast and exitwhen filters): for a child
 * process, by its exit; for a daemon, which is no child of ours, by polling its pid. Each wait
 * has a generous deadline, so a server that never exits fails the test instead of hanging it.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runServer, scratchDir } from "./captive.ts";
import type { Server } from "./servers.ts";

/** The exit a child reported, or "still running" after `ms` milliseconds. */
export async function exitOf<T>(exited: Promise<T>, ms = 20_000): Promise<T | "still running"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"still running">((resolve) => {
    timer = setTimeout(() => resolve("still running"), ms);
  });
  try {
    return await Promise.race([exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether process `pid` is gone within `ms` milliseconds (signal 0 finds no process). */
export async function gone(pid: number, ms = 20_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    process.kill(pid, "SIGKILL"); // a server that outstayed the test is not left behind
  } catch {
    // gone just now
  }
  return false;
}

/**
 * The pid a daemon wrote to `pidFile`, once it has: nbdkit's parent exits right after its
 * fork, before the background server writes the file.
 */
export async function daemonPid(pidFile: string, ms = 20_000): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const text = readFileSync(pidFile, "utf8");
      if (/^\d+\n/.test(text)) return Number.parseInt(text, 10);
    } catch {
      // not yet written
    }
    if (Date.now() > deadline) throw new Error(`No pid in ${pidFile} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Starts `server` in daemon mode (no -f) on a fresh Unix socket with a pid file: its pid, once
 * written, and the URI of its default export. Throws if the start itself failed.
 */
export async function startDaemon(
  server: Server,
  args: readonly string[],
): Promise<{ pid: number; uri: string; dir: string }> {
  const dir = scratchDir();
  const socket = join(dir, "sock");
  const pidFile = join(dir, "pid");
  const started = await runServer(server, ["-U", socket, "-P", pidFile, ...args]);
  if (started.status !== 0) throw new Error(`Cannot start the daemon: ${started.stderr}`);
  return { pid: await daemonPid(pidFile), uri: `nbd+unix://?socket=${socket}`, dir };
}
