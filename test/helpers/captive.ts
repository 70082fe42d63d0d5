/**
 * Runs a server under test to completion: captive mode (`-U - PLUGIN … --run SCRIPT`) or any
 * other command line, collecting exit status, stdout and stderr under a timeout. Never
 * leaves a process behind: a run that overstays its timeout is killed.
 */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { CLIENT_PATH, type Server } from "./servers.ts";

/** How a finished process ended and what it printed. */
export interface RunResult {
  /** Exit status, or null when a signal ended it. */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the timeout expired and the process was killed. */
  readonly timedOut: boolean;
}

export interface RunOptions {
  /** Kill the process after this many milliseconds (default 30 s). */
  readonly timeoutMs?: number;
  /** Extra environment variables; PATH always starts with /usr/bin. */
  readonly env?: Readonly<Record<string, string>>;
  /** Bytes written to the process's standard input, which is then closed. */
  readonly input?: string | Uint8Array;
  readonly cwd?: string;
}

export interface CaptiveOptions extends RunOptions {
  /** Server options placed between `-U -` and the plugin, e.g. `["-r"]` or `["-e", "foo"]`. */
  readonly serverOptions?: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** The environment for every client and server subprocess: ours, with /usr/bin first on PATH. */
export function clientEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: CLIENT_PATH, ...extra };
}

/** Runs `argv` to completion (or to its timeout) and reports how it ended. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [program, ...args] = argv;
  if (program === undefined) throw new TypeError("Cannot run a command: argv is empty");
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: clientEnv(options.env),
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true, // its own process group, so a timeout kills the server's --run children too
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, "SIGKILL");
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on("error", () => {}); // the process may exit without reading its input
    child.stdin.end(options.input ?? "");
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`Cannot start "${program}": ${error.message}`));
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({
        status,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        timedOut,
      });
    });
  });
}

/** Sends `signal` to the process group led by `pid` (started with `detached: true`). */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

/** Runs the server with `args` after its own argv: `runServer(server, ["--version"])`. */
export function runServer(
  server: Server,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return run([...server.argv, ...args], options);
}

/**
 * Captive mode: `<server> -U - [serverOptions] <plugin…> --run <script>`. The script is shell
 * text; the server sets $uri, $nbd, $unixsocket, $exportname and $port as shell variables
 * (not exported: pass them on explicitly, `uri="$uri" python3 …`).
 */
export function captive(
  server: Server,
  plugin: readonly string[],
  script: string,
  options: CaptiveOptions = {},
): Promise<RunResult> {
  const args = ["-U", "-", ...(options.serverOptions ?? []), ...plugin, "--run", script];
  return runServer(server, args, options);
}

/** Returns `result` when the process exited with status 0; otherwise throws with its output. */
export function expectSuccess(result: RunResult): RunResult {
  if (result.status === 0 && !result.timedOut) return result;
  throw new Error(
    `Command failed: ${
      describeEnd(result)
    }\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`,
  );
}

/** "exit status 1", "signal SIGKILL (timed out)" and so on, for failure messages. */
export function describeEnd(result: RunResult): string {
  const end = result.signal ? `signal ${result.signal}` : `exit status ${result.status}`;
  return result.timedOut ? `${end} (timed out)` : end;
}

/**
 * A fresh private directory, removed when the current test finishes (or, when called
 * outside a test, when the process exits).
 */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "nbdts-interop-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    onTestFinished(remove);
  } catch {
    process.once("exit", remove);
  }
  return dir;
}

/** Quotes `text` as one shell word. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
