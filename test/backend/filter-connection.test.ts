/**
 * A connection's life through filters, in nbdkit's order (man nbdkit-filter, "prepare" and
 * "finalize"; server/backend.c): open outside in, prepare inside out once every layer is open,
 * finalize outside in only where prepare succeeded, close outside in; and each layer's
 * capabilities combined with what they depend on, as nbdkit's backend_can_* do.
 */

import { describe, expect, test } from "vitest";
import { Backend } from "../../src/backend/backend.ts";
import { FinalizeError } from "../../src/backend/layer.ts";
import { NbdError } from "../../src/api/errors.ts";
import {
  type DetachedNext,
  type Filter,
  type NextHandle,
  type NextReopen,
  ZERO_MODE,
} from "../../src/api/filter.ts";
import { stackFilters } from "../../src/backend/filter-stack.ts";
import { CACHE_MODE, FLAG, FUA_MODE, type Plugin, THREAD_MODEL } from "../../src/api/plugin.ts";
import { transmissionFlags } from "../../src/connection/open-export.ts";
import { TX_FLAG } from "../../src/protocol/constants.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

const NOTHING_AGREED = { chunks: false, blockStatusPayload: false };

/** A filter recording its connection callbacks as "NAME event"; `extra` overrides any. */
function recorder(name: string, events: string[], extra: Partial<Filter> = {}): Filter {
  return {
    name,
    async open(next, readonly, exportName) {
      events.push(`${name} open`);
      await next(readonly, exportName);
      events.push(`${name} open returned`);
      return {
        prepare: (ro) => void events.push(`${name} prepare readonly=${ro}`),
        getSize: () => {
          events.push(`${name} getSize`);
          return Promise.resolve(1024 * 1024);
        },
        finalize: () => void events.push(`${name} finalize`),
        close: () => void events.push(`${name} close`),
      };
    },
    ...extra,
  };
}

function recordingPlugin(events: string[]): Plugin {
  const ram = ramPlugin();
  return {
    ...ram.plugin,
    async open(readonly, exportName) {
      events.push("plugin open");
      const handle = await ram.plugin.open(readonly, exportName);
      return { ...handle, close: () => void events.push("plugin close") };
    },
  };
}

