/**
 * The text the informational options print on stdout: --help (usage, then each filter's and the
 * plugin's help), --version, --dump-plugin, and the undocumented --long-options and
 * --short-options lists. It formats what it is given; it never loads a plugin, and calls only
 * threadModel() and a plugin's dumpPlugin() (for --dump-plugin, as nbdkit does; main.ts opens
 * the handle it reads callbacks from).
 */

import { type Plugin, THREAD_MODEL, type ThreadModel } from "../api/plugin.ts";
import {
  HANDLE_CALLBACKS,
  type NbdkitCallbackName,
  PLUGIN_CALLBACKS,
} from "../api/plugin-members.ts";
import { OPTIONS, SHORT_OPTION_ORDER, UNDOCUMENTED } from "./options.ts";
import { PROGRAM_NAME } from "./program-name.ts";

/** The synopsis, nbdkit's layout (docs/synopsis.txt) with the options nbdts reads. */
export function usageText(program: string = PROGRAM_NAME): string {
  const p = program;
  const pad = " ".repeat(p.length);
  return `${p} [-D|--debug PLUGIN|FILTER|nbdkit.FLAG=N]
${pad} [--exit-with-parent] [-e|--exportname EXPORTNAME]
${pad} [--filter=FILTER ...] [-f|--foreground] [-i|--ipaddr IPADDR]
${pad} [--log=stderr|syslog|null] [--mask-handshake=MASK]
${pad} [-n|--newstyle] [--no-extended-headers] [--no-sr] [-o|--oldstyle]
${pad} [-P|--pidfile PIDFILE] [-p|--port PORT] [--print-uri] [-r|--readonly]
${pad} [--run 'COMMAND ARGS ...'] [-s|--single] [-t|--threads THREADS]
${pad} [--tls=off|on|require] [--tls-certificates=/path/to/certificates]
${pad} [--tls-psk=/path/to/pskfile] [--tls-verify-peer]
${pad} [-U|--unix SOCKET|-] [-v|--verbose] [--websocket]
${pad} [--websocket-origin=ORIGIN ...] [--websocket-host=HOST ...]
${pad} PLUGIN [[KEY=]VALUE [KEY=VALUE [...]]]

${p} --dump-config

${p} PLUGIN --dump-plugin

${p} --help

${p} [-V|--version]

${PROGRAM_NAME} reads nbdkit's command line: see nbdkit(1) for full usage.
`;
}

/** What --help shows of a plugin; a `Plugin` object fits as it is. */
export interface PluginHelp {
  readonly name: string;
  readonly longname?: string;
  readonly description?: string;
  readonly configHelp?: string;
}

/**
 * What --help prints for a plugin, or with `kind` "filter" for a filter, after the usage and a
 * blank line (nbdkit's plugin_usage and filter_usage): "plugin: NAME (LONGNAME)", "(PATH)"
 * when there is a path, then description and config help, each ending its line.
 */
export function pluginHelpText(
  plugin: PluginHelp,
  path?: string,
  kind: "plugin" | "filter" = "plugin",
): string {
  const title = plugin.longname === undefined ? plugin.name : `${plugin.name} (${plugin.longname})`;
  let text = `${kind}: ${title}\n`;
  if (path !== undefined) text += `(${path})\n`;
  for (const block of [plugin.description, plugin.configHelp]) {
    if (block !== undefined) text += block.endsWith("\n") ? block : `${block}\n`;
  }
  return text;
}

/**
 * The program's line ("nbdts 0.1.0", Identity.versionLine), then "NAME [VERSION]" for each
 * filter and the plugin named, outermost first (nbdkit's --version).
 */
export function versionText(
  programLine: string,
  ...layers: readonly { name: string; version?: string }[]
): string {
  const lines = layers.map((layer) =>
    layer.version === undefined ? `${layer.name}\n` : `${layer.name} ${layer.version}\n`
  );
  return `${programLine}\n${lines.join("")}`;
}

/** The callbacks --dump-plugin reports as `has_NAME=1`, by nbdkit's names, in nbdkit's order. */
export const DUMP_CALLBACKS: readonly NbdkitCallbackName[] = [
  ...Object.values(PLUGIN_CALLBACKS),
  ...Object.values(HANDLE_CALLBACKS),
];
export type DumpCallback = NbdkitCallbackName;

