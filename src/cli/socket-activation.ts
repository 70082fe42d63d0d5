/**
 * Socket activation, as nbdkit 1.32.5 reads it (server/socket-activation.c, nbdkit-service(1)):
 * when LISTEN_PID names this process and LISTEN_FDS counts the listening sockets passed from
 * descriptor 3 up (by systemd, or by libnbd's clients for a private server), the server serves
 * on those, stays in the foreground and refuses the options that choose where to listen.
 * The runtime adopts the sockets; this file decides when, and with what errors.
 */

import { ConfigError, messageOf } from "../api/errors.ts";
import { parseUnsigned } from "../api/parse-integer.ts";
import type { Accept, Listener, Runtime } from "../io.ts";
import type { CommandLine } from "./command-line.ts";
import type { OptionId } from "./options.ts";
import { errorLine } from "./program-name.ts";

/** The first inherited descriptor: stdin, stdout and stderr come before it (sd_listen_fds). */
const FIRST_ACTIVATION_FD = 3;

/** nbdkit's bound on LISTEN_FDS: more is taken for a mistake, not ignored. */
const MAX_ACTIVATION_FDS = 16;

/** What the environment says: the descriptors to serve on, and lines for stderr. */
export interface ActivationCheck {
  /** The inherited listening sockets; empty when socket activation is off. */
  readonly fds: readonly number[];
  /** Why the variables were ignored, one line each, as nbdkit prints them (no program name). */
  readonly notes: readonly string[];
}

/**
 * Reads LISTEN_PID and LISTEN_FDS as nbdkit does: either missing, a LISTEN_PID that is not a
 * number (said) or names another process (said), or a LISTEN_FDS that is not a number (said)
 * turns activation off; a LISTEN_FDS of 0 or over 16 is an error.
 */
export function checkSocketActivation(
  listenPid: string | undefined,
  listenFds: string | undefined,
  pid: number,
): ActivationCheck {
  const off = (...notes: string[]): ActivationCheck => ({ fds: [], notes });
  if (listenPid === undefined) return off();
  const owner = parseOrNote("LISTEN_PID", listenPid);
  if (typeof owner === "string") return off(owner);
  if (owner !== pid) return off("LISTEN_PID was not for us (ignored)");
  if (listenFds === undefined) return off();
  const count = parseOrNote("LISTEN_FDS", listenFds);
  if (typeof count === "string") return off(count);
  if (count === 0 || count > MAX_ACTIVATION_FDS) {
    throw new ConfigError(`socket activation: LISTEN_FDS=${listenFds} out of range`);
  }
  const fds = Array.from({ length: count }, (_, i) => FIRST_ACTIVATION_FD + i);
  return { fds, notes: [] };
}

/** The number, or the error line nbdkit_parse_unsigned prints before the value is ignored. */
function parseOrNote(name: string, text: string): number | string {
  try {
    return parseUnsigned(name, text);
  } catch (error) {
    return `error: ${messageOf(error)}`;
  }
}

/**
 * Checks the environment at start-up, prints its notes on stderr, and when activated removes
 * LISTEN_PID and LISTEN_FDS from the environment, so no child process takes the sockets for its
 * own (as nbdkit does; LISTEN_FDNAMES stays, as it does for nbdkit). Returns the descriptors.
 */
export function takeSocketActivation(runtime: Runtime): number[] {
  const check = checkSocketActivation(
    runtime.getEnv("LISTEN_PID"),
    runtime.getEnv("LISTEN_FDS"),
    runtime.pid,
  );
  for (const note of check.notes) runtime.stderr(errorLine(note) + "\n");
  if (check.fds.length > 0) {
    runtime.unsetEnv("LISTEN_PID");
    runtime.unsetEnv("LISTEN_FDS");
  }
  return [...check.fds];
}

/**
 * The options that say where to listen, each with the name nbdkit's refusal gives it; nbdkit
 * has no --websocket, and the inherited socket is not an HTTP one.
 */
const REFUSED: Partial<Record<OptionId, string>> = {
  ipaddr: "-i",
  port: "-p",
  run: "--run",
  single: "-s",
  unix: "-U",
  websocket: "--websocket",
};

/** Under socket activation, the error for an option that cannot be used with it, if any. */
export function refusedWithActivation(id: OptionId): ConfigError | undefined {
  const flag = REFUSED[id];
  return flag === undefined
    ? undefined
    : new ConfigError(`cannot use socket activation with ${flag} flag`);
}

/**
 * What activation implies for the rest of the command line: -f, as nbdkit-service(1) says; no
 * URI to print (nbdkit prints one only for a socket it bound itself); and --exit-with-parent,
 * because nbdkit 1.32.5 asks for SIGTERM when its parent dies whatever the options (server/main.c
 * calls set_exit_with_parent unconditionally), so a private server goes with the client that
 * started it.
 */
export function withActivation(line: CommandLine): CommandLine {
  return { ...line, foreground: true, printUri: false, exitWithParent: true };
}

/**
 * Serves on every inherited socket; the one Listener returned closes them all. A descriptor
 * the runtime cannot listen on fails with nbdkit's words for a descriptor that is not open.
 */
export async function listenInherited(
  runtime: Runtime,
  fds: readonly number[],
  accept: Accept,
): Promise<Listener> {
  const listeners: Listener[] = [];
  for (const fd of fds) {
    try {
      listeners.push(await runtime.listen({ kind: "inherited", fd }, accept));
    } catch (error) {
      const reason = messageOf(error);
      throw new ConfigError(`socket activation: invalid file descriptor fd = ${fd}: ${reason}`);
    }
  }
  return {
    port: listeners.find((listener) => listener.port !== undefined)?.port,
    close: async () => void await Promise.all(listeners.map((listener) => listener.close())),
  };
}
