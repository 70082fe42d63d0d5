/**
 * Runs one method of a script as nbdkit's sh and eval plugins do (plugins/sh/call.c): the
 * program `SCRIPT METHOD ARGS…` with $tmpdir in its environment and the bytes of a write on its
 * stdin (an empty stdin otherwise, where nbdkit leaves it open), its exit status read as nbdkit
 * reads it: 0 done, 2 the method is missing, 3 false, anything else an error whose errno and
 * message come from stderr (script-error.ts). It owns the private directory $tmpdir names.
 *
 * A call made while serving a client is given up after a deadline (NBDTS_SCRIPT_TIMEOUT
 * seconds, 60 by default; 0 waits for ever, as nbdkit does): the script and everything it
 * started are killed and the request fails with EIO, so that one script that never ends cannot
 * hold every other client up behind it. Load-time calls (config, get_ready …) are never timed:
 * a script may take long to prepare a disk, and the user sees a server that has not started.
 */

import { ConfigError, ERRNO, type Errno, NbdError } from "../../api/errors.ts";
import { debug } from "../../api/debug.ts";
import { logError } from "../../api/error-log.ts";
import type { PluginHost, SpawnResult } from "../../io.ts";
import { readScriptError } from "./script-error.ts";
import { shellQuote } from "../../api/shell-quote.ts";

/** What an exit status means (nbdkit's plugins/sh/call.h); 4 to 7 are reserved, read as 1. */
export const EXIT = { OK: 0, ERROR: 1, MISSING: 2, FALSE: 3 } as const;

/** The statuses a method returns from; ERROR throws instead. */
export type Answered = typeof EXIT.OK | typeof EXIT.MISSING | typeof EXIT.FALSE;

export interface Answer {
  readonly status: Answered;
  /** Its standard output (kept up to the call's limit). */
  readonly stdout: Uint8Array;
  /** How many bytes it printed in all. */
  readonly stdoutLength: number;
}

export interface CallOptions {
  /** The bytes of a write, on the script's stdin. */
  readonly stdin?: Uint8Array;
  /** Standard output kept; more is counted only. Default: TEXT_LIMIT. */
  readonly stdoutLimit?: number;
  /** Called while a client is served: the deadline applies. */
  readonly timed?: boolean;
  /**
   * Print the failure as nbdkit_error does, for callbacks whose failure the server would not
   * report itself (requests, close, unload): those it reports (open, can_*, list_exports …)
   * would otherwise say it twice.
   */
  readonly logFailure?: boolean;
}

/** Output kept from methods that print text (sizes, names, extents): far more than any needs. */
export const TEXT_LIMIT = 64 * 1024 * 1024;
/** Standard error kept: the first line is the error, the rest only goes to the debug log. */
const STDERR_LIMIT = 64 * 1024;
const DEFAULT_TIMEOUT_SECONDS = 60;
export const TIMEOUT_VARIABLE = "NBDTS_SCRIPT_TIMEOUT";

/** strerror's words for what stops a program from starting, as the child's perror prints them. */
const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  ENOEXEC: "Exec format error",
  ENOTDIR: "Not a directory",
  ELOOP: "Too many levels of symbolic links",
  E2BIG: "Argument list too long",
};

const decoder = new TextDecoder();

/** Bytes a script printed as text, cut at the first NUL as nbdkit's C strings are. */
export function textOf(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return decoder.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}

