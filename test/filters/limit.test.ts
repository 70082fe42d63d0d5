import { describe, expect, test } from "vitest";
import { Backend } from "../../src/backend/backend.ts";
import { applyParams } from "../../src/backend/configure.ts";
import { stackFilters } from "../../src/backend/filter-stack.ts";
import { createLimitFilter } from "../../src/filters/limit.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

async function limited(limit?: string) {
  const ram = ramPlugin();
  const pluginKeys: string[] = [];
  const plugin = { ...ram.plugin, config: (key: string) => void pluginKeys.push(key) };
  const top = stackFilters([createLimitFilter()], plugin);
  if (limit !== undefined) await applyParams(top, [{ key: "limit", value: limit }]);
  return { ram, top, pluginKeys, open: () => Backend.open(top, false, "") };
}

describe("limit filter", () => {
  test("one open connection by default: preconnect and open refuse a second", async () => {
    const { top, open } = await limited();
    await top.preconnect!(false, undefined);
    const first = await open();
    await expect(top.preconnect!(false, undefined)).rejects.toThrow(
      "limit: too many clients connected, connection rejected",
    );
    await expect(open()).rejects.toThrow("too many clients");
    await first.close();
    await top.preconnect!(false, undefined);
    await (await open()).close();
  });

  test("an open refused for the limit closes the plugin handle it opened", async () => {
    const { ram, open } = await limited("1");
    const first = await open();
    await expect(open()).rejects.toThrow("too many clients");
    expect([ram.opens, ram.closes]).toEqual([2, 1]);
    await first.close();
  });

  test("limit=0 counts nothing; other keys go on to the plugin", async () => {
    const { top, open, pluginKeys } = await limited("0");
    const handles = [await open(), await open(), await open()];
    await top.preconnect!(false, undefined);
    await Promise.all(handles.map((handle) => handle.close()));
    await applyParams(top, [{ key: "size", value: "1M" }]);
    expect(pluginKeys).toEqual(["size"]);
  });
});