/** What --dump-plugin prints about a plugin; optional fields are left out when missing. */
export interface PluginDump {
  readonly path: string;
  readonly name: string;
  readonly version?: string;
  /** nbdkit prints 2 for its current plugin API. */
  readonly apiVersion?: number;
  /** The most concurrency the plugin allows, and what the server will use. */
  readonly maxThreadModel?: ThreadModel;
  readonly threadModel?: ThreadModel;
  readonly errnoIsPreserved?: boolean;
  readonly magicConfigKey?: string;
  /** Callbacks the plugin has; printed in DUMP_CALLBACKS order whatever the order here. */
  readonly callbacks?: Iterable<DumpCallback>;
  /** The plugin's own `key=value` lines (its dump_plugin callback), printed last. */
  readonly extra?: readonly string[];
}

const THREAD_MODEL_NAMES: Readonly<Record<ThreadModel, string>> = {
  [THREAD_MODEL.SERIALIZE_CONNECTIONS]: "serialize_connections",
  [THREAD_MODEL.SERIALIZE_ALL_REQUESTS]: "serialize_all_requests",
  [THREAD_MODEL.SERIALIZE_REQUESTS]: "serialize_requests",
  [THREAD_MODEL.PARALLEL]: "parallel",
};

/** The `key=value` lines of --dump-plugin, in nbdkit's order (server/plugins.c, plugin_dump_fields). */
export function dumpPluginLines(plugin: PluginDump): string[] {
  const lines = [`path=${plugin.path}`, `name=${plugin.name}`];
  if (plugin.version !== undefined) lines.push(`version=${plugin.version}`);
  if (plugin.apiVersion !== undefined) lines.push(`api_version=${plugin.apiVersion}`);
  if (plugin.maxThreadModel !== undefined) {
    lines.push(`max_thread_model=${THREAD_MODEL_NAMES[plugin.maxThreadModel]}`);
  }
  if (plugin.threadModel !== undefined) {
    lines.push(`thread_model=${THREAD_MODEL_NAMES[plugin.threadModel]}`);
  }
  if (plugin.errnoIsPreserved !== undefined) {
    lines.push(`errno_is_preserved=${plugin.errnoIsPreserved ? 1 : 0}`);
  }
  if (plugin.magicConfigKey !== undefined) lines.push(`magic_config_key=${plugin.magicConfigKey}`);
  const has = new Set(plugin.callbacks ?? []);
  for (const callback of DUMP_CALLBACKS) if (has.has(callback)) lines.push(`has_${callback}=1`);
  return [...lines, ...(plugin.extra ?? [])];
}

/**
 * The callbacks a plugin has, by nbdkit's names: its own, then its handle's when `handle` is one
 * of them (main.ts opens one to see). Without a handle, only get_size and pread, which every
 * handle must have.
 */
export function pluginCallbacks(plugin: Plugin, handle?: object): DumpCallback[] {
  const has = (object: object, name: string) =>
    (object as Record<string, unknown>)[name] !== undefined;
  const own = Object.entries(PLUGIN_CALLBACKS).filter(([name]) => has(plugin, name));
  const onHandle = Object.entries(HANDLE_CALLBACKS).filter(([name]) =>
    handle === undefined ? name === "getSize" || name === "readAt" : has(handle, name)
  );
  return [...own, ...onHandle].map(([, nbdkit]) => nbdkit);
}

/**
 * All of --dump-plugin's output for a loaded, configured plugin, ending with a newline:
 * dumpPluginLines with nbdkit's API version 2, the thread model (the plugin's, PARALLEL when it
 * declares none, with no static limit; with filters, `stack`'s, the strictest of them all, as
 * nbdkit prints it), the callbacks of the plugin and of `handle`, one of its handles, and the
 * plugin's own dumpPlugin() lines last. Filters add no lines.
 */
export async function dumpPluginText(
  plugin: Plugin,
  path: string,
  stack: Plugin = plugin,
  handle?: object,
): Promise<string> {
  const threadModel = (await stack.threadModel?.()) ?? THREAD_MODEL.PARALLEL;
  const extra = await plugin.dumpPlugin?.();
  const lines = dumpPluginLines({
    path,
    name: plugin.name,
    version: plugin.version,
    apiVersion: 2,
    maxThreadModel: THREAD_MODEL.PARALLEL,
    threadModel,
    magicConfigKey: plugin.magicConfigKey,
    callbacks: pluginCallbacks(plugin, handle),
    extra: typeof extra === "string"
      ? extra.split("\n").filter((line) => line !== "")
      : extra ?? [],
  });
  return `${lines.join("\n")}\n`;
}

/** --long-options: every long spelling, one per line, as nbdkit lists them. */
export function longOptionsLines(): string[] {
  return OPTIONS.filter((option) => !UNDOCUMENTED.has(option.id))
    .flatMap((option) => option.long.map((name) => `--${name}`));
}

/** --short-options: every short letter, one per line, in nbdkit's order. */
export function shortOptionsLines(): string[] {
  return [...SHORT_OPTION_ORDER].map((letter) => `-${letter}`);
}
