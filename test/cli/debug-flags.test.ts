/**
 * -D NAME.FLAG=N reaches the plugin NAME's `debugFlags`, with nbdkit's warnings for flags it
 * lacks and for flags naming nothing loaded.
 */

import { describe, expect, test } from "vitest";
import {
  applyDebugFlags,
  backendSwitches,
  serverDebugFlags,
  unusedDebugFlags,
} from "../../src/cli/debug-flags.ts";
import { parseDebugFlag } from "../../src/cli/option-values.ts";
import type { DebugFlag } from "../../src/cli/args.ts";

const flags = (...texts: string[]) => texts.map(parseDebugFlag);

describe("applyDebugFlags", () => {
  test("sets a flag the plugin declares, and no other plugin's", () => {
    const target = { verbose: 0 };
    const used = new Set<DebugFlag>();
    const given = flags("memory.verbose=2", "other.verbose=5");
    expect(applyDebugFlags(given, "memory", target, used)).toEqual([]);
    expect(target).toEqual({ verbose: 2 });
    expect(unusedDebugFlags(given, used)).toEqual([
      "warning: debug flag -D other.verbose was not used",
    ]);
  });

  test("a flag the plugin lacks is not set but warned about, with nbdkit's symbol name", () => {
    const target: Record<string, number> = { verbose: 0 };
    const used = new Set<DebugFlag>();
    const given = flags("memory.a.b=1");
    expect(applyDebugFlags(given, "memory", target, used)).toEqual([
      "warning: -D memory.a.b: memory does not contain a global variable called memory_debug_a_b",
    ]);
    expect(target).toEqual({ verbose: 0 });
    expect(unusedDebugFlags(given, used)).toEqual([]);
  });

  test("a plugin without debugFlags warns for every flag naming it", () => {
    const used = new Set<DebugFlag>();
    expect(applyDebugFlags(flags("null.x=1"), "null", undefined, used)).toHaveLength(1);
  });

  test("nbdkit's own server flags are set silently, and turn off kinds of -v lines", () => {
    const used = new Set<DebugFlag>();
    const given = flags("nbdkit.backend.datapath=0", "nbdkit.nosuch=1");
    const server = serverDebugFlags();
    expect(applyDebugFlags(given, "nbdkit", server, used)).toEqual([
      "warning: -D nbdkit.nosuch: nbdkit does not contain a global variable called nbdkit_debug_nosuch",
    ]);
    expect(server["backend.datapath"]).toBe(0);
    expect(backendSwitches(server)).toEqual({ controlpath: true, datapath: false });
    expect(backendSwitches(serverDebugFlags())).toEqual({ controlpath: true, datapath: true });
  });

  test("of two equal flags the first given wins, as in nbdkit", () => {
    const target = { level: 0 };
    applyDebugFlags(flags("p.level=1", "p.level=2"), "p", target, new Set());
    expect(target.level).toBe(1);
  });
});
