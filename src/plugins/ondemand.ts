/**
 * The ondemand plugin (nbdkit-ondemand-plugin): a disk per export name in `dir=`, made by
 * mkfs (or `command=`) the first time a client asks for that name, and kept there for the next
 * connection and the next server. Export "" is the file "default"; names with ".", "/" or ":",
 * or longer than 255 bytes, are refused. NBD_OPT_LIST gives "" and the files in the directory.
 * One client at a time may write a disk: a second is refused ("filesystem is locked by another
 * client"), or with wait=true waits its turn. nbdkit locks with OFD locks, which no runtime
 * reaches, so the lock here holds among this server's clients only.
 */

import { ConfigError, ERRNO, messageOf, NbdError } from "../api/errors.ts";
import { parseBool } from "../api/parse.ts";
import { type ExportEntry, type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import type { PluginHost } from "../io.ts";
import { DiskCommand } from "./lib/disk-command.ts";
import { DiskLocks } from "./lib/disk-locks.ts";
import { madeDiskHandle } from "./lib/made-disk-handle.ts";
import { DISK_COMMAND_HELP } from "./tmpdisk.ts";

type OndemandHost =
  & Required<Pick<PluginHost, "realpath" | "openFile" | "listDirectory" | "pathExists">>
  & PluginHost;

function ondemandHost(host: PluginHost | undefined): OndemandHost {
  if (!host?.openFile || !host.listDirectory || !host.pathExists) {
    throw new ConfigError("cannot make disks: this server gives built-in plugins no file access");
  }
  return host as OndemandHost;
}

const NAME_MAX = 255;
const encoder = new TextEncoder();

export function createOndemandPlugin(host?: PluginHost): Plugin {
  const command = new DiskCommand();
  const locks = new DiskLocks();
  let dir: string | undefined;
  let wait = false;

  return {
    name: "ondemand",
    version: VERSION,
    magicConfigKey: "size",
    configHelp: "dir=<EXPORTSDIR> (required) Directory containing filesystems.\n" +
      DISK_COMMAND_HELP,

    async config(key, value) {
      if (key === "dir") {
        try {
          dir = await ondemandHost(host).realpath(value);
        } catch (error) {
          if (error instanceof ConfigError) throw error;
          throw new ConfigError(`realpath: ${value}: ${messageOf(error)}`);
        }
      } else if (key === "wait") wait = parseBool(value);
      else command.config(key, value);
    },
    configComplete() {
      if (dir === undefined || !command.hasSize) {
        throw new ConfigError("dir and size parameters are required");
      }
    },
    async getReady() {
      await ondemandHost(host).listDirectory(dir!).catch((error) => {
        throw new ConfigError(`opendir: ${dir}: ${messageOf(error)}`);
      });
    },
    threadModel: () => THREAD_MODEL.PARALLEL,

    async listExports(): Promise<ExportEntry[]> {
      const entries = await ondemandHost(host).listDirectory(dir!);
      const names = entries.map((entry) => entry.name).filter((name) =>
        !name.includes(".") && !name.includes(":") && name !== "default"
      );
      return [{ name: "" }, ...names.map((name) => ({ name }))];
    },
    defaultExport: () => "default",

    async open(readonly, exportName) {
      const files = ondemandHost(host);
      if (
        encoder.encode(exportName).length > NAME_MAX || /[./:]/.test(exportName) ||
        exportName === ""
      ) {
        throw new NbdError(ERRNO.EINVAL, `invalid exportname ‘${exportName}’ rejected`);
      }
      const disk = `${dir}/${exportName}`;
      const release = await locks.take(exportName, readonly, wait);
      try {
        if (!files.pathExists(disk)) await command.run(files, disk);
        const file = await files.openFile(disk, readonly).catch((error) =>
          Promise.reject(new NbdError(ERRNO.EIO, `open: ${disk}: ${messageOf(error)}`))
        );
        if (!readonly && file.readonly) {
          await file.close();
          throw new NbdError(ERRNO.EPERM, `open: ${disk}: Permission denied`);
        }
        const handle = madeDiskHandle(file, await file.size(), true);
        return {
          ...handle,
          async close() {
            release();
            await handle.close!();
          },
        };
      } catch (error) {
        release();
        throw error;
      }
    },
  };
}
