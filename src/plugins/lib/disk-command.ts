/**
 * The command the tmpdisk and ondemand plugins run to make a disk, as nbdkit's do: `mkfs` of
 * the chosen type and label on a file of the requested size by default, or `command=`, a shell
 * fragment. It runs under /bin/sh with stdin and stdout on /dev/null, after lines setting $disk
 * (the file to make), $size (the size asked for, in bytes) and every other parameter as a shell
 * variable of its name, quoted.
 */

import { ConfigError, ERRNO, NbdError } from "../../api/errors.ts";
import { parseSize } from "../../api/parse.ts";
import type { PluginHost } from "../../io.ts";
import { shellQuote } from "../../api/shell-quote.ts";

/** What nbdkit's default command does: a sparse file of $size, then mkfs on it. */
const MKFS = `type="\${type:-ext4}"
labelopt=-L
case "$type" in
  ext?) extra=-F ;;
  *fat|msdos) extra=-I ;;
  ntfs) extra='-Q -F'; labelopt=-n ;;
  xfs) extra=-f ;;
esac
truncate -s "$size" "$disk"
if [ -z "$label" ]; then
  mkfs -t "$type" $extra "$disk"
else
  mkfs -t "$type" $extra $labelopt "$label" "$disk"
fi
`;

export class DiskCommand {
  private command = MKFS;
  private size: bigint | undefined;
  private readonly variables: [string, string][] = [];

  /** Takes command=, size= and any other key as a variable; refuses disk=. */
  config(key: string, value: string): void {
    if (key === "command") this.command = value;
    else if (key === "size") this.size = parseSize(value);
    else if (key === "disk") {
      throw new ConfigError("'disk' parameter cannot be set on the command line");
    } else this.variables.push([key, value]);
  }

  get hasSize(): boolean {
    return this.size !== undefined;
  }

  /** The whole script that makes `disk`. */
  script(disk: string): string {
    const variables = this.variables.map(([key, value]) =>
      `${shellQuote(key)}=${shellQuote(value)}\n`
    );
    return `exec </dev/null >/dev/null\ndisk=${shellQuote(disk)}\nsize=${this.size}\n\n` +
      `${variables.join("")}\n${this.command}`;
  }

  /** Runs the script for `disk`; its stderr is the server's. Throws unless it exits 0. */
  async run(host: PluginHost, disk: string): Promise<void> {
    const { status } = await host.runCommand(this.script(disk), 0);
    if (status !== 0) throw new NbdError(ERRNO.EIO, `command exited with code ${status}`);
  }
}
