/**
 * Parsers for the values of single options (-p, -D, --log, --tls, -U/-P paths), each refusing
 * what nbdkit refuses with a one-line message naming the option as the user typed it.
 */

import { ConfigError, messageOf } from "../api/errors.ts";
import { parseBool } from "../api/parse.ts";
import { parseInt32 } from "../api/parse-integer.ts";
import { TLS_MODE, type TlsMode } from "../connection/tls-mode.ts";

/** --log: without it nbdkit logs to stderr in the foreground and to syslog otherwise. */
export const LOG_TARGET = { STDERR: "stderr", SYSLOG: "syslog", NULL: "null" } as const;
export type LogTarget = (typeof LOG_TARGET)[keyof typeof LOG_TARGET];

/** One -D NAME.FLAG=N. NAME is a plugin, a filter or "nbdkit"; FLAG may contain dots. */
export interface DebugFlag {
  readonly name: string;
  readonly flag: string;
  readonly value: number;
}

/** -D NAME.FLAG=N: NAME ends at the first '.', FLAG at the first '='; N is an int. */
export function parseDebugFlag(text: string): DebugFlag {
  const dot = text.indexOf(".");
  const equals = text.indexOf("=");
  const number = text.slice(equals + 1);
  if (dot > 0 && equals > dot + 1 && number !== "") {
    try {
      return {
        name: text.slice(0, dot),
        flag: text.slice(dot + 1, equals),
        value: parseInt32("flag", number),
      };
    } catch {
      // a bad N gets the same message as a bad shape, as in nbdkit's add_debug_flag
    }
  }
  throw new ConfigError(`-D (Debug Flag) must have the format NAME.FLAG=N, not '${text}'`);
}

export function parseLogTarget(text: string): LogTarget {
  for (const target of Object.values(LOG_TARGET)) if (text === target) return target;
  throw new ConfigError(`--log must be "stderr", "syslog" or "null", not '${text}'`);
}

/** --tls: "require" (also "required", "force"), else a boolean word as nbdkit_parse_bool. */
export function parseTlsMode(spelling: string, text: string): TlsMode {
  if (/^(require|required|force)$/i.test(text)) return TLS_MODE.REQUIRE;
  try {
    return parseBool(text) ? TLS_MODE.ON : TLS_MODE.OFF;
  } catch (error) {
    throw new ConfigError(`${spelling}: ${messageOf(error)}`);
  }
}

/**
 * -p: a decimal port from 0 to 65535. nbdkit hands the text to getaddrinfo, which also takes
 * service names and wraps numbers past 65535; we refuse both rather than guess.
 */
export function parsePort(spelling: string, text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port <= 0xffff)) {
    throw new ConfigError(
      `${spelling}: cannot use port '${text}': expected a number from 0 to 65535`,
    );
  }
  return port;
}

/** -U, -P: nbdkit_absolute_path refuses an empty path before anything else. */
export function nonEmptyPath(spelling: string, text: string): string {
  if (text === "") {
    throw new ConfigError(`${spelling}: cannot convert null or empty path to an absolute path`);
  }
  return text;
}