/** A message from a script made safe for one log line: control characters shown as \xNN. */
function printable(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex -- control characters are what it looks for
    /[\x00-\x08\x0b-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** The failure of a method, named as nbdkit names it ("/path/script: message"). */
export function scriptFailure(
  script: string,
  errno: Errno,
  message: string,
  log: boolean | undefined,
): NbdError {
  const line = `${script}: ${message}`;
  if (log) logError(line);
  return new NbdError(errno, line);
}

export class ScriptRunner {
  /** The private directory scripts find in $tmpdir; removed by dispose(). */
  readonly tmpdir: string;
  private readonly host: ScriptHost;
  private readonly env: Readonly<Record<string, string>>;
  private readonly timeoutMs: number | undefined;

  private constructor(host: ScriptHost, tmpdir: string, timeoutMs: number | undefined) {
    this.host = host;
    this.tmpdir = tmpdir;
    this.env = { tmpdir };
    this.timeoutMs = timeoutMs;
  }

  /** Makes $tmpdir (nbdkit's call_load) and reads the deadline. */
  static async create(host: ScriptHost): Promise<ScriptRunner> {
    const timeoutMs = readTimeout(host.getEnv(TIMEOUT_VARIABLE));
    let tmpdir: string;
    try {
      tmpdir = await host.makeTempDir();
    } catch (error) {
      throw new ConfigError(`mkdtemp: /tmp: ${(error as Error).message}`);
    }
    debug(`load: tmpdir: ${tmpdir}`);
    return new ScriptRunner(host, tmpdir, timeoutMs);
  }

  /** Removes $tmpdir and all the scripts left in it (nbdkit's call_unload); never throws. */
  async dispose(): Promise<void> {
    try {
      await this.host.removePath(this.tmpdir);
    } catch {
      // as nbdkit's rm -rf: ignored
    }
  }

  /**
   * Runs `argv` (the script, the method, its arguments). Resolves to status 0, 2 or 3 with
   * what the script printed; throws an NbdError for anything else.
   */
  async call(argv: readonly string[], options: CallOptions = {}): Promise<Answer> {
    const [script, method] = argv;
    debug(`calling: ${argv.map(shellQuote).join(" ")}`);
    const deadline = options.timed && this.timeoutMs !== undefined
      ? AbortSignal.timeout(this.timeoutMs)
      : undefined;
    let result: SpawnResult;
    try {
      result = await this.host.spawn(argv, {
        stdin: options.stdin,
        env: this.env,
        stdoutLimit: options.stdoutLimit ?? TEXT_LIMIT,
        stderrLimit: STDERR_LIMIT,
        signal: deadline,
      });
    } catch (error) {
      if (deadline?.aborted) {
        const seconds = this.timeoutMs! / 1000;
        const why = `${method} did not finish in ${seconds} s, killed it ` +
          `(${TIMEOUT_VARIABLE}=SECONDS waits longer, 0 for ever)`;
        throw scriptFailure(script, ERRNO.EIO, why, options.logFailure);
      }
      // As the child's perror: the program could not be started at all.
      const code = (error as { code?: string }).code ?? "";
      const words = STRERROR[code] ?? (error as Error).message;
      throw scriptFailure(script, ERRNO.EIO, `${script}: ${words}`, options.logFailure);
    }
    if (result.signal === undefined) {
      debug(`completed: ${script} ${method}: status ${result.status}`);
    }
    // Only a script that says it succeeded is doubted for not reading all it was given: one
    // that failed says why itself (nbdkit reports the broken pipe whenever it sees one, which
    // depends on how fast the script exits).
    if (result.stdinRefused && result.signal === undefined && result.status === EXIT.OK) {
      throw scriptFailure(
        script,
        ERRNO.EIO,
        "write to script failed because of a broken pipe: this can happen if the script " +
          "exits without consuming stdin, which usually indicates a bug in the script",
        options.logFailure,
      );
    }
    const status = result.signal === undefined ? result.status : EXIT.ERROR;
    if (status === EXIT.OK || status === EXIT.MISSING || status === EXIT.FALSE) {
      // A limit given is the caller's to check (pread's count); text past TEXT_LIMIT is garbage.
      if (options.stdoutLimit === undefined && result.stdoutLength > TEXT_LIMIT) {
        const why = `${method} printed more than ${TEXT_LIMIT} bytes`;
        throw scriptFailure(script, ERRNO.EIO, why, options.logFailure);
      }
      return { status, stdout: result.stdout, stdoutLength: result.stdoutLength };
    }
    throw this.failure(script, result, options.logFailure);
  }

  /** What a script that failed said, as nbdkit reports it. */
  private failure(script: string, result: SpawnResult, log: boolean | undefined): NbdError {
    const said = readScriptError(textOf(result.stderr));
    if (said.whole !== undefined) debug(`${script}: ${printable(said.whole)}`);
    let message = said.message === undefined
      ? "script exited with error, but did not print an error message on stderr"
      : printable(said.message);
    if (result.signal !== undefined) {
      message = `script terminated by signal ${result.signal}` +
        (said.message === undefined ? "" : `: ${message}`);
    }
    return scriptFailure(script, said.errno, message, log);
  }
}

/** The parts of the PluginHost the script plugins need. */
export type ScriptHost =
  & PluginHost
  & Required<Pick<PluginHost, "spawn" | "makeTempDir" | "writeFile" | "removePath">>;

/** The host, if it can run scripts; otherwise a ConfigError saying what is missing. */
export function scriptHost(host: PluginHost | undefined, plugin: string): ScriptHost {
  if (!host?.spawn || !host.makeTempDir || !host.writeFile || !host.removePath) {
    throw new ConfigError(
      `${plugin}: cannot run scripts: this server gives built-in plugins no way to start programs`,
    );
  }
  return host as ScriptHost;
}

/** NBDTS_SCRIPT_TIMEOUT in milliseconds; undefined for no deadline. */
function readTimeout(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return DEFAULT_TIMEOUT_SECONDS * 1000;
  const seconds = Number(value);
  if (!/^\s*\d+(\.\d*)?\s*$/.test(value) || !Number.isFinite(seconds)) {
    throw new ConfigError(
      `${TIMEOUT_VARIABLE}=${value}: expected a number of seconds (0 waits for ever)`,
    );
  }
  return seconds === 0 ? undefined : seconds * 1000;
}
