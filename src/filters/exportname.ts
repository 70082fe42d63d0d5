/**
 * The exportname filter (man nbdkit-exportname-filter): changes the export names clients see.
 * `default-export=NAME` is what the default export "" opens; `exportname-list=` says what
 * NBD_OPT_LIST reports (`keep` the layer below's list, `error`, `empty`, `defaultonly`, or
 * `explicit`: the `exportname=` names, given once each); `exportname-strict=true` refuses every
 * export not given by `exportname=`; `exportdesc=` sets descriptions (`keep`, `none`,
 * `fixed:STRING`, or `script:SCRIPT`, run with $name set, its output the description).
 */

import { ConfigError, ERRNO, NbdError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { parseBool } from "../api/parse.ts";
import type { ExportEntry } from "../api/plugin.ts";
import { shellQuote } from "../api/shell-quote.ts";
import { VERSION } from "../api/version.ts";
import type { PluginHost } from "../io.ts";

const LISTS = {
  keep: "keep",
  error: "error",
  empty: "empty",
  defaultonly: "defaultonly",
  "default-only": "defaultonly",
  explicit: "explicit",
} as const;
type ListMode = (typeof LISTS)[keyof typeof LISTS];

/** An export's description under `exportdesc=`: kept, none, fixed, or a script's output. */
type Describe =
  | { mode: "keep" }
  | { mode: "none" }
  | { mode: "fixed"; text: string }
  | { mode: "script"; script: string };

/** nbdkit reads at most this much of a script's output (the NBD string limit). */
const DESCRIPTION_LIMIT = 4096;

/** `key` and its underscore spelling, which nbdkit also takes. */
const spelled = (key: string, name: string) => key === name || key === name.replaceAll("-", "_");

export function createExportnameFilter(host?: PluginHost): Filter {
  let defaultExport: string | undefined;
  let list: ListMode = "keep";
  let strict = false;
  let describe: Describe = { mode: "keep" };
  const explicit: ExportEntry[] = [];
  const isExplicit = (name: string) => explicit.some((entry) => entry.name === name);

  const description = async (name: string, kept: string | undefined) => {
    if (describe.mode === "keep") return kept;
    if (describe.mode === "none") return undefined;
    if (describe.mode === "fixed") return describe.text;
    const script = `export name; name=${shellQuote(name)}\n${describe.script}\n`;
    try {
      const { output } = await host!.runCommand(script, DESCRIPTION_LIMIT);
      const text = new TextDecoder().decode(output.subarray(0, DESCRIPTION_LIMIT));
      return text.endsWith("\n") ? text.slice(0, -1) : text;
    } catch {
      return undefined; // nbdkit too describes nothing when the script cannot run
    }
  };

  return {
    name: "exportname",
    longname: "nbdts exportname filter",
    version: VERSION,
    configHelp: 'default-export=<NAME>     Canonical name for the "" default export.\n' +
      "exportname-list=<MODE>    Which exports to advertise: keep (default), error,\n" +
      "                          empty, defaultonly, explicit.\n" +
      "exportname-strict=<BOOL>  Limit clients to explicit exports (default false).\n" +
      "exportname=<NAME>         Add an explicit export name, may be repeated.\n" +
      "exportdesc=<MODE>         Set descriptions according to mode: keep (default),\n" +
      "                          none, fixed:STRING, script:SCRIPT.",

    config(next, key, value) {
      if (spelled(key, "default-export")) defaultExport = value;
      else if (spelled(key, "exportname-list")) {
        if (!Object.hasOwn(LISTS, value)) {
          throw new ConfigError(`unrecognized exportname-list mode: ${value}`);
        }
        list = LISTS[value as keyof typeof LISTS];
      } else if (spelled(key, "exportname-strict")) strict = parseBool(value);
      else if (key === "exportname") explicit.push({ name: value });
      else if (key === "exportdesc") describe = parseDescribe(value, host);
      else return next(key, value);
    },

    async listExports(next, readonly, _tls, defaultName) {
      let source: readonly ExportEntry[];
      if (list === "error") throw new NbdError(ERRNO.EINVAL, "export list restricted by policy");
      if (list === "empty") return [];
      if (list === "defaultonly") {
        const name = await defaultName(readonly);
        return name === undefined ? [] : [{ name }];
      }
      if (list === "explicit") source = explicit;
      else source = await next(readonly);
      const described: ExportEntry[] = [];
      for (const entry of source) {
        const text = await description(entry.name, entry.description);
        described.push(
          text === undefined ? { name: entry.name } : { name: entry.name, description: text },
        );
      }
      return described;
    },

    defaultExport(next, readonly) {
      // Strict, the default export is served only when "" was given as an exportname=.
      if (strict) return isExplicit("") ? defaultExport ?? "" : undefined;
      if (defaultExport !== undefined) return defaultExport;
      return next(readonly);
    },

    async open(next, readonly, exportName) {
      if (strict && !isExplicit(exportName)) {
        throw new NbdError(ERRNO.ENOENT, `export '${exportName}' not found`);
      }
      const below = await next(readonly, exportName);
      return {
        async exportDescription() {
          const kept = describe.mode === "keep" ? await below.exportDescription() : undefined;
          return description(exportName, kept);
        },
      };
    },
  };
}

function parseDescribe(value: string, host: PluginHost | undefined): Describe {
  if (value === "keep") return { mode: "keep" };
  if (value === "none") return { mode: "none" };
  if (value.startsWith("fixed:")) return { mode: "fixed", text: value.slice(6) };
  if (value.startsWith("script:")) {
    if (!host) throw new ConfigError("exportdesc: this runtime cannot run scripts");
    return { mode: "script", script: value.slice(7) };
  }
  throw new ConfigError(`unrecognized exportdesc mode: ${value}`);
}
