/**
 * Without -f, --run, -s or --exit-with-parent the server goes into the background once it
 * listens: the command exits 0 with its output closed, the pid file names the background
 * server, clients connect, and the pid file's process stops on SIGTERM.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, onTestFinished, test } from "vitest";
import { run, runServer, scratchDir } from "../helpers/captive.ts";
import { findProgram, servers } from "../helpers/servers.ts";

/** Resolves once `check` holds, polling; throws after `timeoutMs`. */
async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `memory 1M` in daemon mode; the daemon is killed when the test ends. */
async function startDaemon(server: (typeof servers)[number], options: readonly string[] = []) {
  const dir = scratchDir();
  const socket = join(dir, "sock");
  const pidFile = join(dir, "pid");
  // run() resolves only when stdout and stderr are closed: the daemon must not hold them.
  const result = await runServer(
    server,
    ["-U", socket, "-P", pidFile, ...options, "memory", "1M"],
    {
      timeoutMs: 20_000,
    },
  );
  // nbdkit writes the pid file just after the command returns (in the forked child).
  await waitFor("the pid file", () => existsSync(pidFile) && readFileSync(pidFile, "utf8") !== "");
  const pid = Number(readFileSync(pidFile, "utf8"));
  onTestFinished(() => {
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  });
  return { result, socket, pid };
}

describe.each(servers)("daemon mode ($name)", (server) => {
  test("the command returns 0 once the background server accepts connections", async () => {
    const { result, socket, pid } = await startDaemon(server);
    expect(result.timedOut).toBe(false);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("");
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(true);
    expect(existsSync(socket)).toBe(true);
  });

  test.skipIf(findProgram("nbdinfo") === undefined)(
    "nbdinfo reads the export, then the pid file's process stops on SIGTERM",
    async () => {
      const { socket, pid } = await startDaemon(server);
      const info = await run(["nbdinfo", "--size", `nbd+unix://?socket=${socket}`]);
      expect(info.stdout).toBe("1048576\n");
      process.kill(pid, "SIGTERM");
      await waitFor("the server to exit", () => !isAlive(pid));
    },
  );

  test("a plugin that refuses its parameters fails in the foreground with exit 1", async () => {
    const dir = scratchDir();
    const pidFile = join(dir, "pid");
    const result = await runServer(server, [
      "-U",
      join(dir, "sock"),
      "-P",
      pidFile,
      "memory",
      "1M",
      "nosuchparameter=1",
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("nosuchparameter");
    expect(existsSync(pidFile)).toBe(false);
  });
});
