/**
 * Reads the passphrase as nbdkit_read_password reads a password: "-" asks on the terminal
 * (echo off), "-FD" reads inherited descriptor FD, "+FILE" reads a file, anything else is the
 * passphrase itself. From a terminal, descriptor or file only the first line counts, without its
 * newline; like a C string, it ends at a NUL byte.
 */

import { ConfigError, messageOf } from "../../api/errors.ts";
import { parseInt32 } from "../../api/parse-integer.ts";
import type { PluginHost } from "../../io.ts";

const NEWLINE = 0x0a;

/** The line as nbdkit keeps it: one trailing newline dropped, cut at a NUL. */
function asPassword(line: Uint8Array): Uint8Array {
  const end = line.at(-1) === NEWLINE ? line.length - 1 : line.length;
  const nul = line.subarray(0, end).indexOf(0);
  return line.slice(0, nul < 0 ? end : nul);
}

async function fromTerminal(host: PluginHost | undefined): Promise<Uint8Array> {
  if (!host?.readPassword) throw new ConfigError("stdin is not available for reading password");
  const line = await host.readPassword("password: ");
  if (line === undefined) {
    throw new ConfigError("stdin is not a tty, cannot read password interactively");
  }
  return asPassword(line);
}

/** The first line of `path`; a failure says `failure`, then `words` (strerror's) if given. */
async function firstLine(
  host: PluginHost | undefined,
  path: string,
  failure: string,
  words?: string,
): Promise<Uint8Array> {
  if (!host?.readFirstLine) throw new ConfigError(`${failure}: this runtime gives no files`);
  try {
    return asPassword(await host.readFirstLine(path));
  } catch (error) {
    const why = words === undefined ? messageOf(error) : `${words} (${messageOf(error)})`;
    throw new ConfigError(`${failure}: ${why}`);
  }
}

/** The passphrase `value` gives, as bytes (a typed one in UTF-8, as the C string nbdkit gets). */
export async function readPassphrase(value: string, host?: PluginHost): Promise<Uint8Array> {
  if (value === "-") return await fromTerminal(host);
  if (value.startsWith("-")) {
    const text = value.slice(1);
    const fd = parseInt32("password file descriptor", text);
    if (fd >= 0 && fd <= 2) {
      throw new ConfigError("cannot use password -FD for stdin/stdout/stderr");
    }
    // Read through /dev/fd: a descriptor open on nothing readable is nbdkit's EBADF.
    return await firstLine(host, `/dev/fd/${fd}`, `fdopen ${text}`, "Bad file descriptor");
  }
  if (value.startsWith("+")) {
    const path = value.slice(1);
    return await firstLine(host, path, `open ${path}`);
  }
  return new TextEncoder().encode(value);
}
