import { describe, expect, test } from "vitest";
import { Backend } from "../../src/backend/backend.ts";
import { applyParams, finishConfiguration } from "../../src/backend/configure.ts";
import { ConfigError, NbdError } from "../../src/api/errors.ts";
import type { Filter, NextHandle } from "../../src/api/filter.ts";
import { stackFilters } from "../../src/backend/filter-stack.ts";
import { FLAG, FUA_MODE, type Plugin, THREAD_MODEL } from "../../src/api/plugin.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

/** A filter that records, in `events`, each callback it gets as "NAME callback". */
function recorder(name: string, events: string[], extra: Partial<Filter> = {}): Filter {
  return {
    name,
    load: () => void events.push(`${name} load`),
    unload: () => void events.push(`${name} unload`),
    config(next, key, value) {
      events.push(`${name} config ${key}`);
      return key === name ? undefined : next(key, value);
    },
    configComplete(next) {
      events.push(`${name} configComplete`);
      return next();
    },
    getReady: (model) => void events.push(`${name} getReady ${model}`),
    afterFork: () => void events.push(`${name} afterFork`),
    cleanup: () => void events.push(`${name} cleanup`),
    async preconnect(next, readonly, peer) {
      events.push(`${name} preconnect ${peer?.family}`);
      await next(readonly);
    },
    async open(next, readonly, exportName) {
      events.push(`${name} open`);
      await next(readonly, exportName);
      return { close: () => void events.push(`${name} close`) };
    },
    ...extra,
  };
}

/** A plugin that records its own callbacks in `events` as "plugin callback". */
function recordingPlugin(events: string[]): Plugin {
  const ram = ramPlugin();
  return {
    ...ram.plugin,
    name: "disk",
    magicConfigKey: "size",
    load: () => void events.push("plugin load"),
    unload: () => void events.push("plugin unload"),
    config: (key) => void events.push(`plugin config ${key}`),
    configComplete: () => void events.push("plugin configComplete"),
    getReady: () => void events.push("plugin getReady"),
    afterFork: () => void events.push("plugin afterFork"),
    cleanup: () => void events.push("plugin cleanup"),
    preconnect: (_readonly, peer) => void events.push(`plugin preconnect ${peer?.family}`),
    async open(readonly, exportName) {
      events.push("plugin open");
      const handle = await ram.plugin.open(readonly, exportName);
      return { ...handle, close: () => void events.push("plugin close") };
    },
  };
}

/** `--filter=a --filter=b plugin`, every layer recording into one list. */
function recordedStack() {
  const events: string[] = [];
  const top = stackFilters([recorder("a", events), recorder("b", events)], recordingPlugin(events));
  return { events, top };
}

describe("stackFilters: --filter=a --filter=b plugin, a outermost", () => {
  test("with no filters the plugin itself is served", () => {
    const plugin = ramPlugin().plugin;
    expect(stackFilters([], plugin)).toBe(plugin);
  });

  test("each parameter is offered to a, then b, then the plugin; a filter keeps its own", async () => {
    const { events, top } = recordedStack();
    await applyParams(top, [
      { key: "size", value: "1M" },
      { key: "b", value: "x" },
      { key: "a", value: "y" },
    ]);
    expect(events).toEqual([
      "a config size",
      "b config size",
      "plugin config size",
      "a config b",
      "b config b",
      "a config a",
    ]);
  });

  test("the stack keeps the plugin's name and magic config key", () => {
    const top = stackFilters([recorder("a", [])], recordingPlugin([]));
    expect([top.name, top.magicConfigKey]).toEqual(["disk", "size"]);
  });

  test("load-time callbacks run in nbdkit's order across the layers", async () => {
    const { events, top } = recordedStack();
    await top.load!();
    await finishConfiguration(top);
    await top.afterFork!();
    await top.cleanup!();
    await top.unload!();
    expect(events).toEqual([
      "plugin load",
      "b load",
      "a load",
      "a configComplete",
      "b configComplete",
      "plugin configComplete",
      "plugin getReady",
      `b getReady ${THREAD_MODEL.PARALLEL}`,
      `a getReady ${THREAD_MODEL.PARALLEL}`,
      "plugin afterFork",
      "b afterFork",
      "a afterFork",
      "a cleanup",
      "b cleanup",
      "plugin cleanup",
      "plugin unload",
      "b unload",
      "a unload",
    ]);
  });

  test("preconnect and open go outside in with the peer; close goes outside in too", async () => {
    const { events, top } = recordedStack();
    await top.preconnect!(false, { family: "ipv4", address: "127.0.0.1", port: 1 });
    const backend = await Backend.open(top, false, "");
    await backend.close();
    expect(events).toEqual([
      "a preconnect ipv4",
      "b preconnect ipv4",
      "plugin preconnect ipv4",
      "a open",
      "b open",
      "plugin open",
      "a close",
      "b close",
      "plugin close",
    ]);
  });

  test("a filter that does not call next short-cuts the chain", async () => {
    const events: string[] = [];
    const refusing = recorder("a", events, {
      preconnect: () => {
        throw new Error("not you");
      },
      config: (_next, key) => void events.push(`a swallows ${key}`),
    });
    const top = stackFilters([refusing], recordingPlugin(events));
    await applyParams(top, [{ key: "size", value: "1M" }]);
    await expect(top.preconnect!(false, undefined)).rejects.toThrow("not you");
    expect(events).toEqual(["a swallows size"]);
  });

  test("the thread model is the strictest of every layer, and getReady is told it", async () => {
    const events: string[] = [];
    const serializing = recorder("b", events, {
      threadModel: () => THREAD_MODEL.SERIALIZE_REQUESTS,
    });
    const top = stackFilters([recorder("a", events), serializing], recordingPlugin(events));
    expect(await top.threadModel!()).toBe(THREAD_MODEL.SERIALIZE_REQUESTS);
    await top.getReady!();
    expect(events).toContain(`a getReady ${THREAD_MODEL.SERIALIZE_REQUESTS}`);
  });

  test("a filter's error names the filter; a plugin's error under it names the plugin", async () => {
    const picky = recorder("a", [], {
      config(next, key, value) {
        if (key === "bad") throw new ConfigError("no bad keys");
        return next(key, value);
      },
    });
    const top = stackFilters([picky], { ...ramPlugin().plugin, name: "disk", config: undefined });
    await expect(applyParams(top, [{ key: "bad", value: "1" }])).rejects.toThrow(
      "a: error: no bad keys",
    );
    await expect(applyParams(top, [{ key: "size", value: "1" }])).rejects.toThrow(
      /^disk: this plugin does not need command line configuration$/,
    );
  });
});

