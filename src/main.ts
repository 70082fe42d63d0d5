/**
 * The program: reads the command line, loads and configures the plugin, listens where asked
 * (-U, -p, -s), writes the pid file, runs the captive --run command, and stops cleanly on a
 * signal. Everything a runtime does for it comes through the Runtime contract.
 */

import { ACTION, type CommandLine, parseCommandLine, PRIVATE_SOCKET } from "./cli/args.ts";
import { resolveParams } from "./cli/params.ts";
import { captiveScript, captiveVariables } from "./cli/captive-env.ts";
import { buildUri } from "./cli/uri.ts";
import { dumpPluginText, pluginHelpText, usageText, versionText } from "./cli/help.ts";
import { errorLine } from "./cli/program-name.ts";
import { ServerContext } from "./context.ts";
import { ConfigError } from "./errors.ts";
import type { Listener, Runtime } from "./io.ts";
import { Log } from "./log.ts";
import { THREAD_MODEL, type ThreadModel } from "./plugin.ts";
import { loadPlugin } from "./load-plugin.ts";
import { Server } from "./server.ts";
import { VERSION } from "./version.ts";

/** Runs the program to completion; resolves to the exit status. */
export async function main(runtime: Runtime): Promise<number> {
  try {
    return await run(runtime, parseCommandLine(runtime.args));
  } catch (error) {
    if (error instanceof ConfigError) {
      runtime.stderr(errorLine(error.message) + "\n");
      return 1;
    }
    throw error;
  }
}

async function run(runtime: Runtime, line: CommandLine): Promise<number> {
  if (line.action === ACTION.HELP && line.plugin === undefined) {
    runtime.stdout(usageText());
    return 0;
  }
  if (line.action === ACTION.VERSION && line.plugin === undefined) {
    runtime.stdout(versionText(VERSION));
    return 0;
  }
  if (line.plugin === undefined) {
    throw new ConfigError("no plugins given on the command line.\nUse '--help' for usage.");
  }
  if (line.filters.length > 0) {
    throw new ConfigError(`filters are not supported yet: --filter=${line.filters[0]}`);
  }
  if (line.tls === "on" || line.tls === "require") {
    throw new ConfigError(`TLS is not supported yet: --tls=${line.tls}`);
  }

  const plugin = await loadPlugin(runtime, line.plugin);
  await plugin.load?.();
  if (line.action === ACTION.HELP) {
    runtime.stdout(usageText() + "\n" + pluginHelpText(plugin));
    return 0;
  }
  if (line.action === ACTION.VERSION) {
    runtime.stdout(versionText(VERSION) + `${plugin.name} ${plugin.version ?? ""}\n`);
    return 0;
  }
  for (const { key, value } of resolveParams(line.params, plugin.magicConfigKey, plugin.name)) {
    if (!plugin.config) throw new ConfigError(`${plugin.name}: this plugin takes no parameters`);
    await configure(plugin.name, () => plugin.config!(key, value));
  }
  if (line.action === ACTION.DUMP_PLUGIN) {
    runtime.stdout(await dumpPluginText(plugin, line.plugin));
    return 0;
  }
  await configure(plugin.name, () => plugin.configComplete?.());
  await configure(plugin.name, () => plugin.getReady?.());

  const log = new Log(runtime.stderr, line.verbose);
  const threadModel = await effectiveThreadModel(plugin.threadModel?.());
  const ctx = new ServerContext(plugin, threadModel, {
    readonly: line.readOnly,
    noStructuredReplies: line.noSr,
  }, log);
  const server = new Server(ctx);
  if (line.exitWithParent) runtime.exitWithParent();

  await configure(plugin.name, () => plugin.afterFork?.());
  if (line.single) {
    await runtime.serveStdio(server.accept);
    await server.shutdown();
    await plugin.unload?.();
    return 0;
  }
  return await serve(runtime, line, server, async () => {
    await server.shutdown();
    await plugin.unload?.();
  });
}

/** Turns a plugin's throw during configuration into a one-line error naming the plugin. */
async function configure(name: string, step: () => unknown): Promise<void> {
  try {
    await step();
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${name}: ${error.message}`);
    throw new ConfigError(`${name}: ${(error as Error).message ?? String(error)}`);
  }
}

async function effectiveThreadModel(answer: unknown): Promise<ThreadModel> {
  const model = await answer;
  if (model === undefined) return THREAD_MODEL.PARALLEL;
  if (model === 0 || model === 1 || model === 2 || model === 3) return model;
  throw new ConfigError(`plugin returned an invalid thread model (${model})`);
}

/** Listens, then either runs the captive command or waits for a signal. */
async function serve(
  runtime: Runtime,
  line: CommandLine,
  server: Server,
  stop: () => Promise<void>,
): Promise<number> {
  let tempDir: string | undefined;
  let socketPath = line.unixSocket;
  if (socketPath === PRIVATE_SOCKET) {
    tempDir = await runtime.makeTempDir();
    socketPath = `${tempDir}/socket`;
  }
  let listener: Listener;
  try {
    listener = socketPath !== undefined
      ? await runtime.listen({ kind: "unix", path: socketPath }, server.accept)
      : await runtime.listen({ kind: "tcp", host: line.ipAddr, port: line.port ?? 10809 }, server.accept);
  } catch (error) {
    if (tempDir) await runtime.removePath(tempDir);
    throw new ConfigError(`cannot listen: ${(error as Error).message}`);
  }
  const target = { unixSocket: socketPath, port: listener.port, exportName: line.exportName ?? "" };
  if (line.pidFile) await runtime.writeTextFile(line.pidFile, `${runtime.pid}\n`);
  if (line.printUri) runtime.stdout(buildUri(target) + "\n");

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      await listener.close();
      await stop();
      if (socketPath !== undefined && tempDir === undefined) await runtime.removePath(socketPath);
      if (tempDir) await runtime.removePath(tempDir);
      if (line.pidFile) await runtime.removePath(line.pidFile);
    })();
    return stopping;
  };

  if (line.run !== undefined) {
    const variables = captiveVariables(target);
    const status = await runtime.runShell(captiveScript(variables, line.run), {});
    await shutdown();
    return status;
  }
  return await new Promise<number>((resolve) => {
    runtime.onShutdownSignal(() => void shutdown().then(() => resolve(0)));
  });
}
