/**
 * Where the log filter's entries go, in nbdkit's exact format (filters/log/output.c): a line in
 * the log file (and to an embedding program's destination, log-destination.ts), and a run of the
 * log script with the entry as shell variables. An entry is an
 * action's start (ENTER: "... " after it), its end (LEAVE: "..." before the action) or a single
 * line (PRINT); requests carry their connection and an id pairing the two halves:
 *
 *   2020-08-06 02:07:23.080907 connection=1 Read id=1 offset=0x0 count=0x200 ...
 *   2020-08-06 02:07:23.080927 connection=1 ...Read id=1 return=0
 *
 * Timestamps are UTC with microseconds. Writing a line never fails a request.
 */

import { logError } from "../api/error-log.ts";
import { ERRNO, type Errno, NbdError } from "../api/errors.ts";
import type { PluginHost, ShellEnd, TextOutput } from "../io.ts";
import type { LineSink } from "./log-destination.ts";

export type EntryType = "ENTER" | "LEAVE" | "PRINT";

/** One entry: `connection` and `id` are left out (0) where nbdkit leaves them out. */
export interface Entry {
  readonly connection: number;
  readonly id: number;
  readonly act: string;
  readonly type: EntryType;
  /** The fields, "offset=0x0 count=0x200", as shell assignments. */
  readonly fields: string;
}

let lastMicros = 0;

/**
 * gettimeofday's wall clock as nbdkit prints it, "2020-08-06 02:07:23.080907": the milliseconds
 * of Date.now(), the microseconds within them from the monotonic clock, never going back.
 */
export function timestamp(): string {
  const micros = Math.max(
    Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000),
    lastMicros,
  );
  lastMicros = micros;
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(micros % 1_000_000).padStart(6, "0")}`;
}

/** The log file's line for `entry`, stamped `time`, ending in a newline. */
export function fileLine(time: string, entry: Entry): string {
  let line = entry.connection ? `${time} connection=${entry.connection} ` : `${time} `;
  line += entry.type === "LEAVE" ? `...${entry.act}` : entry.act;
  if (entry.id) line += ` id=${entry.id}`;
  if (entry.fields !== "") line += ` ${entry.fields}`;
  if (entry.type === "ENTER") line += " ...";
  return line + "\n";
}

/** The shell text a log script runs for `entry`: its variables, then the script. */
export function scriptText(entry: Entry, script: string): string {
  let text = `act=${entry.act}\n`;
  if (entry.connection) text += `connection=${entry.connection}\n`;
  text += `type=${entry.type}\n`;
  if (entry.id) text += `id=${entry.id}\n`;
  return `${text}${entry.fields}\n${script}`;
}

/**
 * "return=0", or "return=-1 error=EIO" with the error as the client sees it (nbdkit decodes
 * only what NBD can carry; anything else is EINVAL there, and an error that is no NbdError is
 * EIO, as the server answers it).
 */
export function outcome(error?: unknown): string {
  if (error === undefined) return "return=0";
  return `return=-1 error=${wireName(error instanceof NbdError ? error.errno : ERRNO.EIO)}`;
}

function wireName(errno: Errno): string {
  switch (errno) {
    case ERRNO.EROFS:
    case ERRNO.EPERM:
      return "EPERM";
    case ERRNO.EDQUOT:
    case ERRNO.EFBIG:
    case ERRNO.ENOSPC:
      return "ENOSPC";
    case ERRNO.EOPNOTSUPP:
    case ERRNO.ENOTSUP:
      return "ENOTSUP";
    case ERRNO.EIO:
    case ERRNO.ENOMEM:
    case ERRNO.ESHUTDOWN:
    case ERRNO.EOVERFLOW:
      return errno;
    default:
      return "EINVAL";
  }
}

/** The log file, the script and an embedder's destination, as configured; any may be absent. */
export class LogOutput {
  private readonly file: TextOutput | undefined;
  private readonly script: string | undefined;
  private readonly host: PluginHost | undefined;
  private readonly to: LineSink | undefined;

  constructor(
    file: TextOutput | undefined,
    script: string | undefined,
    host?: PluginHost,
    to?: LineSink,
  ) {
    this.file = file;
    this.script = script;
    this.host = host;
    this.to = to;
  }

  /** Whether entries go anywhere: with no logfile=, logscript= or destination, the filter idles. */
  get active(): boolean {
    return this.file !== undefined || this.script !== undefined || this.to !== undefined;
  }

  /** Settles once the destination has room for more lines; undefined when it has room now. */
  ready(): Promise<void> | undefined {
    return this.to?.ready();
  }

  /**
   * Writes the line, then starts the script without waiting for it, as nbdkit 1.32.5 does
   * (measured: a read through `logscript='sleep 0.3; …'` takes no longer there), so scripts may
   * finish in any order; how each ends is logged when it does.
   */
  write(entry: Entry): void {
    const line = fileLine(timestamp(), entry);
    try {
      this.file?.write(line);
    } catch (error) {
      logError(`logfile: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.to?.write(line);
    if (this.script === undefined) return;
    void this.host!.runShell!(scriptText(entry, this.script)).then(reportEnd, reportFailure);
  }

  close(): void {
    this.file?.close();
    this.to?.close();
  }
}

/** A script's status is logged, never acted on (nbdkit's exit_status_to_nbd_error). */
function reportEnd(end: ShellEnd): void {
  if (end.signal !== undefined) logError(`logscript: command was killed by signal ${end.signal}`);
  else if (end.status !== 0) logError(`logscript: command failed with exit code ${end.status}`);
}

function reportFailure(error: unknown): void {
  logError(`logscript: ${error instanceof Error ? error.message : String(error)}`);
}
