/**
 * The tmpdisk plugin (nbdkit-tmpdisk-plugin): a fresh disk for every connection, made by mkfs
 * (`size=`, `type=`, `label=`) or by `command=` in a private directory under $TMPDIR (/var/tmp
 * when unset), then unlinked at once: the client has it to itself, and it is gone when the
 * connection closes, however the server ends.
 */

import { ConfigError, ERRNO, messageOf, NbdError } from "../api/errors.ts";
import { type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import type { PluginHost } from "../io.ts";
import { DiskCommand } from "./lib/disk-command.ts";
import { madeDiskHandle } from "./lib/made-disk-handle.ts";

/** The help tmpdisk and ondemand share for the command's parameters. */
export const DISK_COMMAND_HELP = "size=<SIZE>      (required) Virtual filesystem size.\n" +
  "label=<LABEL>               The filesystem label.\n" +
  "type=ext4|...               The filesystem type.\n" +
  "command=<COMMAND>           Alternate command instead of mkfs.";

type TmpdiskHost =
  & Required<Pick<PluginHost, "makeTempDir" | "openFile" | "removePath">>
  & PluginHost;

function tmpdiskHost(host: PluginHost | undefined): TmpdiskHost {
  if (!host?.makeTempDir || !host.openFile || !host.removePath) {
    throw new ConfigError("cannot make disks: this server gives built-in plugins no file access");
  }
  return host as TmpdiskHost;
}

export function createTmpdiskPlugin(host?: PluginHost): Plugin {
  const command = new DiskCommand();
  let tmpdir = "/var/tmp";
  return {
    name: "tmpdisk",
    version: VERSION,
    magicConfigKey: "size",
    configHelp: DISK_COMMAND_HELP,
    load() {
      tmpdir = host?.getEnv("TMPDIR") || "/var/tmp";
    },
    config: (key, value) => command.config(key, value),
    configComplete() {
      tmpdiskHost(host);
      if (!command.hasSize) throw new ConfigError("size parameter is required");
    },
    threadModel: () => THREAD_MODEL.PARALLEL,

    async open(readonly) {
      const files = tmpdiskHost(host);
      // A directory only we may enter, so no one else can reach the disk while it is made.
      let dir: string;
      try {
        dir = await files.makeTempDir(`${tmpdir}/tmpdisk`);
      } catch (error) {
        throw new NbdError(ERRNO.EIO, `${tmpdir}/tmpdiskXXXXXX: ${messageOf(error)}`);
      }
      const disk = `${dir}/disk`;
      try {
        await command.run(files, disk);
        const file = await files.openFile(disk, readonly).catch((error) =>
          Promise.reject(new NbdError(ERRNO.EIO, `open: ${disk}: ${messageOf(error)}`))
        );
        return madeDiskHandle(file, await file.size(), false);
      } finally {
        await files.removePath(dir); // the open file lives on, unlinked
      }
    },
  };
}
