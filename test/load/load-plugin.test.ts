import { describe, expect, test } from "vitest";
import type { Plugin } from "../../src/api/plugin.ts";
import type { Runtime } from "../../src/io.ts";
import { loadPlugin } from "../../src/load/load-plugin.ts";

/** A runtime whose importModule gives `module` for any path. */
function runtimeWith(module: Record<string, unknown>): Runtime {
  return { importModule: () => Promise.resolve(module) } as unknown as Runtime;
}

/** Loads `exported` as the default export of "./tiny.ts"; the plugin and the warnings. */
async function load(exported: unknown) {
  const warnings: string[] = [];
  const plugin = await loadPlugin(runtimeWith({ default: exported }), "./tiny.ts", (warning) => {
    warnings.push(warning);
  });
  return { plugin, warnings };
}

describe("loadPlugin warns of mistaken member names", () => {
  test("the plugin's at load, naming the module", async () => {
    const { warnings } = await load({
      name: "tiny",
      magic_config_key: "size",
      open: () => ({ getSize: () => 0, readAt() {} }),
    });
    expect(warnings).toEqual([
      "./tiny.ts: magic_config_key: not a plugin member; did you mean magicConfigKey?",
    ]);
  });

  test("the handle's at the first open only, and the handle is served as given", async () => {
    const handle = { getSize: () => 512, readAt() {}, writeat() {} };
    const { plugin, warnings } = await load({ name: "tiny", open: () => handle });
    expect(warnings).toEqual([]);
    expect(await plugin.open(false, "")).toBe(handle);
    expect(await plugin.open(true, "other")).toBe(handle);
    expect(warnings).toEqual(["./tiny.ts: writeat: not a handle method; did you mean writeAt?"]);
  });

  test("open keeps its this, and a frozen plugin loads unchecked", async () => {
    const plugin = {
      name: "tiny",
      size: 7,
      open(this: { size: number }) {
        return { getSize: () => this.size, readAt() {} };
      },
    };
    const loaded = await load(plugin);
    expect(await (await loaded.plugin.open(false, "")).getSize()).toBe(7);
    const frozen = await load(Object.freeze({ ...plugin }));
    expect(frozen.plugin.open).toBe(plugin.open);
  });

  const BUILTINS: [string, Record<string, string>][] = [
    ["memory", { size: "1M" }],
    ["data", { data: "1 2 3" }],
    ["null", { size: "1M" }],
    ["pattern", { size: "1M" }],
    ["random", { size: "1M" }],
    ["sparse-random", { size: "1M" }],
    ["full", { size: "1M" }],
    ["zero", {}],
    ["example1", {}],
    ["example2", {}],
    ["example3", {}],
    ["example4", {}],
    ["file", {}],
  ];
  test.each(BUILTINS)("the built-in %s has no mistaken member", async (name, params) => {
    const warnings: string[] = [];
    const runtime = { host: undefined } as unknown as Runtime;
    const plugin: Plugin = await loadPlugin(runtime, name, (warning) => warnings.push(warning));
    for (const [key, value] of Object.entries(params)) await plugin.config!(key, value);
    // example2 and file need a file, which this runtime cannot give: their handles go unseen.
    const ready = await Promise.resolve().then(() => plugin.configComplete?.()).then(
      () => true,
      () => false,
    );
    if (ready) {
      await plugin.getReady?.();
      const handle = await plugin.open(false, "");
      await handle.close?.();
    }
    expect(warnings).toEqual([]);
  });
});

describe("loadPlugin refuses a name nbdkit refuses, in nbdkit's words", () => {
  test.each([
    [
      "my_disk",
      "./tiny.ts: plugin.name ('my_disk') field must contain only ASCII alphanumeric or dash characters",
    ],
    [
      "-disk",
      "./tiny.ts: plugin.name ('-disk') field must begin with an ASCII alphanumeric character",
    ],
    ["", "./tiny.ts: plugin.name field must not be empty"],
    [undefined, "./tiny.ts: plugin must have a .name field"],
  ])("name %j", async (name, message) => {
    await expect(load({ name, open: () => ({}) })).rejects.toThrow(message);
  });

  test("a dash after the first character is fine, as in nbdkit's sparse-random", async () => {
    const { plugin } = await load({ name: "my-disk", open: () => ({}) });
    expect(plugin.name).toBe("my-disk");
  });
});
