/**
 * file (man nbdkit-file-plugin): serves one file or block device, `[file=]PATH`, or every
 * regular file in a directory as its own export, `dir=DIR`. Files come from the runtime's
 * PluginHost; the per-connection work is in file/handle.ts.
 */

import { ConfigError, ERRNO, messageOf, NbdError } from "../api/errors.ts";
import type { DiskFile, PluginHost } from "../io.ts";
import type { Plugin } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { createFileHandle } from "./file/handle.ts";

/** The file calls the plugin needs: part of what the runtime gives plugins. */
type FileHost = Required<Pick<PluginHost, "realpath" | "fileKind" | "openFile" | "listDirectory">>;

/** Values nbdkit accepts; both are hints this plugin cannot act on, so they are only checked. */
const FADVISE_MODES = ["normal", "random", "sequential"];
const CACHE_MODES = ["default", "none"];

function fileHost(host: PluginHost | undefined): FileHost {
  if (!host?.fileKind || !host.openFile || !host.listDirectory) {
    throw new ConfigError("cannot open files: this server gives built-in plugins no file access");
  }
  return host as FileHost;
}

export function createFilePlugin(host?: PluginHost): Plugin {
  let filename: string | undefined;
  let directory: string | undefined;

  // Made absolute now, and so required to exist at startup, as nbdkit_realpath does.
  async function resolve(value: string): Promise<string> {
    try {
      return await fileHost(host).realpath(value);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`realpath: ${value}: ${messageOf(error)}`);
    }
  }

  /** The path an export name stands for; names that could leave the directory are refused. */
  function pathOf(exportName: string): string {
    if (directory === undefined) return filename!;
    if (exportName.includes("/")) throw new NbdError(ERRNO.EINVAL, "exportname cannot contain /");
    // nbdkit opens "" or ".." relative to the directory and fails; say why without trying.
    if (exportName === "" || exportName === "." || exportName === "..") {
      throw new NbdError(ERRNO.ENOENT, `open: ${exportName}: not a file in ${directory}`);
    }
    return `${directory}/${exportName}`;
  }

  return {
    name: "file",
    longname: "nbdkit file plugin",
    version: VERSION,
    magicConfigKey: "file",
    configHelp: [
      "[file=]<FILENAME>     The filename to serve.",
      "dir=<DIRNAME>         A directory containing files to serve.",
      "cache=<MODE>          Set use of caching (default, none).",
      "fadise=<LEVEL>        Set fadvise hint (normal, random, sequential).",
    ].join("\n"),

    async config(key, value) {
      switch (key) {
        case "file":
          filename = await resolve(value);
          return;
        case "dir":
        case "directory":
          directory = await resolve(value);
          return;
        case "fadvise":
          if (!FADVISE_MODES.includes(value)) {
            throw new ConfigError(`unknown fadvise mode: ${value}`);
          }
          return;
        case "cache":
          if (!CACHE_MODES.includes(value)) throw new ConfigError(`unknown cache mode: ${value}`);
          return;
        case "rdelay":
        case "wdelay":
          throw new ConfigError("add --filter=delay on the command line");
        default:
          throw new ConfigError(`unknown parameter '${key}'`);
      }
    },

    // Exactly one of file= and dir=, checked now rather than at the first connection.
    async configComplete() {
      if (filename === undefined && directory === undefined) {
        throw new ConfigError(
          "you must supply either [file=]<FILENAME> or dir=<DIRNAME> parameter " +
            "after the plugin name on the command line",
        );
      }
      if (filename !== undefined && directory !== undefined) {
        throw new ConfigError("file= and dir= cannot be used at the same time");
      }
      const files = fileHost(host);
      if (filename !== undefined) {
        const kind = await files.fileKind(filename).catch(() => "missing");
        if (kind === "directory") {
          throw new ConfigError(`use dir= to serve files within ${filename}`);
        }
        if (kind !== "file" && kind !== "block") {
          throw new ConfigError(`file is not regular or block device: ${filename}`);
        }
      } else if (await files.fileKind(directory!).catch(() => "missing") !== "directory") {
        throw new ConfigError(`expecting a directory: ${directory}`);
      }
    },

    // In dir= mode, each regular file or block device (links followed) is an export.
    async listExports() {
      if (directory === undefined) return [{ name: "" }];
      const entries = await fileHost(host).listDirectory(directory);
      return entries
        .filter((entry) => entry.kind === "file" || entry.kind === "block")
        .map((entry) => ({ name: entry.name }));
    },

    // A file that cannot be opened for writing is served read-only, as nbdkit does.
    async open(readonly, exportName) {
      const path = pathOf(exportName);
      let file: DiskFile;
      try {
        file = await fileHost(host).openFile(path, readonly);
      } catch (error) {
        throw new NbdError(ERRNO.EIO, `open: ${path}: ${messageOf(error)}`);
      }
      return createFileHandle(file, path);
    },
  };
}
