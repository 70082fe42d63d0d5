/**
 * The events the exitwhen filter waits for (man nbdkit-exitwhen-filter), each made from its
 * parameter and checked on demand: a file appearing or going away, a process ending, the other
 * end of a pipe closing, or a script exiting with status 88. A check that cannot be made is
 * logged and counts as "not yet", as nbdkit's does, except an invalid pipe descriptor, which
 * counts as the event (the server then exits at start-up).
 */

import { debug } from "../api/debug.ts";
import { ConfigError } from "../api/errors.ts";
import { logError } from "../api/error-log.ts";
import { parseInt32, parseUint64 } from "../api/parse-integer.ts";
import type { PluginHost } from "../io.ts";

/** One event: check() says whether it has happened. */
export interface ExitEvent {
  check(): boolean | Promise<boolean>;
}

/** The script status that says the event happened. */
const HAPPENED = 88;

/** The event a parameter names, or undefined when `key` is none of exitwhen's events. */
export function eventOf(
  key: string,
  value: string,
  host: PluginHost | undefined,
): ExitEvent | undefined {
  switch (key) {
    case "exit-when-file-created":
      return fileCreated(need(host, key, "pathExists"), value);
    case "exit-when-file-deleted":
      return fileDeleted(need(host, key, "pathExists"), value);
    case "exit-when-process-exits":
    case "exit-when-pid-exits":
      return processExits(need(host, key, "pathExists"), value);
    case "exit-when-pipe-closed":
    case "exit-when-fd-closed":
      return pipeClosed(need(host, key, "watchPipe"), value);
    case "exit-when-script":
      return scriptSays(need(host, key, "runShell"), value);
    default:
      return undefined;
  }
}

/** The host, which must offer `call`, or a start-up error naming the parameter. */
function need(host: PluginHost | undefined, key: string, call: keyof PluginHost): PluginHost {
  if (host?.[call] === undefined) throw new ConfigError(`${key}: not supported on this runtime`);
  return host;
}

function fileCreated(host: PluginHost, file: string): ExitEvent {
  return {
    check() {
      if (!host.pathExists!(file, true)) return false;
      debug(`exit-when-file-created: detected ${file} created`);
      return true;
    },
  };
}

function fileDeleted(host: PluginHost, file: string): ExitEvent {
  return {
    check() {
      if (host.pathExists!(file)) return false;
      debug(`exit-when-file-deleted: detected ${file} deleted`);
      return true;
    },
  };
}

/**
 * As nbdkit on Linux: /proc/PID/stat must be there at start-up, and its going away means the
 * process has ended (and been reaped).
 */
function processExits(host: PluginHost, value: string): ExitEvent {
  const stat = `/proc/${parseUint64("exit-when-process-exits", value)}/stat`;
  if (!host.pathExists!(stat)) {
    throw new ConfigError(`exit-when-process-exits: ${stat}: No such file or directory`);
  }
  return {
    check() {
      if (host.pathExists!(stat)) return false;
      debug("exit-when-process-exits: detected process exit");
      return true;
    },
  };
}

function pipeClosed(host: PluginHost, value: string): ExitEvent {
  const watching = host.watchPipe!(parseInt32("exit-when-pipe-closed", value));
  return {
    async check() {
      const now = (await watching)();
      if (now === "open") return false;
      if (now === "invalid") logError("exit-when-pipe-closed: invalid file descriptor");
      else debug("exit-when-pipe-closed: detected pipe closed");
      return true;
    },
  };
}

function scriptSays(host: PluginHost, script: string): ExitEvent {
  return {
    async check() {
      const end = await host.runShell!(script);
      if (end.signal !== undefined) {
        logError(`exit-when-script: command was killed by signal ${end.signal}`);
      } else if (end.status === HAPPENED) {
        debug("exit-when-script: detected scripted event");
        return true;
      } else if (end.status !== 0) {
        logError(`exit-when-script: command failed with exit code ${end.status}`);
      }
      return false;
    },
  };
}
