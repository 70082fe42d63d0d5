/**
 * Starts a server under test by socket activation, as systemd does: a small python3 parent
 * binds the listening sockets (Unix, or TCP on 127.0.0.1 at a port the kernel picks), forks,
 * puts them at descriptors 3 and up, sets LISTEN_PID to the child's pid and LISTEN_FDS to their
 * count, and execs the server there. The parent stays until the server exits and exits with
 * its status, so a test can also kill the parent first. Never leaves a process behind.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { clientEnv, killGroup, scratchDir } from "./captive.ts";
import type { Exit } from "./background.ts";
import type { Server } from "./servers.ts";

/**
 * argv[1]: the sockets, comma-separated ("tcp", or a Unix socket path); argv[2:]: the server.
 * Prints {"pid": …, "uris": […]} once the server runs at its pid, then waits for it.
 */
const LAUNCHER = String.raw`
import fcntl, json, os, signal, socket, sys
sockets, uris = [], []
for kind in sys.argv[1].split(","):
    if kind == "tcp":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        uris.append("nbd://127.0.0.1:%d" % s.getsockname()[1])
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(kind)
        uris.append("nbd+unix:///?socket=" + kind)
    s.listen(16)
    sockets.append(s)
pid = os.fork()
if pid == 0:
    # Out of the way first, so that moving one to 3 + i never closes another.
    high = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD_CLOEXEC, 100) for s in sockets]
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i)  # inheritable, unlike every other descriptor Python opens
        os.close(fd)
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.environ["LISTEN_FDS"] = str(len(sockets))
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.execvp(sys.argv[2], sys.argv[2:])
for s in sockets:
    s.close()
print(json.dumps({"pid": pid, "uris": uris}), flush=True)
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
`;

export interface ActivatedServer {
  /** The server's pid (the parent's child). */
  readonly pid: number;
  /** The parent that holds it: killing it is the parent dying. */
  readonly parent: ChildProcess;
  /** One NBD URI per socket, in the order asked for. */
  readonly uris: readonly string[];
  /** Settles when the parent has exited: with the server's status, unless it was killed. */
  readonly exited: Promise<Exit>;
  /** Everything the server (and the parent) wrote to stderr so far. */
  stderr(): string;
}

/**
 * Socket-activates `<server> [args…]` on one socket per entry of `sockets`, "unix" or "tcp".
 * `env` is added to the server's environment. Resolves once the server process runs.
 */
export async function startActivated(
  server: Server,
  args: readonly string[],
  sockets: readonly ("unix" | "tcp")[] = ["unix"],
  env: Readonly<Record<string, string>> = {},
): Promise<ActivatedServer> {
  const dir = scratchDir();
  const kinds = sockets.map((kind, i) => (kind === "tcp" ? "tcp" : join(dir, `sock${i}`)));
  const parent = spawn("python3", ["-c", LAUNCHER, kinds.join(","), ...server.argv, ...args], {
    env: clientEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so cleanup reaches the server too
  });
  let stderr = "";
  parent.stderr!.setEncoding("utf8");
  parent.stderr!.on("data", (text: string) => (stderr += text));
  const exited = new Promise<Exit>((resolve) => {
    parent.on("exit", (status, signal) => resolve({ status, signal }));
    parent.on("error", () => resolve({ status: null, signal: null }));
  });
  const report = await new Promise<{ pid: number; uris: string[] }>((resolve, reject) => {
    let stdout = "";
    parent.stdout!.setEncoding("utf8");
    parent.stdout!.on("data", (text: string) => {
      stdout += text;
      if (stdout.includes("\n")) resolve(JSON.parse(stdout));
    });
    void exited.then(() => reject(new Error(`Cannot socket-activate the server:\n${stderr}`)));
  });
  onTestFinished(async () => {
    if (processRunning(report.pid)) process.kill(report.pid, "SIGKILL");
    killGroup(parent.pid, "SIGKILL");
    await exited;
  });
  return { pid: report.pid, parent, uris: report.uris, exited, stderr: () => stderr };
}

/**
 * Whether `pid` is a live process: not gone and not a zombie (an exited process whose parent
 * has not reaped it yet; here that parent may be an init that reaps seconds later).
 */
export function processRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  // "PID (COMM) STATE …": COMM may hold spaces and parentheses, STATE follows the last ')'.
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

/** The live processes whose command line contains `text` (a path unique to one test). */
export function processesMentioning(text: string): number[] {
  return readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text) && processRunning(pid);
    } catch {
      return false; // gone meanwhile
    }
  });
}

/** Resolves true once `check()` holds, polling; false after `ms`. */
export async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}
