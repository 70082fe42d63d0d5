/**
 * Starts a server under test in the background on a private Unix socket (or on a TCP port the
 * kernel picks), for tests that need several clients or must signal the server. Every server started here is stopped when the
 * test that started it finishes (or by `stopAllServers`), never left running.
 */

import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { clientEnv, killGroup, scratchDir } from "./captive.ts";
import { type ListeningPorts, listeningPorts } from "./listening-port.ts";
import type { Server } from "./servers.ts";

/** How a background server ended. */
export interface Exit {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface BackgroundServer {
  /** The private directory holding the socket and the pid file. */
  readonly dir: string;
  readonly socket: string;
  readonly pidFile: string;
  /** `nbd+unix://?socket=…` (or `nbd://HOST:PORT` with `tcp.host`): the default export. */
  readonly uri: string;
  /** With `tcp`: the ports IPv4 and IPv6 clients reach the server at. */
  readonly ports?: ListeningPorts;
  readonly pid: number;
  /** Settles when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /**
   * Sends `signal` (default SIGTERM) to the server process and waits; after `graceMs` (default
   * 5 s) its whole process group gets SIGKILL.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

export interface StartOptions {
  /** Server options placed before the plugin, e.g. `["-r"]`. */
  readonly serverOptions?: readonly string[];
  /** How long to wait for the pid file (default 15 s). */
  readonly readyTimeoutMs?: number;
  /**
   * Listen on TCP with `-p 0` (and `-i HOST` if given) instead of a Unix socket; the port the
   * kernel picks is found in /proc (Linux), since nbdkit 1.32.5 cannot print it.
   */
  readonly tcp?: { readonly host?: string };
  /** Extra environment variables for the server. */
  readonly env?: Readonly<Record<string, string>>;
}

const running = new Set<BackgroundServer>();

/**
 * Runs `<server> -f -U <dir>/sock -P <dir>/pid [options] <plugin…>` and resolves once the pid
 * file names the process and the socket exists, i.e. once it accepts connections.
 */
export async function startServer(
  server: Server,
  plugin: readonly string[],
  options: StartOptions = {},
): Promise<BackgroundServer> {
  const dir = scratchDir();
  const socket = join(dir, "sock");
  const pidFile = join(dir, "pid");
  const [program, ...rest] = server.argv;
  if (program === undefined) {
    throw new TypeError(`Cannot start server "${server.name}": argv is empty`);
  }
  const tcp = options.tcp;
  const listen = tcp === undefined
    ? ["-U", socket]
    : [...(tcp.host === undefined ? [] : ["-i", tcp.host]), "-p", "0"];
  const args = [
    ...rest,
    "-f",
    ...listen,
    "-P",
    pidFile,
    ...(options.serverOptions ?? []),
    ...plugin,
  ];
  const child = spawn(program, args, {
    env: clientEnv(options.env),
    stdio: ["ignore", "ignore", "pipe"],
    detached: true, // its own process group, so cleanup reaches anything it started
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => (stderr += text));
  const exited = new Promise<Exit>((resolve) => {
    child.on("exit", (status, signal) => resolve({ status, signal }));
    child.on("error", () => resolve({ status: null, signal: null }));
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const handle: { -readonly [K in keyof BackgroundServer]: BackgroundServer[K] } = {
    dir,
    socket,
    pidFile,
    uri: `nbd+unix://?socket=${socket}`,
    pid: child.pid ?? -1,
    exited,
    stderr: () => stderr,
    async stop(signal = "SIGTERM", graceMs = 5_000) {
      if (!hasExited) child.kill(signal);
      const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      killGroup(child.pid, "SIGKILL"); // stragglers, if the server left any
      running.delete(handle);
      return exit;
    },
  };
  running.add(handle);
  try {
    onTestFinished(async () => {
      await handle.stop("SIGKILL");
    });
  } catch {
    // Started outside a test (beforeAll): the caller stops it, or stopAllServers does.
  }

  const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
  const ready = tcp === undefined
    ? () => isReady(pidFile, socket)
    : () => (handle.ports = listeningOn(pidFile)) !== undefined;
  while (!ready()) {
    if (hasExited) {
      running.delete(handle);
      throw new Error(`Server "${server.name}" exited before it was ready:\n${stderr}`);
    }
    if (Date.now() > deadline) {
      await handle.stop("SIGKILL");
      throw new Error(`Server "${server.name}" wrote no pid file within the timeout:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (tcp?.host !== undefined) {
    const port = tcp.host.includes(":") ? handle.ports?.ipv6 : handle.ports?.ipv4;
    handle.uri = `nbd://${tcp.host.includes(":") ? `[${tcp.host}]` : tcp.host}:${port}`;
  }
  return handle;
}

/** Where the process named by `pidFile` listens on TCP, once it does. */
function listeningOn(pidFile: string): ListeningPorts | undefined {
  let pid: number;
  try {
    const text = readFileSync(pidFile, "utf8");
    if (!/^\d+\n/.test(text)) return undefined;
    pid = Number.parseInt(text, 10);
  } catch {
    return undefined;
  }
  const ports = listeningPorts(pid);
  return ports.ipv4 === undefined && ports.ipv6 === undefined ? undefined : ports;
}

/** A pid file holding a whole line with a number, beside an existing socket. */
function isReady(pidFile: string, socket: string): boolean {
  try {
    return /^\d+\n/.test(readFileSync(pidFile, "utf8")) && existsSync(socket);
  } catch {
    return false;
  }
}

/** Stops every background server still running (for afterAll / afterEach). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop("SIGKILL")));
}

process.once("exit", () => {
  for (const server of running) {
    try {
      process.kill(-server.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});
