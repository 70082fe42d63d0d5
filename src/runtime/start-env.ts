/**
 * What the environment tells this process about how it was started, for every runtime and with
 * no runtime's API: the name a wrapper script gave it (NBDTS_ARGV0), its part in daemon mode
 * (NBDTS_DAEMON_STDERR), and whether it has detached. Each variable is taken out of the
 * environment when read, so commands the server runs never inherit it.
 */

/** Set by a wrapper script to its own path ("$0"); daemon mode hands it on. */
export const ARGV0_ENV = "NBDTS_ARGV0";

/**
 * Set when daemon mode re-runs the program: "pipe" when its stderr is a pipe to the starting
 * process (dropped once ready), "keep" when it is the user's stderr (-v).
 */
export const DAEMON_ENV = "NBDTS_DAEMON_STDERR";

/** What the background copy writes on its stdout (a pipe to the starting process) once ready. */
export const DAEMON_READY = "\0nbdts-daemon-ready\0\n";

/** The environment as an adapter reaches it. */
export interface StartEnvAccess {
  get(name: string): string | undefined;
  unset(name: string): void;
}

/** The variables as they were at start-up, once taken. */
export interface StartEnv {
  readonly wrapperPath: string | undefined;
  readonly daemonStderr: string | undefined;
}

let taken: StartEnv | undefined;
let detached = false;

/** Reads and removes both variables the first time; later calls answer what was read then. */
export function takeStartEnv(env: StartEnvAccess): StartEnv {
  if (taken) return taken;
  const read = (name: string) => {
    const value = env.get(name);
    if (value !== undefined) env.unset(name);
    return value;
  };
  taken = { wrapperPath: read(ARGV0_ENV), daemonStderr: read(DAEMON_ENV) };
  return taken;
}

/** The variables read by takeStartEnv (which the adapter calls first), or none. */
export function startEnv(): StartEnv {
  return taken ?? { wrapperPath: undefined, daemonStderr: undefined };
}

/** Runtime.programPath: the wrapper's path when one set it, else `scriptPath`. */
export function programPath(scriptPath: string): string {
  return startEnv().wrapperPath || scriptPath;
}

/**
 * Runtime.daemonReady: in the background copy, writes the marker (with the adapter's own stdout
 * writer), once; `detach` then readies the adapter's streams for the starting process's exit.
 */
export function daemonReady(writeStdout: (text: string) => void, detach?: () => void): void {
  const { daemonStderr } = startEnv();
  if (daemonStderr === undefined || detached) return;
  writeStdout(DAEMON_READY);
  detached = true;
  detach?.();
}

/** Whether output to this stream still reaches anyone (not after daemonReady, but -v stderr). */
export function outputOpen(stream: "stdout" | "stderr"): boolean {
  return !detached || (stream === "stderr" && startEnv().daemonStderr === "keep");
}
