/**
 * A private Unix socket on which each connection starts a command and is joined to its stdin and
 * stdout, as inetd would: clients that take only a URI (nbdinfo) can then talk to a server run
 * with -s. Closed, and every command it started killed, when the test finishes.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { clientEnv, killGroup, scratchDir } from "./captive.ts";

/** Listens, and resolves to the socket's path once it accepts connections. */
export async function stdioRelay(argv: readonly string[]): Promise<string> {
  const [program, ...args] = argv;
  if (program === undefined) throw new TypeError("Cannot relay to a command: argv is empty");
  const path = join(scratchDir(), "relay.sock");
  const children = new Set<ChildProcess>();
  const relay = createServer((socket) => {
    const child = spawn(program, args, {
      env: clientEnv(),
      stdio: ["pipe", "pipe", "inherit"],
      detached: true, // its own process group, killed whole at the end
    });
    children.add(child);
    child.on("exit", () => {
      children.delete(child);
      socket.end();
    });
    child.on("error", () => socket.destroy());
    socket.on("error", () => child.stdin?.destroy());
    child.stdout!.pipe(socket);
    socket.pipe(child.stdin!);
  });
  onTestFinished(() => {
    relay.close();
    for (const child of children) killGroup(child.pid, "SIGKILL");
  });
  await new Promise<void>((resolve, reject) => {
    relay.once("error", reject);
    relay.listen(path, resolve);
  });
  return path;
}
