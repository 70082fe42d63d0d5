/**
 * The program: reads the command line, loads and configures the plugin and its filters, listens
 * where asked (-U, -p, -s, or on sockets passed by socket activation), goes into the background
 * unless told otherwise (-f, --run, -s, socket activation), writes the pid file, runs the
 * captive --run command, and stops cleanly on a signal.
 * Everything a runtime does for it comes through the Runtime contract. What only some command
 * lines need (the help texts, --dump-plugin's probe, --websocket's origin policy) is imported
 * by those alone, so that starting a server loads less.
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
import {
  applyDebugFlags,
  backendSwitches,
  SERVER_DEBUG_NAME,
  serverDebugFlags,
  unusedDebugFlags,
} from "./cli/debug-flags.ts";
import { pluginHost, readsStdin } from "./cli/plugin-host.ts";
import { buildUri } from "./cli/uri.ts";
import { UsageError } from "./cli/getopt.ts";
import type { DebugFlag } from "./cli/option-values.ts";
import { TLS_MODE, type TlsMode } from "./connection/tls-mode.ts";
import { errorLine, identify, type Identity } from "./cli/program-name.ts";
import { type SignalWatch, watchSignals } from "./cli/signals.ts";
import { listenInherited, takeSocketActivation, withActivation } from "./cli/socket-activation.ts";
import { applyParams, finishConfiguration, pluginStep } from "./backend/configure.ts";
import { buildServer } from "./connection/build-server.ts";
import { ConfigError, messageOf } from "./api/errors.ts";
import type { Accept, ListenAddress, Listener, Runtime, UpgradeCheck } from "./io.ts";
import { Log } from "./api/log.ts";
import { loadFilters } from "./load/load-filter.ts";
import { routeShutdown } from "./api/shutdown.ts";
import { loadPlugin } from "./load/load-plugin.ts";
import { settleTls, type TlsSettings } from "./tls/tls-credentials.ts";
import { stackFilters } from "./backend/filter-stack.ts";

/** Runs the program to completion; resolves to the exit status. */
export async function main(runtime: Runtime): Promise<number> {
  // Started as "nbdkit" (a link or wrapper of that name), it answers as nbdkit 1.32.5.
  const self = identify(runtime.programPath, runtime.cwd());
  try {
    // As nbdkit: the environment is read first, whatever the command line asks for.
    const inherited = takeSocketActivation(runtime);
    const activated = inherited.length > 0;
    const line = parseCommandLine(runtime.args, {
      program: self.name,
      socketActivation: activated,
    });
    return await run(runtime, self, activated ? withActivation(line) : line, inherited);
  } catch (error) {
    if (error instanceof ConfigError) {
      runtime.stderr(errorLine(error.message, self.name) + "\n");
      if (error instanceof UsageError) runtime.stdout((await helpTexts()).usageText(self.name));
      return 1;
    }
    throw error;
  }
}

