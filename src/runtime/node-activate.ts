/**
 * Starts a server program with a listening Unix socket handed over as systemd's socket
 * activation hands one (descriptor 3, LISTEN_FDS=1, LISTEN_PID its pid), as libnbd's
 * nbd_connect_systemd_socket_activation does for nbdkit's nbd plugin (command=). On node:net
 * and node:child_process, which Node, Deno and Bun implement alike. Knows nothing of NBD.
 */

import { spawn } from "node:child_process";
import { link, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import process from "node:process";
import type { ActivatedCommand } from "../io.ts";

function listening(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(path, () => resolve(server));
  });
}

export async function startActivated(argv: readonly string[]): Promise<ActivatedCommand> {
  const dir = await mkdtemp("/tmp/nbdts");
  const path = `${dir}/socket`;
  const server = await listening(`${dir}/bound`);
  // Closing our copy below unlinks the name it was bound to (libuv does): a second name for
  // the same socket stays, and leads to the program's copy.
  await link(`${dir}/bound`, path);
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) {
    server.close();
    await rm(dir, { recursive: true, force: true });
    throw new Error("Cannot start the command: this runtime does not pass a listening socket on");
  }
  // LISTEN_PID must be the program's own pid, known only once it runs: the shell sets it and
  // then becomes the program (exec keeps the pid).
  const child = spawn("/bin/sh", ["-c", 'LISTEN_PID=$$ exec "$0" "$@"', ...argv], {
    stdio: ["ignore", "inherit", "inherit", fd],
    env: { ...process.env, LISTEN_FDS: "1" },
  });
  const started = new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  try {
    await started;
  } finally {
    server.close(); // the program holds its own copy of the socket now
  }
  let stopped = false;
  return {
    target: { kind: "unix", path },
    stop() {
      if (stopped) return;
      stopped = true;
      child.kill("SIGTERM");
      void rm(dir, { recursive: true, force: true });
    },
  };
}
