/**
 * --filter=exitwhen (man nbdkit-exitwhen-filter): the server exits, status 0, once an event
 * has happened and no client is connected: a file created or deleted, a process gone, the
 * other end of a pipe closed, a script exiting 88. Events are polled every `exit-when-poll=`
 * seconds while the server is idle; a connected client keeps it serving, new clients are then
 * refused, and it exits when that client leaves. An event that has already happened at start
 * ends the server before it serves (under --run, before the command runs). In the foreground
 * and in daemon mode, as nbdkit's does. Waits are for the server's exit, never timed.
 */

import { spawn } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { captive, clientEnv, killGroup, run, scratchDir } from "../helpers/captive.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { exitOf, gone, startDaemon } from "../helpers/process-exit.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const EXITED = { status: 0, signal: null };

function exitwhen(params: readonly string[]): string[] {
  return ["--filter=exitwhen", "memory", "1M", "exit-when-poll=1", ...params];
}

/** nbdinfo --size against `uri`: the size, or "refused". */
async function size(uri: string): Promise<string> {
  const result = await run(["nbdinfo", "--size", uri]);
  return result.status === 0 ? result.stdout.trim() : "refused";
}

describe.each(servers)("exitwhen filter ($name)", (server) => {
  test("a file created while idle ends the server", async (context) => {
    requireClients(context, "nbdinfo");
    const trigger = join(scratchDir(), "stop");
    const background = await startServer(server, exitwhen([`exit-when-file-created=${trigger}`]));
    expect(await size(background.uri)).toBe("1048576");
    writeFileSync(trigger, "");
    expect(await exitOf(background.exited)).toEqual(EXITED);
  });

  test("a connected client keeps it serving; others are refused; it exits when the client leaves", async (context) => {
    requireClients(context, "nbdsh", "nbdinfo");
    const trigger = join(scratchDir(), "keep");
    writeFileSync(trigger, "");
    const background = await startServer(server, exitwhen([`exit-when-file-deleted=${trigger}`]));
    const held = await run([
      "nbdsh",
      "-c",
      `
import os, subprocess, time
h = nbd.NBD()
h.connect_uri(os.environ["URI"])
os.remove(${JSON.stringify(trigger)})
time.sleep(2.5)  # two polls: the server would have gone by now were it idle
os.kill(${background.pid}, 0)
other = subprocess.run(["nbdinfo", "--size", os.environ["URI"]], capture_output=True)
print("other refused" if other.returncode != 0 else "other served")
h.pwrite(b"still here", 0)
print(bytes(h.pread(10, 0)).decode())
h.shutdown()
`,
    ], { env: { URI: background.uri } });
    expect(held.stdout.trim().split("\n")).toEqual(["other refused", "still here"]);
    expect(await exitOf(background.exited)).toEqual(EXITED);
    expect(background.stderr()).toContain("exitwhen: nbdkit is exiting: rejecting new connection");
  });

  test("a script exiting 88 is the event; other statuses are not", async (context) => {
    requireClients(context, "nbdinfo");
    const flag = join(scratchDir(), "flag");
    const script = `test -e ${flag} && exit 88; exit 0`;
    const background = await startServer(server, exitwhen([`exit-when-script=${script}`]));
    expect(await size(background.uri)).toBe("1048576");
    writeFileSync(flag, "");
    expect(await exitOf(background.exited)).toEqual(EXITED);
  });

  test("a process ending is the event", async (context) => {
    requireClients(context, "nbdinfo");
    const sleeper = spawn("sleep", ["1"], { stdio: "ignore" });
    const background = await startServer(
      server,
      exitwhen([`exit-when-process-exits=${sleeper.pid}`]),
    );
    expect(await size(background.uri)).toBe("1048576");
    expect(await exitOf(background.exited)).toEqual(EXITED);
    expect(await refusedStart(server, exitwhen(["exit-when-pid-exits=999999999"]))).toContain(
      "exit-when-process-exits: /proc/999999999/stat: No such file or directory",
    );
  });

  test("the other end of a pipe closing is the event", async (context) => {
    requireClients(context, "nbdinfo");
    const dir = scratchDir();
    const socket = join(dir, "sock");
    const [program, ...rest] = server.argv;
    const child = spawn(
      program!,
      [...rest, "-f", "-U", socket, ...exitwhen(["exit-when-pipe-closed=3"])],
      { env: clientEnv(), stdio: ["ignore", "ignore", "pipe", "pipe"], detached: true },
    );
    const exited = new Promise((resolve) =>
      child.on("exit", (status, signal) => resolve({ status, signal }))
    );
    try {
      while (!existsSync(socket)) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await size(`nbd+unix://?socket=${socket}`)).toBe("1048576");
      child.stdio[3]!.destroy();
      expect(await exitOf(exited)).toEqual(EXITED);
    } finally {
      killGroup(child.pid, "SIGKILL");
    }
  });

  test("an event already happened at start ends the server before it serves", async () => {
    const trigger = join(scratchDir(), "already");
    writeFileSync(trigger, "");
    const result = await captive(
      server,
      exitwhen([`exit-when-file-created=${trigger}`]),
      "echo the command ran",
    );
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain("the command ran");
  });

  test("in daemon mode the background server exits on the event", async (context) => {
    requireClients(context, "nbdinfo");
    const trigger = join(scratchDir(), "stop");
    const { pid, uri } = await startDaemon(server, exitwhen([`exit-when-file-created=${trigger}`]));
    expect(await size(uri)).toBe("1048576");
    writeFileSync(trigger, "");
    expect(await gone(pid)).toBe(true);
    rmSync(trigger);
  });

  test("--help shows no parameters, as nbdkit; a bad poll interval is refused", async () => {
    expect(await filterHelp(server, "exitwhen")).toBe("");
    expect(await refusedStart(server, exitwhen(["exit-when-poll=x"]))).toContain(
      "exit-when-poll: empty string where we expected a number",
    );
  });
});
