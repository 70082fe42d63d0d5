/**
 * User filters loaded from module paths (`--filter=./outer.ts --filter=./inner.mjs`) run on
 * every runtime in nbdkit's order around the plugin: -D flags set before load, load from the
 * plugin outwards, each parameter offered outermost first, getReady and afterFork from the
 * plugin outwards, preconnect and open from the outermost in, close and cleanup outermost first,
 * unload from the plugin outwards. A filter sees the client's address at preconnect.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { KNOWN_SERVERS } from "../helpers/servers.ts";

const ours = KNOWN_SERVERS.filter((server) => server.available && server.name.startsWith("nbdts-"));

/**
 * One event list in a global, so filters and the plugin append to the same log; the outermost
 * filter, unloaded last, writes it to the path the plugin was given.
 */
const LOG = `
const events = (globalThis.filterTestEvents ??= []);
export const record = (event) => events.push(event);
export const save = () => writeFileSync(globalThis.filterTestLog, events.join("\\n") + "\\n");
`;

/** A filter named NAME that records its callbacks; it takes the key NAME itself. */
const filterSource = (name: string, typed: boolean) => `
import { writeFileSync } from "node:fs";
${LOG}
export default function create()${typed ? ": unknown" : ""} {
  return {
    name: "${name}",
    debugFlags: { level: 0 },
    load() { record("${name} load level=" + this.debugFlags.level); },
    config(next, key, value) {
      record("${name} config " + key);
      return key === "${name}" ? undefined : next(key, value);
    },
    configComplete(next) { record("${name} configComplete"); return next(); },
    getReady(model) { record("${name} getReady " + model); },
    afterFork() { record("${name} afterFork"); },
    async preconnect(next, readonly, peer) {
      record("${name} preconnect " + peer?.family);
      await next(readonly);
    },
    async open(next, readonly, exportName) {
      record("${name} open");
      const below = await next(readonly, exportName);
      return { close() { record("${name} close"); } };
    },
    cleanup() { record("${name} cleanup"); },
    unload() { record("${name} unload"); if ("${name}" === "outer") save(); },
  };
}
`;

const PLUGIN = `
import { writeFileSync } from "node:fs";
${LOG}
export default {
  name: "disk",
  load() { record("plugin load"); },
  config(key, value) {
    record("plugin config " + key);
    if (key === "log") globalThis.filterTestLog = value;
  },
  configComplete() { record("plugin configComplete"); },
  getReady() { record("plugin getReady"); },
  afterFork() { record("plugin afterFork"); },
  preconnect() { record("plugin preconnect"); },
  open() {
    record("plugin open");
    return { getSize: () => 512, readAt: (buf) => buf.fill(0), close() { record("plugin close"); } };
  },
  cleanup() { record("plugin cleanup"); },
  unload() { record("plugin unload"); },
};
`;

describe.each(ours)("filter lifecycle on $name", (server) => {
  test("two user filters and the plugin run in nbdkit's order", async () => {
    const dir = scratchDir();
    const outer = join(dir, "outer.ts");
    const inner = join(dir, "inner.mjs");
    const plugin = join(dir, "disk.mjs");
    const log = join(dir, "events");
    writeFileSync(outer, filterSource("outer", true));
    writeFileSync(inner, filterSource("inner", false));
    writeFileSync(plugin, PLUGIN);
    const result = expectSuccess(
      await captive(
        server,
        [plugin, `log=${log}`, "inner=1", "outer=2"],
        'nbdinfo --size "$uri"',
        {
          serverOptions: [`--filter=${outer}`, `--filter=${inner}`, "-D", "inner.level=4"],
        },
      ),
    );
    expect(result.stdout.trim()).toBe("512");
    const events = readFileSync(log, "utf8").trimEnd().split("\n");
    // nbdinfo may ask NBD_OPT_INFO before NBD_OPT_GO: keep only the first open and close.
    expect(events.slice(0, 20)).toEqual([
      "plugin load",
      "inner load level=4",
      "outer load level=0",
      "outer config log",
      "inner config log",
      "plugin config log",
      "outer config inner",
      "inner config inner",
      "outer config outer",
      "outer configComplete",
      "inner configComplete",
      "plugin configComplete",
      "plugin getReady",
      "inner getReady 3",
      "outer getReady 3",
      "plugin afterFork",
      "inner afterFork",
      "outer afterFork",
      "outer preconnect unix",
      "inner preconnect unix",
    ]);
    expect(events.slice(20, 27)).toEqual([
      "plugin preconnect",
      "outer open",
      "inner open",
      "plugin open",
      "outer close",
      "inner close",
      "plugin close",
    ]);
    expect(events.slice(-6)).toEqual([
      "outer cleanup",
      "inner cleanup",
      "plugin cleanup",
      "plugin unload",
      "inner unload",
      "outer unload",
    ]);
  });
});