describe("a connection through a filter", () => {
  test("methods the filter does not return are the next layer's, with nbdkit's defaults", async () => {
    const ram = ramPlugin({ omit: ["canWrite", "trim"] });
    const top = stackFilters(
      [{ name: "watch", open: (next, ro, name) => next(ro, name) }],
      ram.plugin,
    );
    const backend = await Backend.open(top, false, "");
    expect(backend.caps).toMatchObject({ writable: true, trim: false, fua: FUA_MODE.EMULATE });
    await backend.writeAt(new Uint8Array([1, 2, 3]), 7, true);
    const read = new Uint8Array(3);
    await backend.readAt(read, 7);
    expect([...read]).toEqual([1, 2, 3]);
    // FUA emulated once, by a flush after the write: not passed down as a flag.
    expect(ram.calls.map((call) => [call.op, call.flags ?? 0])).toEqual([
      ["writeAt", 0],
      ["flush", 0],
      ["readAt", 0],
    ]);
    await backend.close();
  });

  test("a filter's overrides see the NextHandle and may change what the client gets", async () => {
    const shift: Filter = {
      name: "offset",
      async open(next, readonly, exportName) {
        const below = await next(readonly, exportName);
        const size = Number(await below.getSize());
        return {
          getSize: () => size - 512,
          readAt: (buf, offset) => below.readAt(buf, Number(offset) + 512),
          canWrite: () => false,
        };
      },
    };
    const ram = ramPlugin();
    ram.write(512, Uint8Array.of(9));
    const backend = await Backend.open(stackFilters([shift], ram.plugin), false, "");
    expect(backend.caps).toMatchObject({ size: 1024 * 1024 - 512, writable: false });
    const first = new Uint8Array(1);
    await backend.readAt(first, 0);
    expect(first[0]).toBe(9);
    await backend.close();
  });

  test("the NextHandle's zero without a plugin zero() writes zeroes, and fast zero is refused", async () => {
    let next: NextHandle | undefined;
    const grab: Filter = {
      name: "grab",
      async open(open, readonly, exportName) {
        next = await open(readonly, exportName);
        return {};
      },
    };
    const ram = ramPlugin({ omit: ["zero"] });
    const backend = await Backend.open(stackFilters([grab], ram.plugin), false, "");
    expect(await next!.canZero()).toBe(false);
    await next!.zero(4, 0, FLAG.MAY_TRIM);
    expect(ram.calls.at(-1)).toMatchObject({ op: "writeAt", count: 4 });
    await expect(next!.zero(4, 0, FLAG.FAST_ZERO)).rejects.toBeInstanceOf(NbdError);
    await backend.close();
  });

  test("when open fails after next, the next layer is closed again", async () => {
    const events: string[] = [];
    const failing = recorder("a", events, {
      async open(next, readonly, exportName) {
        await next(readonly, exportName);
        throw new Error("too many");
      },
    });
    const top = stackFilters([failing], recordingPlugin(events));
    await expect(Backend.open(top, false, "")).rejects.toThrow("too many");
    expect(events).toEqual(["plugin open", "plugin close"]);
  });

  test("an open that returns no object closes the next layer and names the filter", async () => {
    const events: string[] = [];
    const forgetful = recorder("a", events, {
      async open(next, readonly, exportName) {
        await next(readonly, exportName); // and forgets to return {}
      },
    } as Partial<Filter>);
    const top = stackFilters([forgetful], recordingPlugin(events));
    await expect(Backend.open(top, false, "")).rejects
      .toThrow('filter "a" open returned undefined, not the methods it overrides');
    expect(events).toEqual(["plugin open", "plugin close"]);
  });

  test("a filter that skips next must serve getSize and readAt itself", async () => {
    const empty: Filter = { name: "empty", open: () => ({}) };
    await expect(Backend.open(stackFilters([empty], ramPlugin().plugin), false, "")).rejects
      .toThrow('filter "empty" opened no next layer and gave no getSize and readAt of its own');
    const own: Filter = {
      name: "own",
      open: () => ({ getSize: () => 512, readAt: (buf) => void buf.fill(7) }),
    };
    const backend = await Backend.open(stackFilters([own], ramPlugin().plugin), false, "");
    expect(backend.caps).toMatchObject({ size: 512, writable: false });
    await backend.close();
  });
});
