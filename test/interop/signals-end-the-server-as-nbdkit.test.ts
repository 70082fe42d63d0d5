/**
 * Each signal ends the server, or not, as it ends nbdkit 1.32.5, so that a parent shell and a
 * --run caller see the same exit status (128+N in a shell when the signal killed it). Measured
 * on nbdkit by sending each signal to the process started, in each way of serving:
 *
 *   signal    -f (foreground)     --run (captive)                      -s (stdin/stdout)
 *   SIGINT    exit 0              ignored: the command's status (7)    exit 0
 *   SIGQUIT   exit 0              ignored: the command's status (7)    exit 0
 *   SIGTERM   exit 0              the command runs on: its status (7)  exit 0
 *   SIGHUP    exit 0              the command runs on: its status (7)  exit 0
 *   SIGUSR1   killed by SIGUSR1   killed by SIGUSR1                    killed by SIGUSR1
 *   SIGPIPE   ignored             ignored                              ignored
 *
 * Node's inspector would take SIGUSR1 and leave the server running; Deno's starts beside it.
 * nbdkit leaves its socket and pid file behind while nbdts removes them, so files are not
 * compared. What a client sees after SIGTERM in captive mode differs too (nbdkit stops
 * answering, nbdts stops listening) and is not compared.
 */

import { spawn } from "node:child_process";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { clientEnv, expectSuccess, killGroup, run } from "../helpers/captive.ts";
import { dedent, pythonList } from "../helpers/libnbd.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

type Signal = "SIGINT" | "SIGQUIT" | "SIGTERM" | "SIGHUP" | "SIGUSR1" | "SIGPIPE";

/** How the process ended: its exit status, or the signal that killed it. */
interface End {
  readonly status: number | null;
  readonly signal: string | null;
}

const EXIT_0: End = { status: 0, signal: null };
const KILLED: End = { status: null, signal: "SIGUSR1" };
/** A captive server's end when the signal leaves its command to finish: `exit 7`. */
const COMMAND_STATUS: End = { status: 7, signal: null };

/** The table above, as data. */
const SIGNALS: readonly { signal: Signal; foreground: End | "ignored"; captive: End }[] = [
  { signal: "SIGINT", foreground: EXIT_0, captive: COMMAND_STATUS },
  { signal: "SIGQUIT", foreground: EXIT_0, captive: COMMAND_STATUS },
  { signal: "SIGTERM", foreground: EXIT_0, captive: COMMAND_STATUS },
  { signal: "SIGHUP", foreground: EXIT_0, captive: COMMAND_STATUS },
  { signal: "SIGUSR1", foreground: KILLED, captive: KILLED },
  { signal: "SIGPIPE", foreground: "ignored", captive: COMMAND_STATUS },
];

/**
 * How long a server runs before it is signalled: past Deno's first half second, after which its
 * inspector listens for SIGUSR1 too, as Node's does from the start.
 */
const SETTLE_MS = 1_000;
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** Signals a captive server leaves alone entirely: it goes on serving. */
const CAPTIVE_IGNORED: readonly Signal[] = ["SIGINT", "SIGQUIT", "SIGPIPE"];

/**
 * Runs `argv` in its own process group and resolves when the process itself exits, even when
 * something it started lives on holding its output open (captive nbdkit killed by SIGUSR1
 * leaves its command and its serving child behind); those are then killed.
 */
function runToExit(argv: readonly string[]): Promise<End & { stdout: string }> {
  const [program, ...args] = argv;
  const child = spawn(program!, args, {
    env: clientEnv(),
    stdio: ["ignore", "pipe", "ignore"],
    detached: true,
  });
  let stdout = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (text: string) => (stdout += text));
  const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), 20_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (status, signal) => {
      clearTimeout(timer);
      killGroup(child.pid, "SIGKILL");
      resolve({ status, signal, stdout });
    });
  });
}

describe.each(servers)("signals end a foreground server as they end nbdkit ($name)", (server) => {
  test.each(SIGNALS.filter((row) => row.foreground !== "ignored"))(
    "$signal ends it as it ends nbdkit",
    async ({ signal, foreground }) => {
      const background = await startServer(server, ["memory", "1M"]);
      await settle();
      expect(await background.stop(signal, 5_000)).toEqual(foreground);
    },
  );

  test("SIGPIPE is ignored: the server goes on serving, then SIGTERM stops it", async (context) => {
    requireClients(context, "nbdinfo");
    const background = await startServer(server, ["memory", "1M"]);
    process.kill(background.pid, "SIGPIPE");
    const info = expectSuccess(await run(["nbdinfo", "--size", background.uri]));
    expect(info.stdout.trim()).toBe("1048576");
    expect(await background.stop("SIGTERM", 5_000)).toEqual(EXIT_0);
  });
});

describe.each(servers)("signals end a captive server as they end nbdkit ($name)", (server) => {
  test.for(SIGNALS)("$signal ends it as it ends nbdkit", async ({ signal, captive }, context) => {
    requireClients(context, "nbdinfo");
    // $PPID is the server the user started: the command's shell is its child.
    const serves = CAPTIVE_IGNORED.includes(signal);
    const after = serves ? 'nbdinfo --size "$uri"' : "echo ran on";
    const script = `sleep ${SETTLE_MS / 1000}; kill -${
      signal.slice(3)
    } $PPID; sleep 1; ${after}; exit 7`;
    const end = await runToExit([...server.argv, "-U", "-", "memory", "1M", "--run", script]);
    expect({ status: end.status, signal: end.signal }).toEqual(captive);
    if (captive === COMMAND_STATUS) expect(end.stdout).toBe(serves ? "1048576\n" : "ran on\n");
  });
});

/**
 * Python (libnbd): serves `argv -s memory 1M` through connect_command, sends the server (our
 * child) `signal` once connected, tries a read, ends the connection, and reports whether the
 * read was served and how the server ended.
 */
function singleScript(argv: readonly string[], signal: Signal): string {
  return dedent(`
    import json, os, signal, time, nbd
    h = nbd.NBD()
    h.connect_command(${pythonList([...argv, "-s", "memory", "1M"])})
    time.sleep(${SETTLE_MS / 1000})
    def parent_of(pid):
        with open("/proc/%s/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    child = next(int(p) for p in os.listdir("/proc") if p.isdigit() and parent_of(p) == os.getpid())
    os.kill(child, signal.${signal})
    time.sleep(0.5)
    try:
        h.pread(512, 0)
        served = True
    except nbd.Error:
        served = False
    try:
        h.shutdown()  # nbdkit, having refused the read, waits for the client to go
    except nbd.Error:
        pass  # nbdts has closed the connection already
    _, status = os.waitpid(child, 0)
    end = {"status": None, "signal": signal.Signals(os.WTERMSIG(status)).name} \\
        if os.WIFSIGNALED(status) else {"status": os.WEXITSTATUS(status), "signal": None}
    print(json.dumps({"served": served, "end": end}))
  `);
}

describe.each(servers)("signals end a -s server as they end nbdkit ($name)", (server: Server) => {
  test.for(SIGNALS)(
    "$signal ends it as it ends nbdkit",
    async ({ signal, foreground }, context) => {
      requireClients(context, "nbdsh");
      const result = expectSuccess(await run(["python3", "-c", singleScript(server.argv, signal)]));
      const { served, end } = JSON.parse(result.stdout) as { served: boolean; end: End };
      if (foreground === "ignored") {
        expect(served).toBe(true);
        expect(end).toEqual(EXIT_0);
      } else {
        expect(end).toEqual(foreground);
      }
    },
  );
});
