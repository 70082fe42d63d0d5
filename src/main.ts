/**
 * The program: reads the command line, loads and configures the plugin and its filters, listens
 * where asked (-U, -p, -s), goes into the background unless told otherwise (-f, --run, -s),
 * writes the pid file, runs the captive --run command, and stops cleanly on a signal.
 * Everything a runtime does for it comes through the Runtime contract.
 */

import {
  ACTION,
  type CommandLine,
  DEFAULT_PORT,
  parseCommandLine,
  PRIVATE_SOCKET,
} from "./cli/args.ts";
import { resolveParams } from "./cli/params.ts";
import { captiveEnvironment, captiveScript } from "./cli/captive-env.ts";
import { applyDebugFlags, SERVER_DEBUG_NAME, unusedDebugFlags } from "./cli/debug-flags.ts";
import { dumpConfigText } from "./cli/dump-config.ts";
import { buildUri } from "./cli/uri.ts";
import {
  dumpPluginText,
  longOptionsLines,
  pluginHelpText,
  shortOptionsLines,
  usageText,
  versionText,
} from "./cli/help.ts";
import { UsageError } from "./cli/getopt.ts";
import type { DebugFlag } from "./cli/option-values.ts";
import { TLS_MODE, type TlsMode } from "./connection/tls-mode.ts";
import { errorLine } from "./cli/program-name.ts";
import { applyParams, finishConfiguration, pluginStep } from "./backend/configure.ts";
import { buildServer } from "./connection/build-server.ts";
import { ConfigError, messageOf } from "./api/errors.ts";
import type { Accept, ListenAddress, Listener, Runtime, UpgradeCheck } from "./io.ts";
import { upgradeRefusal } from "./embed/upgrade-policy.ts";
import { Log } from "./api/log.ts";
import { loadFilters } from "./load/load-filter.ts";
import { loadPlugin } from "./load/load-plugin.ts";
import { settleTls, type TlsSettings } from "./tls/tls-credentials.ts";
import { stackFilters } from "./backend/filter-stack.ts";
import { VERSION } from "./api/version.ts";

/** Runs the program to completion; resolves to the exit status. */
export async function main(runtime: Runtime): Promise<number> {
  try {
    return await run(runtime, parseCommandLine(runtime.args));
  } catch (error) {
    if (error instanceof ConfigError) {
      runtime.stderr(errorLine(error.message) + "\n");
      if (error instanceof UsageError) runtime.stdout(usageText());
      return 1;
    }
    throw error;
  }
}

async function run(runtime: Runtime, line: CommandLine): Promise<number> {
  switch (line.action) {
    case ACTION.DUMP_CONFIG:
      runtime.stdout(dumpConfigText(VERSION, runtime.name, runtime.tls !== undefined));
      return 0;
    case ACTION.LONG_OPTIONS:
      runtime.stdout(longOptionsLines().join("\n") + "\n");
      return 0;
    case ACTION.SHORT_OPTIONS:
      runtime.stdout(shortOptionsLines().join("\n") + "\n");
      return 0;
  }
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
  if (line.websocket && line.tls !== undefined && line.tls !== "off") {
    throw new ConfigError(
      `--tls=${line.tls} cannot be used with --websocket: WebSocket connections cannot ` +
        "switch to TLS with STARTTLS (serve wss:// through a TLS-terminating proxy instead)",
    );
  }
  // nbdkit settles TLS before anything else, so bad credentials stop it at once.
  const tls: TlsSettings = line.websocket ? { mode: TLS_MODE.OFF } : await settleTls(runtime, line);

  // Daemon mode: the process the user started waits here for a background copy to listen.
  if (line.action === ACTION.SERVE && !line.foreground && !line.single) {
    const role = await runtime.daemonize(line.verbose);
    if (role !== "background") return role;
  }

  const named = await loadPlugin(runtime, line.plugin);
  const filters = await loadFilters(runtime, line.filters);
  // As nbdkit: each layer's flags are set before load(), then every -D left over is reported.
  const used = new Set<DebugFlag>();
  const warnings = [named, ...filters].flatMap((layer) =>
    applyDebugFlags(line.debugFlags, layer.name, layer.debugFlags, used)
  );
  warnings.push(...applyDebugFlags(line.debugFlags, SERVER_DEBUG_NAME, undefined, used));
  // From here on the server sees one plugin: the filters stacked in front of the named one.
  const plugin = stackFilters(filters, named);
  if (tls.warning) runtime.stderr(errorLine(tls.warning) + "\n");
  await plugin.load?.();
  for (const warning of [...warnings, ...unusedDebugFlags(line.debugFlags, used)]) {
    runtime.stderr(warning + "\n");
  }
  if (line.action === ACTION.HELP) {
    const filterHelp = filters.map((filter, i) =>
      "\n" + pluginHelpText(filter, line.filters[i], "filter")
    );
    runtime.stdout(usageText() + filterHelp.join("") + "\n" + pluginHelpText(named, line.plugin));
    return 0;
  }
  if (line.action === ACTION.VERSION) {
    runtime.stdout(versionText(VERSION, ...filters, named));
    return 0;
  }
  await applyParams(plugin, resolveParams(line.params, named.magicConfigKey, named.name));
  if (line.action === ACTION.DUMP_PLUGIN) {
    runtime.stdout(await dumpPluginText(named, line.plugin, plugin));
    return 0;
  }
  await finishConfiguration(plugin);
  const log = new Log(runtime.stderr, line.verbose);
  const options = {
    readonly: line.readOnly,
    noStructuredReplies: line.noSr,
    oldstyle: line.oldstyle,
    tls: tls.mode,
  };
  const server = await buildServer(plugin, options, log);
  const accept = tls.offer ? tls.offer(server.accept) : server.accept;
  if (line.exitWithParent) runtime.exitWithParent();
  // nbdkit's end: the server stops, then the plugin's cleanup, then its unload.
  const stop = async () => {
    await server.shutdown();
    await plugin.cleanup?.();
    await plugin.unload?.();
  };
  const afterFork = () => pluginStep(plugin, () => plugin.afterFork?.());
  if (line.single) {
    if (line.pidFile) await writePidFile(runtime, absolute(runtime, line.pidFile));
    await afterFork();
    await runtime.serveStdio(accept);
    await stop();
    return 0;
  }
  const check = websocketCheck(line, log);
  return await serve(runtime, line, { accept, tls: tls.mode, check }, afterFork, stop);
}

