/**
 * Secrets given on the command line as nbdkit_read_password reads them: the value itself,
 * `+FILENAME` (the file's first line) or `-FD` (the first line read from an inherited file
 * descriptor). `-` (asking on the terminal) needs a terminal without echo, which no runtime's
 * plugin host offers: it is refused with the alternatives.
 */

import { ConfigError, messageOf } from "../../api/errors.ts";
import type { PluginHost } from "../../io.ts";

/** The first line of `bytes`, without its newline (getline, then the '\n' dropped). */
function firstLine(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes);
  const end = text.indexOf("\n");
  return end < 0 ? text : text.slice(0, end);
}

async function readLine(host: PluginHost | undefined, path: string, what: string) {
  if (!host) throw new ConfigError(`cannot read ${what}: this server gives plugins no files`);
  try {
    return firstLine(await host.readFile(path, 0, undefined));
  } catch (error) {
    throw new ConfigError(`open ${what}: ${messageOf(error)}`);
  }
}

/** The secret `value` stands for; `key` names the parameter in errors ("password"). */
export async function readPassword(
  key: string,
  value: string,
  host: PluginHost | undefined,
): Promise<string> {
  if (value === "-") {
    throw new ConfigError(
      `${key}=-: cannot ask for a password on the terminal; use ${key}=+FILENAME or ${key}=-FD`,
    );
  }
  if (value.startsWith("-")) {
    const fd = value.slice(1);
    if (!/^\d+$/.test(fd)) {
      throw new ConfigError(`password file descriptor: could not parse number: ${fd}`);
    }
    if (Number(fd) <= 2) throw new ConfigError("cannot use password -FD for stdin/stdout/stderr");
    return await readLine(host, `/dev/fd/${Number(fd)}`, `file descriptor ${fd}`);
  }
  if (value.startsWith("+")) return await readLine(host, value.slice(1), value.slice(1));
  return value;
}
