/**
 * What the program prints for a command line that needs no plugin: --dump-config,
 * --long-options, --short-options, and --help or --version when no plugin is named.
 */

import { ACTION, type CommandLine } from "./command-line.ts";
import { dumpConfigText } from "./dump-config.ts";
import { longOptionsLines, shortOptionsLines, usageText, versionText } from "./help.ts";
import type { Identity } from "./program-name.ts";

/** The runtime as --dump-config describes it. */
export interface RuntimeFacts {
  readonly name: string;
  /** Whether it can serve TLS. */
  readonly tls: boolean;
}

/** The whole of stdout for such a command line; undefined when it needs a plugin. */
export function answerWithoutPlugin(
  line: CommandLine,
  self: Identity,
  runtime: RuntimeFacts,
): string | undefined {
  switch (line.action) {
    case ACTION.DUMP_CONFIG:
      return dumpConfigText(self, runtime.name, runtime.tls);
    case ACTION.LONG_OPTIONS:
      return longOptionsLines().join("\n") + "\n";
    case ACTION.SHORT_OPTIONS:
      return shortOptionsLines().join("\n") + "\n";
  }
  if (line.plugin !== undefined) return undefined;
  if (line.action === ACTION.HELP) return usageText(self.name);
  if (line.action === ACTION.VERSION) return versionText(self.versionLine);
  return undefined;
}
