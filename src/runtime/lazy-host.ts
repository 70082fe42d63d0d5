/**
 * A PluginHost whose implementation is imported on its first use, for every runtime: a server
 * whose plugin reads no files and runs no commands never loads node:fs or node:child_process
 * (on Deno, its whole Node layer). What is asked synchronously (getEnv while configuring,
 * pathExists before a request) cannot wait for that import, so the adapter gives it directly.
 */

import type { Connect, PluginHost } from "../io.ts";

/**
 * The synchronous members, each on the runtime's own API, and connect where the runtime's own
 * sockets serve it (Deno's and Bun's TCP).
 */
export type DirectHostCalls =
  & Pick<Required<PluginHost>, "getEnv" | "pathExists">
  & Pick<PluginHost, "connect">;

/** Connects on node:net and node:tls (node-connect.ts), imported on first use. */
export const nodeConnect: Connect = async (target, receiver) =>
  (await import("./node-connect.ts")).connectSocket(target, receiver);

export function lazyHost(load: () => Promise<PluginHost>, direct: DirectHostCalls): PluginHost {
  let host: Promise<PluginHost> | undefined;
  const loaded = () => host ??= load();
  return {
    realpath: async (path) => (await loaded()).realpath(path),
    openReadOnly: async (path) => (await loaded()).openReadOnly(path),
    readFile: async (path, offset, length) => (await loaded()).readFile(path, offset, length),
    runCommand: async (script, limit) => (await loaded()).runCommand(script, limit),
    fileKind: async (path) => (await loaded()).fileKind!(path),
    openFile: async (path, readonly) => (await loaded()).openFile!(path, readonly),
    listDirectory: async (path) => (await loaded()).listDirectory!(path),
    createTempFile: async (directory) => (await loaded()).createTempFile!(directory),
    openTextOutput: async (path, append) => (await loaded()).openTextOutput!(path, append),
    runShell: async (script) => (await loaded()).runShell!(script),
    watchPipe: async (fd) => (await loaded()).watchPipe!(fd),
    readFirstLine: async (path) => (await loaded()).readFirstLine!(path),
    readPassword: async (prompt) => (await loaded()).readPassword!(prompt),
    connect: async (target, receiver) => (await loaded()).connect!(target, receiver),
    startActivated: async (argv) => (await loaded()).startActivated!(argv),
    spawn: async (argv, options) => (await loaded()).spawn!(argv, options),
    makeTempDir: async (prefix) => (await loaded()).makeTempDir!(prefix),
    writeFile: async (path, data, mode) => (await loaded()).writeFile!(path, data, mode),
    removePath: async (path) => (await loaded()).removePath!(path),
    readStdin: async () => (await loaded()).readStdin!(),
    ...direct,
  };
}