describe("a connection's life through --filter=a --filter=b", () => {
  test("every open returns before the first prepare; prepare inside out, the rest outside in", async () => {
    const events: string[] = [];
    const top = stackFilters(
      [recorder("a", events), recorder("b", events)],
      recordingPlugin(events),
    );
    const backend = await Backend.open(top, false, "");
    events.push("serving");
    await backend.close();
    expect(events).toEqual([
      "a open",
      "b open",
      "plugin open",
      "b open returned",
      "a open returned",
      "b prepare readonly=false",
      "b getSize", // asked by the Backend that a's NextHandle is made of
      "a prepare readonly=false",
      "a getSize", // asked by the server
      "serving",
      "a finalize",
      "b finalize",
      "a close",
      "b close",
      "plugin close",
    ]);
  });

  test("prepare is told the readonly the filter was opened with", async () => {
    const events: string[] = [];
    const readOnlyBelow = recorder("a", events, {
      async open(next, _readonly, exportName) {
        await next(true, exportName);
        return {};
      },
    });
    const top = stackFilters([readOnlyBelow, recorder("b", events)], recordingPlugin(events));
    const backend = await Backend.open(top, false, "");
    expect(events).toContain("b prepare readonly=true");
    expect(backend.caps.writable).toBe(false);
    await backend.close();
  });

  test("a failed prepare fails the open: layers below that prepared are finalized, all closed", async () => {
    const events: string[] = [];
    const failing = recorder("a", events, {
      async open(next, readonly, exportName) {
        await next(readonly, exportName);
        return {
          prepare: () => {
            throw new Error("no partition table");
          },
          finalize: () => void events.push("a finalize"),
          close: () => void events.push("a close"),
        };
      },
    });
    const top = stackFilters([failing, recorder("b", events)], recordingPlugin(events));
    await expect(Backend.open(top, false, "")).rejects.toThrow("no partition table");
    expect(events.slice(events.indexOf("b prepare readonly=false"))).toEqual([
      "b prepare readonly=false",
      "b getSize",
      "b finalize", // a's prepare failed: a is not finalized
      "a close",
      "b close",
      "plugin close",
    ]);
  });

  test("a failed finalize skips the finalize of the layers below, closes all, and says so", async () => {
    const events: string[] = [];
    const failing = recorder("a", events, {
      async open(next, readonly, exportName) {
        await next(readonly, exportName);
        return {
          finalize: () => {
            throw new Error("cannot write the superblock");
          },
          close: () => void events.push("a close"),
        };
      },
    });
    const top = stackFilters([failing, recorder("b", events)], recordingPlugin(events));
    const backend = await Backend.open(top, false, "");
    events.length = 0;
    const closing = backend.close();
    await expect(closing).rejects.toBeInstanceOf(FinalizeError);
    await expect(closing).rejects.toThrow("cannot write the superblock");
    expect(events).toEqual(["a close", "b close", "plugin close"]);
  });

  test("a filter that skips next prepares no layer below it", async () => {
    const events: string[] = [];
    const own = recorder("a", events, {
      open: () => ({ getSize: () => 512, readAt: (buf) => void buf.fill(1) }),
    });
    const backend = await Backend.open(
      stackFilters([own, recorder("b", events)], recordingPlugin(events)),
      false,
      "",
    );
    expect(backend.caps.size).toBe(512);
    await backend.close();
    expect(events).toEqual([]);
  });

  test("using next inside open prepares the layers below at once, and still works", async () => {
    const events: string[] = [];
    const eager = recorder("a", events, {
      async open(next, readonly, exportName) {
        const below = await next(readonly, exportName);
        events.push(`a sees ${await below.getSize()}`);
        return {};
      },
    });
    const backend = await Backend.open(
      stackFilters([eager, recorder("b", events)], recordingPlugin(events)),
      false,
      "",
    );
    expect(events).toEqual([
      "b open",
      "plugin open",
      "b open returned",
      "b prepare readonly=false",
      "b getSize",
      "a sees 1048576",
    ]);
    await backend.close();
  });
});

describe("reopening the layer below (NextReopen, the retry filter's)", () => {
  /** A filter whose reopen is kept for the test to call; it overrides nothing. */
  function reopener(events: string[], grab: (reopen: NextReopen) => void): Filter {
    return {
      name: "r",
      async open(next, readonly, exportName, _tls, { reopen }) {
        await next(readonly, exportName);
        grab(reopen);
        return { close: () => void events.push("r close") };
      },
    };
  }

  test("the old layers are finalized and closed, the new ones prepared, and pass-through follows them", async () => {
    const events: string[] = [];
    let reopen: NextReopen | undefined;
    const backend = await Backend.open(
      stackFilters(
        [reopener(events, (r) => (reopen = r)), recorder("b", events)],
        recordingPlugin(events),
      ),
      false,
      "",
    );
    events.length = 0;
    const fresh = await reopen!(true, "other");
    expect(events).toEqual([
      "b finalize",
      "b close",
      "plugin close",
      "b open",
      "plugin open",
      "b open returned",
      "b prepare readonly=true",
      "b getSize",
    ]);
    expect(await fresh.canWrite()).toBe(false);
    // The server's view passes reads straight to whatever is below now.
    await backend.readAt(new Uint8Array(512), 0);
    events.length = 0;
    await backend.close();
    expect(events).toEqual(["b finalize", "r close", "b close", "plugin close"]);
  });

  test("a reopen that fails leaves no layer below, and the connection still closes", async () => {
    const events: string[] = [];
    let reopen: NextReopen | undefined;
    let opens = 0;
    const plugin = recordingPlugin(events);
    const failing: Plugin = {
      ...plugin,
      open: (readonly, name) => {
        if (++opens > 1) throw new NbdError("EIO", "the disk went away");
        return plugin.open(readonly, name);
      },
    };
    const backend = await Backend.open(
      stackFilters([reopener(events, (r) => (reopen = r))], failing),
      false,
      "",
    );
    await expect(reopen!(false, "")).rejects.toThrow("the disk went away");
    events.length = 0;
    await backend.close();
    expect(events).toEqual(["r close"]); // the plugin's handle was closed by the reopen
  });

  test("before the filter is prepared there is nothing to reopen", async () => {
    const early: Filter = {
      name: "early",
      async open(next, readonly, exportName, _tls, { reopen }) {
        await next(readonly, exportName);
        await reopen(readonly, exportName);
        return {};
      },
    };
    await expect(Backend.open(stackFilters([early], ramPlugin().plugin), false, "")).rejects
      .toThrow('filter "early" reopened the next layer before it was prepared');
  });
});

