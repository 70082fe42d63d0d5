/**
 * Process services on Node's `process` and `child_process`, which Bun and Deno implement as
 * well: signals, parent watching and writes to stdout for the Node and Bun adapters, daemon
 * mode for all three (node:child_process is imported only when it starts one), and signal
 * numbers. How the program was started (start-env.ts) is read by each adapter first.
 */

import { constants } from "node:os";
import process from "node:process";
import type { ProcessSignal } from "../io.ts";
import {
  ARGV0_ENV,
  DAEMON_ENV,
  DAEMON_READY,
  daemonReady as nodeDaemonReady,
  startEnv,
  takeStartEnv,
} from "./start-env.ts";
import { SIGNALS } from "./signal-names.ts";

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

/** Reads how this process was started from process.env (start-env.ts), for Node and Bun. */
export function takeProcessStartEnv(): void {
  takeStartEnv({
    get: (name) => process.env[name],
    unset: (name) => void delete process.env[name],
  });
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
 * Runtime.daemonize: `command` runs this program again with the same arguments. The starting
 * process relays the copy's stdout up to the readiness marker and its stderr until then, and
 * resolves to 0 at the marker or to the copy's status when it ends without one.
 */
export async function daemonize(
  command: readonly string[],
  keepStderr: boolean,
  keepStdin = false,
): Promise<number | "background"> {
  const { wrapperPath, daemonStderr } = startEnv();
  if (daemonStderr !== undefined) return "background";
  const { spawn } = await import("node:child_process");
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

/**
 * Runtime.daemonReady for Node and Bun: once detached, the starting process exits and closes the
 * pipes, and a stray write must not crash us.
 */
export function daemonReady(): void {
  nodeDaemonReady(
    (text) => void process.stdout.write(text),
    () => {
      process.stdout.on("error", () => {});
      if (startEnv().daemonStderr === "pipe") process.stderr.on("error", () => {});
    },
  );
}