async function run(
  runtime: Runtime,
  self: Identity,
  line: CommandLine,
  inherited: readonly number[],
): Promise<number> {
  // Only serving a named plugin surely needs one.
  if (line.action !== ACTION.SERVE || line.plugin === undefined) {
    const { answerWithoutPlugin } = await import("./cli/answer-without-plugin.ts");
    const facts = { name: runtime.name, tls: runtime.tls !== undefined };
    const answer = answerWithoutPlugin(line, self, facts);
    if (answer !== undefined) {
      runtime.stdout(answer);
      return 0;
    }
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
    const role = await runtime.daemonize(line.verbose, readsStdin(line));
    if (role !== "background") return role;
  }

  const warn = (message: string) =>
    runtime.stderr(errorLine(`warning: ${message}`, self.name) + "\n");
  const pluginWord = line.plugin;
  // Under -s stdin is the client's connection: no layer may read it, for a script or a
  // password (nbdkit's nbdkit_stdio_safe).
  const host = pluginHost(runtime.host, line);
  const named = await loadPlugin(runtime, pluginWord, warn, host);
  const filters = await loadFilters(runtime, line.filters, host);
  // As nbdkit: each layer's flags are set before load(), then every -D left over is reported.
  const used = new Set<DebugFlag>();
  const warnings = [named, ...filters].flatMap((layer) =>
    applyDebugFlags(line.debugFlags, layer.name, layer.debugFlags, used)
  );
  const serverFlags = serverDebugFlags();
  warnings.push(...applyDebugFlags(line.debugFlags, SERVER_DEBUG_NAME, serverFlags, used));
  const switches = { verbose: line.verbose, ...backendSwitches(serverFlags) };
  const log = new Log(runtime.stderr, switches, self.name);
  log.takePluginDebug(named.name); // before load(), as nbdkit_debug works from load on
  // From here on the server sees one plugin: the filters stacked in front of the named one.
  const plugin = stackFilters(filters, named);
  if (tls.warning) runtime.stderr(errorLine(tls.warning, self.name) + "\n");
  await pluginStep(plugin, () => plugin.load?.());
  // As nbdkit: unload() on every way out once loaded (the sh plugin's $tmpdir goes with it).
  let unloaded: Promise<void> | undefined;
  const unload = () => unloaded ??= (async () => void await plugin.unload?.())();
  try {
    return await configureAndServe();
  } finally {
    await unload();
  }

  async function configureAndServe(): Promise<number> {
    for (const warning of [...warnings, ...unusedDebugFlags(line.debugFlags, used)]) {
      runtime.stderr(errorLine(warning, self.name) + "\n");
    }
    if (line.action === ACTION.HELP) {
      const { pluginHelpText, usageText } = await helpTexts();
      const filterHelp = filters.map((filter, i) =>
        "\n" + pluginHelpText(filter, line.filters[i], "filter")
      );
      const usage = usageText(self.name) + filterHelp.join("");
      runtime.stdout(usage + "\n" + pluginHelpText(named, pluginWord));
      return 0;
    }
    if (line.action === ACTION.VERSION) {
      runtime.stdout((await helpTexts()).versionText(self.versionLine, ...filters, named));
      return 0;
    }
    await applyParams(plugin, resolveParams(line.params, named.magicConfigKey, named.name));
    if (line.action === ACTION.DUMP_PLUGIN) {
      const { probeHandle } = await import("./backend/probe-handle.ts");
      const handle = await probeHandle(named);
      runtime.stdout(await (await helpTexts()).dumpPluginText(named, pluginWord, plugin, handle));
      return 0;
    }
    // shutdown() while starting (exitwhen's event has happened already) ends the program at
    // once with status 0, before it listens: nbdkit calls exit() there.
    let stopAtStart = false;
    routeShutdown(() => (stopAtStart = true));
    await finishConfiguration(plugin);
    if (stopAtStart) {
      await unload();
      return 0;
    }
    const options = {
      readonly: line.readOnly,
      noStructuredReplies: line.noSr,
      noExtendedHeaders: line.noExtendedHeaders,
      oldstyle: line.oldstyle,
      tls: tls.mode,
    };
    const server = await buildServer(plugin, options, log);
    const accept = tls.offer ? tls.offer(server.accept) : server.accept;
    if (line.exitWithParent) runtime.exitWithParent();
    // nbdkit's end, once: the server stops, then the plugin's cleanup, then its unload.
    let ended: Promise<void> | undefined;
    const stop = () =>
      ended ??= (async () => {
        await server.shutdown();
        await plugin.cleanup?.();
        await unload();
      })();
    // nbdkit forks to go into the background, and to run a --run command beside the server.
    const forked = !line.single && (line.run !== undefined || !line.foreground);
    const afterFork = () => pluginStep(plugin, () => plugin.afterFork?.(forked));
    const signals = watchSignals(runtime, line.run === undefined ? "serving" : "captive");
    routeShutdown(signals.stop); // a filter's shutdown() (exitlast, exitwhen) stops as SIGTERM does
    if (line.single) {
      signals.cleanUpWith(stop);
      void signals.stopped.then(stop); // ends the connection, so serveStdio settles
      if (line.pidFile) await writePidFile(runtime, absolute(runtime, line.pidFile));
      await afterFork();
      await runtime.serveStdio(accept);
      await stop();
      return 0;
    }
    const check = line.websocket ? await websocketCheck(line, log) : undefined;
    const steps = { afterFork, stop, signals, program: self.name };
    return await serve(runtime, line, { accept, tls: tls.mode, check, inherited }, steps);
  }
}

