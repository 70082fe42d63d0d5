/**
 * debug(), a plugin's nbdkit_debug: its lines reach the log of the server that took them, named
 * after the plugin, only with -v; a second copy of the module (a plugin bundled with its own
 * copy of nbdts, as Node's .ts loading does) reaches the same log.
 */

import { afterEach, expect, test } from "vitest";
import { debug, routeDebug } from "../../src/api/debug.ts";
import { Log } from "../../src/api/log.ts";

afterEach(() => routeDebug(undefined));

test("with -v a plugin's debug() is a debug line named after the plugin", () => {
  const lines: string[] = [];
  new Log((line) => lines.push(line), true).takePluginDebug("memory");
  debug("opening export 'a'");
  expect(lines).toEqual(["nbdts: memory: debug: opening export 'a'\n"]);
});

test("without -v debug() prints nothing, even after a verbose server took it", () => {
  const lines: string[] = [];
  new Log((line) => lines.push(line), true).takePluginDebug("memory");
  new Log((line) => lines.push(line), false).takePluginDebug("memory");
  debug("quiet");
  expect(lines).toEqual([]);
});

test("debug() before any server prints nothing and does not throw", () => {
  expect(() => debug("nobody listens")).not.toThrow();
});

test("another copy of the module reaches the same server", async () => {
  const copyUrl = "../../src/api/debug.ts?copy"; // a query makes the loader evaluate it anew
  const copy: typeof import("../../src/api/debug.ts") = await import(/* @vite-ignore */ copyUrl);
  expect(copy.debug).not.toBe(debug); // a module of its own, as a bundled plugin has
  const lines: string[] = [];
  new Log((line) => lines.push(line), true).takePluginDebug("ramdisk");
  copy.debug("from the bundled copy");
  expect(lines).toEqual(["nbdts: ramdisk: debug: from the bundled copy\n"]);
});
