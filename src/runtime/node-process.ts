/**
 * Process services on Node's `process` and `child_process`, which Bun and Deno implement as
 * well: signals, parent watching and writes to stdout for the Node and Bun adapters, and the
 * name the program was started as and daemon mode for all three.
 */

import { spawn } from "node:child_process";
import { constants } from "node:os";
import process from "node:process";
import type { ProcessSignal } from "../io.ts";

/** Every ProcessSignal, for the adapters to listen to. */
export const SIGNALS: readonly ProcessSignal[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
];

/**
 * Runtime.onSignal. A listener replaces the default action: for SIGUSR1 on Node it also
 * replaces the inspector, which would otherwise start listening and leave the server running.
 */
export function onSignal(handler: (signal: ProcessSignal) => void): void {
  for (const signal of SIGNALS) process.on(signal, () => handler(signal));
}

/**
 * Runtime.dieBySignal: with no listener left, Node and Bun restore the default action, and the
 * signal sent to ourselves kills the process before kill() returns. Should it ever not, the
 * exit status is still what a shell would show for it.
 */
export function dieBySignal(signal: ProcessSignal): Promise<never> {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  return new Promise(() => setTimeout(() => process.exit(128 + signalNumber(signal)), 1000));
}

/**
 * A wrapper script sets NBDTS_ARGV0 to its own path ("$0"), where the runtime would show only
 * the script it runs (Bun follows links; Deno and Bun run nbd.ts through the wrapper). Taken out
 * of the environment, so commands the server runs never inherit it; daemon mode hands it on.
 */
const ARGV0_ENV = "NBDTS_ARGV0";
const wrapperPath = process.env[ARGV0_ENV];
if (wrapperPath !== undefined) delete process.env[ARGV0_ENV];

/** Runtime.programPath: the wrapper's path when one set it, else `scriptPath`. */
export function programPath(scriptPath: string): string {
  return wrapperPath || scriptPath;
}

/** Sends ourselves SIGTERM once the parent that started us is gone (--exit-with-parent). */
export function exitWithParent(): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, "SIGTERM");
  }, 1000);
  timer.unref();
}

/** A -s connection's Channel.write: a promise when stdout's buffer is full, settling on drain. */
export function writeStdout(parts: Uint8Array[]): Promise<void> | undefined {
  let ok = true;
  for (const part of parts) ok = process.stdout.write(part);
  return ok ? undefined : new Promise((r) => process.stdout.once("drain", () => r()));
}

/**
 * Daemon mode re-runs the program with this variable set: "pipe" when its stderr is a pipe to
 * the starting process (dropped once ready), "keep" when it is the user's stderr (-v).
 */
const DAEMON_ENV = "NBDTS_DAEMON_STDERR";
/** What the background copy writes on its stdout (a pipe to the starting process) once ready. */
const DAEMON_READY = "\0nbdts-daemon-ready\0\n";

/** This process's part in daemon mode, taken out of the environment so children never see it. */
const daemonStderr = process.env[DAEMON_ENV];
if (daemonStderr !== undefined) delete process.env[DAEMON_ENV];
let detached = false;

/**
 * Runtime.daemonize: `command` runs this program again with the same arguments. The starting
 * process relays the copy's stdout up to the readiness marker and its stderr until then, and
 * resolves to 0 at the marker or to the copy's status when it ends without one.
 */
export function daemonize(
  command: readonly string[],
  keepStderr: boolean,
  keepStdin = false,
): Promise<number | "background"> {
  if (daemonStderr !== undefined) return Promise.resolve("background");
  const [program, ...args] = command;
  const child = spawn(program!, args, {
    stdio: [keepStdin ? "inherit" : "ignore", "pipe", keepStderr ? "inherit" : "pipe"],
    env: {
      ...process.env,
      [DAEMON_ENV]: keepStderr ? "keep" : "pipe",
      ...(wrapperPath ? { [ARGV0_ENV]: wrapperPath } : {}),
    },
  });
  return new Promise((resolve) => {
    let held = Buffer.alloc(0);
    let settled = false;
    const settle = (status: number) => {
      if (settled) return;
      settled = true;
      resolve(status);
    };
    child.stdout!.on("data", (chunk: Buffer) => {
      if (settled) return;
      held = Buffer.concat([held, chunk]);
      const at = held.indexOf(DAEMON_READY);
      if (at >= 0) {
        process.stdout.write(held.subarray(0, at));
        child.stdout!.destroy();
        child.stderr?.destroy();
        child.unref();
        settle(0);
        return;
      }
      // Relay all but a tail that could be the start of the marker.
      const keep = Math.min(held.length, DAEMON_READY.length - 1);
      process.stdout.write(held.subarray(0, held.length - keep));
      held = held.subarray(held.length - keep);
    });
    child.stderr?.on("data", (chunk: Buffer) => void process.stderr.write(chunk));
    child.on("error", (error) => {
      process.stderr.write(`cannot start the background server: ${error.message}\n`);
      settle(1);
    });
    child.on("close", (code, signal) => {
      if (settled) return;
      process.stdout.write(held);
      settle(code ?? 128 + signalNumber(signal));
    });
  });
}

/** The number of a signal by name (0 for none), as the kernel numbers it here. */
export function signalNumber(signal: string | null): number {
  return constants.signals[signal as NodeJS.Signals] ?? 0;
}

/** Runtime.daemonReady: `writeStdout` is the adapter's own stdout writer. */
export function daemonReady(writeStdout: (text: string) => void): void {
  if (daemonStderr === undefined || detached) return;
  writeStdout(DAEMON_READY);
  detached = true;
  // The starting process exits now, closing the pipes: a stray write must not crash us.
  process.stdout.on("error", () => {});
  if (daemonStderr === "pipe") process.stderr.on("error", () => {});
}

/** Whether output to this stream still reaches anyone (not after daemonReady, but -v stderr). */
export function outputOpen(stream: "stdout" | "stderr"): boolean {
  return !detached || (stream === "stderr" && daemonStderr === "keep");
}