/** Listens, then either runs the captive command or waits for a signal. */
async function serve(
  runtime: Runtime,
  line: CommandLine,
  connections: { accept: Accept; tls: TlsMode; check: UpgradeCheck },
  afterFork: () => Promise<void>,
  stop: () => Promise<void>,
): Promise<number> {
  let tempDir: string | undefined;
  let socketPath = line.unixSocket && absolute(runtime, line.unixSocket);
  const pidFile = line.pidFile && absolute(runtime, line.pidFile);
  if (socketPath === PRIVATE_SOCKET) {
    tempDir = await runtime.makeTempDir();
    socketPath = `${tempDir}/socket`;
  }
  let listener: Listener;
  try {
    const tcp = { host: line.ipAddr, port: line.port ?? DEFAULT_PORT };
    const address: ListenAddress = socketPath !== undefined
      ? { kind: "unix", path: socketPath }
      : line.websocket
      ? { kind: "websocket", ...tcp, check: connections.check }
      : { kind: "tcp", ...tcp };
    listener = await runtime.listen(address, connections.accept);
  } catch (error) {
    if (tempDir) await runtime.removePath(tempDir);
    throw new ConfigError(`cannot listen: ${messageOf(error)}`);
  }
  const target = {
    unixSocket: socketPath,
    port: listener.port,
    exportName: line.exportName ?? "",
    tls: connections.tls, // nbds:// and $tls, as nbdkit shows them
  };
  // NBD URIs have no WebSocket scheme: with --websocket, $uri and --print-uri give ws://.
  const uri = line.websocket ? `ws://localhost:${listener.port}/` : buildUri(target);
  if (line.printUri) runtime.stdout(uri + "\n");
  // As nbdkit: listening, then (in the background) the pid file, then after_fork.
  if (pidFile) await writePidFile(runtime, pidFile);
  if (!line.foreground) runtime.daemonReady();

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      // Closing a listener waits for its connections, so both go at once.
      await Promise.all([listener.close(), stop()]);
      if (socketPath !== undefined && tempDir === undefined) await runtime.removePath(socketPath);
      if (tempDir) await runtime.removePath(tempDir);
      if (pidFile) await runtime.removePath(pidFile);
    })();
    return stopping;
  };
  try {
    await afterFork();
  } catch (error) {
    await shutdown();
    throw error;
  }

  if (line.run !== undefined) {
    const variables = line.websocket
      ? { ...captiveEnvironment(target), uri, nbd: uri }
      : captiveEnvironment(target);
    const end = await runtime.runShell(captiveScript(variables, line.run), {});
    if (end.signal !== undefined) {
      runtime.stderr(errorLine(`external command was killed by signal ${end.signal}\n`));
    }
    await shutdown();
    return end.status;
  }
  return await new Promise<number>((resolve) => {
    runtime.onShutdownSignal(() => void shutdown().then(() => resolve(0)));
  });
}

/** --websocket's judge of upgrade requests: foreign web pages get 403, logged with the peer. */
function websocketCheck(line: CommandLine, log: Log): UpgradeCheck {
  const policy = { allowOrigins: line.websocketOrigins, allowHosts: line.websocketHosts };
  return (origin, host, peer) => {
    const reason = upgradeRefusal({ origin, host }, policy);
    if (reason !== undefined) {
      const hint = reason.startsWith("Origin") ? "--websocket-origin" : "--websocket-host";
      log.error("websocket", `refused ${peer}: ${reason} (allow it with ${hint})`);
    }
    return reason;
  };
}

/** -P: the process id and a newline, as nbdkit writes it. */
function writePidFile(runtime: Runtime, path: string): Promise<void> {
  return runtime.writeTextFile(path, `${runtime.pid}\n`);
}

/** nbdkit makes -U and -P paths absolute, so $uri names the socket from anywhere. */
function absolute(runtime: Runtime, path: string): string {
  return path === PRIVATE_SOCKET || path.startsWith("/") ? path : `${runtime.cwd()}/${path}`;
}