/** What serve() runs besides the listener, and the name its messages start with. */
interface ServeSteps {
  afterFork(): Promise<void>;
  stop(): Promise<void>;
  signals: SignalWatch;
  program: string;
}

/** Listens, then either runs the captive command or waits for a signal (see cli/signals.ts). */
async function serve(
  runtime: Runtime,
  line: CommandLine,
  connections: {
    accept: Accept;
    tls: TlsMode;
    /** --websocket's judge of upgrade requests; undefined without --websocket. */
    check: UpgradeCheck | undefined;
    inherited: readonly number[];
  },
  { afterFork, stop, signals, program }: ServeSteps,
): Promise<number> {
  let tempDir: string | undefined;
  let socketPath = line.unixSocket && absolute(runtime, line.unixSocket);
  const pidFile = line.pidFile && absolute(runtime, line.pidFile);
  if (socketPath === PRIVATE_SOCKET) {
    try {
      tempDir = await runtime.makeTempDir();
    } catch (error) {
      throw new ConfigError(`cannot make a directory for the socket: ${messageOf(error)}`);
    }
    socketPath = `${tempDir}/socket`;
  }
  let listener: Listener;
  try {
    const tcp = { host: line.ipAddr, port: line.port ?? DEFAULT_PORT };
    const address: ListenAddress = socketPath !== undefined
      ? { kind: "unix", path: socketPath }
      : connections.check !== undefined // --websocket
      ? { kind: "websocket", ...tcp, check: connections.check }
      : { kind: "tcp", ...tcp };
    listener = connections.inherited.length > 0
      ? await listenInherited(runtime, connections.inherited, connections.accept)
      : await runtime.listen(address, connections.accept);
  } catch (error) {
    if (tempDir) await runtime.removePath(tempDir);
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot listen: ${messageOf(error)}`);
  }
  const target = {
    unixSocket: socketPath,
    port: listener.port,
    exportName: line.exportName ?? "",
    tls: connections.tls, // nbds:// and $tls, as nbdkit shows them
    websocket: line.websocket, // nbd+ws://localhost:PORT/EXPORT (README, "The nbd+ws URI")
  };
  // Asked for only when needed: a socket inherited by socket activation may have no name.
  const uri = () => buildUri(target);
  if (line.printUri) runtime.stdout(uri() + "\n");
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
  signals.cleanUpWith(shutdown);
  try {
    await afterFork();
  } catch (error) {
    await shutdown();
    throw error;
  }

  if (line.run !== undefined) {
    void signals.stopped.then(shutdown); // the command runs on, and its status is still ours
    const variables = captiveEnvironment(target);
    const end = await runtime.runShell(captiveScript(variables, line.run), {});
    if (end.signal !== undefined) {
      runtime.stderr(errorLine(`external command was killed by signal ${end.signal}\n`, program));
    }
    await shutdown();
    return end.status;
  }
  await signals.stopped;
  await shutdown();
  return 0;
}

/** --websocket's judge of upgrade requests: foreign web pages get 403, logged with the peer. */
async function websocketCheck(line: CommandLine, log: Log): Promise<UpgradeCheck> {
  const { upgradeRefusal } = await import("./embed/upgrade-policy.ts");
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

/** The help texts (usage, --version, a plugin's help, --dump-plugin), which serving never needs. */
function helpTexts(): Promise<typeof import("./cli/help.ts")> {
  return import("./cli/help.ts");
}
