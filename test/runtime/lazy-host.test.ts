/**
 * The lazily loaded PluginHost of Deno and Bun offers every member the host it loads has, so a
 * plugin or filter never finds a call missing on those runtimes that Node (which uses the host
 * directly) has; the synchronous ones answer before anything is loaded.
 */

import { describe, expect, test } from "vitest";
import { lazyHost } from "../../src/runtime/lazy-host.ts";
import { createNodeHost } from "../../src/runtime/node-host.ts";

describe("lazyHost", () => {
  test("has every member of the host it loads", () => {
    const host = createNodeHost();
    const lazy = lazyHost(() => Promise.resolve(host), {
      getEnv: host.getEnv,
      pathExists: host.pathExists!,
    });
    expect(Object.keys(lazy).sort()).toEqual(Object.keys(host).sort());
  });

  test("getEnv and pathExists answer without loading the host", () => {
    let loads = 0;
    const lazy = lazyHost(() => {
      loads++;
      return Promise.resolve(createNodeHost());
    }, { getEnv: () => "value", pathExists: (path) => path === "/here" });
    expect(lazy.getEnv("X")).toBe("value");
    expect(lazy.pathExists!("/here")).toBe(true);
    expect(lazy.pathExists!("/elsewhere")).toBe(false);
    expect(loads).toBe(0);
  });

  test("the first asynchronous call loads the host once", async () => {
    let loads = 0;
    const lazy = lazyHost(() => {
      loads++;
      return Promise.resolve(createNodeHost());
    }, { getEnv: () => undefined, pathExists: () => false });
    await Promise.all([lazy.realpath("/"), lazy.realpath("/tmp")]);
    expect(loads).toBe(1);
  });
});