describe("a detached layer below (openDetached, the openonce filter's)", () => {
  test("it outlives the connection that opened it, until the filter closes it", async () => {
    const events: string[] = [];
    const detached: DetachedNext[] = [];
    const sharer: Filter = {
      name: "s",
      async open(_next, readonly, exportName, _tls, { openDetached }) {
        detached.push(await openDetached(readonly, exportName));
        const below = detached[0].handle;
        return { getSize: () => below.getSize(), readAt: (buf, o) => below.readAt(buf, o) };
      },
    };
    const top = stackFilters([sharer, recorder("b", events)], recordingPlugin(events));
    const backend = await Backend.open(top, false, "");
    await backend.readAt(new Uint8Array(512), 0);
    await backend.close();
    expect(events).toEqual([
      "b open",
      "plugin open",
      "b open returned",
      "b prepare readonly=false",
      "b getSize",
    ]);
    await detached[0].close();
    expect(events.slice(5)).toEqual(["b finalize", "b close", "plugin close"]);
  });

  test("a filter's threadModel is told the model of the layers below", async () => {
    const told: number[] = [];
    const top = stackFilters(
      [{ name: "t", threadModel: (below) => (told.push(below), below) }],
      { ...ramPlugin().plugin, threadModel: () => THREAD_MODEL.SERIALIZE_REQUESTS },
    );
    expect(await top.threadModel!()).toBe(THREAD_MODEL.SERIALIZE_REQUESTS);
    expect(told).toEqual([THREAD_MODEL.SERIALIZE_REQUESTS]);
  });
});

/** Opens `filter` over a RAM disk and gives the server's view and the filter's next layer. */
async function through(filter: (grab: (next: NextHandle) => void) => Filter, ram = ramPlugin()) {
  let next: NextHandle | undefined;
  const backend = await Backend.open(
    stackFilters([filter((n) => (next = n))], ram.plugin),
    false,
    "",
  );
  return { backend, next: next!, ram };
}

