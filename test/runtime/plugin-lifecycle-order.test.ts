/**
 * A user plugin's callbacks run in nbdkit's order on every runtime: -D flags are set before
 * load, then config, configComplete, getReady, afterFork once listening, and at the end
 * cleanup (after the server stops) before unload.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { KNOWN_SERVERS } from "../helpers/servers.ts";

const ours = KNOWN_SERVERS.filter((server) => server.available && server.name.startsWith("nbdts-"));

/** Records each callback, with the debug flag as load() sees it, and writes them at unload. */
const PLUGIN = `
import { writeFileSync } from "node:fs";
const events = [];
let log;
export default {
  name: "lifecycle",
  debugFlags: { level: 0, "with.dots": 0 },
  load() { events.push("load level=" + this.debugFlags.level + " dots=" + this.debugFlags["with.dots"]); },
  config(key, value) { events.push("config " + key); if (key === "log") log = value; },
  configComplete() { events.push("configComplete"); },
  getReady() { events.push("getReady"); },
  afterFork() { events.push("afterFork"); },
  cleanup() { events.push("cleanup"); },
  unload() { events.push("unload"); writeFileSync(log, events.join("\\n") + "\\n"); },
  open() { return { getSize: () => 512, readAt: (buf) => buf.fill(0) }; },
};
`;

describe.each(ours)("plugin lifecycle on $name", (server) => {
  test("callbacks run in nbdkit's order, -D flags set before load", async () => {
    const dir = scratchDir();
    const plugin = join(dir, "lifecycle.mjs");
    const log = join(dir, "events");
    writeFileSync(plugin, PLUGIN);
    const result = expectSuccess(
      await captive(server, [plugin, `log=${log}`], "true", {
        serverOptions: ["-D", "lifecycle.level=3", "-D", "lifecycle.with.dots=1"],
      }),
    );
    expect(result.stderr).toBe("");
    expect(readFileSync(log, "utf8").trimEnd().split("\n")).toEqual([
      "load level=3 dots=1",
      "config log",
      "configComplete",
      "getReady",
      "afterFork",
      "cleanup",
      "unload",
    ]);
  });
});
