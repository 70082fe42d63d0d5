/**
 * --exit-with-parent: a server started by a shell that then exits stops on its own and stops
 * listening, while one started without the option keeps serving.
 */

import { existsSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { killGroup, run, scratchDir, shellQuote } from "../helpers/captive.ts";
import { servers } from "../helpers/servers.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** A shell starts the server in the background, waits for its pid file, then exits. */
async function startOrphan(argv: readonly string[], extra: string[]) {
  const dir = scratchDir();
  const pidFile = `${dir}/pid`;
  const command = [...argv, ...extra, "-f", "-U", `${dir}/sock`, "-P", pidFile, "memory", "1M"]
    .map(shellQuote).join(" ");
  const script = `${command} </dev/null >/dev/null 2>&1 &
for i in $(seq 100); do [ -s ${shellQuote(pidFile)} ] && exit 0; sleep 0.1; done; exit 1`;
  const result = await run(["sh", "-c", script]);
  expect(result.status).toBe(0);
  await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").endsWith("\n"), 5000);
  return Number(readFileSync(pidFile, "utf8").trim());
}

describe.each(servers)("--exit-with-parent ($name)", (server) => {
  test("the server exits soon after the shell that started it", async () => {
    const pid = await startOrphan(server.argv, ["--exit-with-parent"]);
    try {
      expect(await waitFor(() => !alive(pid), 8000)).toBe(true);
    } finally {
      if (alive(pid)) killGroup(pid, "SIGKILL");
    }
  });

  test("without the option the orphaned server keeps running", async () => {
    const pid = await startOrphan(server.argv, []);
    try {
      expect(await waitFor(() => !alive(pid), 1500)).toBe(false);
    } finally {
      process.kill(pid, "SIGTERM");
      await waitFor(() => !alive(pid), 5000);
    }
  });
});
