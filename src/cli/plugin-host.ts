/**
 * What the command line changes in the PluginHost that built-in plugins and filters get, as
 * nbdkit's nbdkit_stdio_safe does: with -s, stdin carries the client, so no layer may read it
 * (a script, a password); and whether a plugin reads stdin while it is configured (`sh -`), so
 * that daemon mode hands it on.
 */

import type { PluginHost } from "../io.ts";
import type { CommandLine } from "./command-line.ts";

/** The runtime's host, without readStdin and readPassword when stdin is the client's (-s). */
export function pluginHost(host: PluginHost | undefined, line: CommandLine) {
  return line.single && host ? { ...host, readStdin: undefined, readPassword: undefined } : host;
}

/** A parameter "-" (sh -): the plugin reads stdin while it is configured. */
export function readsStdin(line: CommandLine): boolean {
  return line.params.some((param) => param.value === "-");
}