describe("capabilities through a filter", () => {
  test("a layer that cannot write cannot trim, zero or FUA, whatever it answers", async () => {
    const { backend } = await through(() => ({
      name: "f",
      open: async (next, ro, name) => (await next(ro, name), {
        canWrite: () => false,
        canTrim: () => true,
        canFua: () => FUA_MODE.NATIVE,
        canZero: () => ZERO_MODE.NATIVE,
        canFastZero: () => true,
      }),
    }));
    expect(backend.caps).toMatchObject({
      writable: false,
      trim: false,
      fua: FUA_MODE.NONE,
      zeroNative: false,
      fastZero: false,
    });
  });

  test("canZero NONE takes WRITE_ZEROES off, and a filter above passing it through keeps it off", async () => {
    const none: Filter = {
      name: "nozero",
      open: async (next, ro, name) => (await next(ro, name), { canZero: () => ZERO_MODE.NONE }),
    };
    const above: Filter = { name: "above", open: (next, ro, name) => next(ro, name) };
    for (const filters of [[none], [above, none]]) {
      const backend = await Backend.open(stackFilters(filters, ramPlugin().plugin), false, "");
      expect(backend.caps).toMatchObject({ writable: true, zeroNone: true, fastZero: false });
      expect(transmissionFlags(backend.caps, NOTHING_AGREED, 3) & TX_FLAG.SEND_WRITE_ZEROES).toBe(
        0,
      );
      await backend.close();
    }
  });

  test("the next layer's zeroMode says NONE, EMULATE or NATIVE as nbdkit's next->can_zero", async () => {
    const grab = (keep: (next: NextHandle) => void): Filter => ({
      name: "grab",
      async open(next, ro, name) {
        keep(await next(ro, name));
        return {};
      },
    });
    const native = await through(grab);
    expect(await native.next.zeroMode()).toBe(ZERO_MODE.NATIVE);
    const emulated = await through(grab, ramPlugin({ omit: ["zero"] }));
    expect(await emulated.next.zeroMode()).toBe(ZERO_MODE.EMULATE);
    const readOnly = await through((keep) => ({
      name: "ro",
      async open(next, _ro, name) {
        keep(await next(true, name));
        return {};
      },
    }));
    expect(await readOnly.next.zeroMode()).toBe(ZERO_MODE.NONE);
    await expect(readOnly.next.zero(1, 0, 0)).rejects.toMatchObject({ errno: "EROFS" });
    expect(() => readOnly.next.writeAt(new Uint8Array(1), 0, 0)).toThrow(NbdError);
  });

  test("a fast zero the next layer cannot do fast fails with ENOTSUP before reaching it", async () => {
    const { next, ram } = await through((keep) => ({
      name: "grab",
      async open(open, ro, name) {
        keep(await open(ro, name));
        return {};
      },
    }), ramPlugin({ with: { canFastZero: () => false } }));
    await expect(next.zero(4, 0, FLAG.FAST_ZERO)).rejects.toMatchObject({ errno: "ENOTSUP" });
    expect(ram.callsOf("zero")).toEqual([]);
  });

  test("canZero EMULATE on a filter turns zero into writes through the filter's own writeAt", async () => {
    const writes: number[] = [];
    const { backend, ram } = await through(() => ({
      name: "emulate",
      async open(next, ro, name) {
        const below = await next(ro, name);
        return {
          canZero: () => ZERO_MODE.EMULATE,
          writeAt(buf, offset, flags) {
            writes.push(buf.length);
            return below.writeAt(buf, offset, flags);
          },
        };
      },
    }));
    await backend.zero(4096, 0, true, false, false);
    expect(writes).toEqual([4096]);
    expect(ram.callsOf("zero")).toEqual([]);
  });

  test("canCache EMULATE on a filter reads through the filter's own readAt", async () => {
    const reads: number[] = [];
    const { backend } = await through(() => ({
      name: "emulate",
      async open(next, ro, name) {
        const below = await next(ro, name);
        return {
          canCache: () => CACHE_MODE.EMULATE,
          readAt(buf, offset) {
            reads.push(buf.length);
            return below.readAt(buf, offset);
          },
        };
      },
    }));
    await backend.cache(512, 0);
    expect(reads).toEqual([512]);
  });

  test("a filter's own readViews reaches the server; the plugin's never passes through one", async () => {
    const lent = { views: [new Uint8Array(4)], release() {} };
    const lending = ramPlugin({ with: { readViews: () => lent } });
    const passing = await through(() => ({
      name: "f",
      open: async (next, ro, name) => (await next(ro, name), {}),
    }), lending);
    expect(passing.backend.readViews(4, 0)).toBeUndefined();
    const own = await through(() => ({
      name: "f",
      open: async (next, ro, name) => (await next(ro, name), { readViews: () => lent }),
    }));
    expect(own.backend.readViews(4, 0)).toBe(lent);
  });
});
