import { describe, expect, test } from "vitest";
import { Backend } from "../../src/backend/backend.ts";
import { NbdError } from "../../src/api/errors.ts";
import { ExtentList } from "../../src/backend/extents.ts";
import {
  CACHE_MODE,
  EXTENT,
  FLAG,
  FUA_MODE,
  type Handle,
  type Offset,
  type Plugin,
} from "../../src/api/plugin.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

const MiB = 1024 * 1024;

function pluginOf(handle: Handle): Plugin {
  return { name: "inline", open: () => handle };
}

async function rejection(promise: Promise<unknown>): Promise<NbdError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(NbdError);
    return error as NbdError;
  }
  throw new Error("expected a rejection");
}

describe("Backend capabilities: asked once, with nbdkit's defaults", () => {
  test("a plugin with every callback but no can* answers gets nbdkit's defaults", async () => {
    const backend = await Backend.open(ramPlugin().plugin, false, "");
    expect(backend.caps).toEqual({
      size: MiB,
      writable: true,
      flush: true,
      fua: FUA_MODE.EMULATE,
      trim: true,
      zeroNative: true,
      fastZero: false,
      extents: true,
      multiConn: false,
      cache: CACHE_MODE.NATIVE,
      rotational: false,
    });
  });

  test("a plugin with only getSize and readAt is a read-only disk that can do nothing else", async () => {
    const backend = await Backend.open(
      pluginOf({ getSize: () => 512, readAt: () => {} }),
      false,
      "",
    );
    expect(backend.caps).toEqual({
      size: 512,
      writable: false,
      flush: false,
      fua: FUA_MODE.NONE,
      trim: false,
      zeroNative: false,
      fastZero: false,
      extents: false,
      multiConn: false,
      cache: CACHE_MODE.NONE,
      rotational: false,
    });
  });

  test("a read-only open never asks about writing", async () => {
    const refuse = () => {
      throw new Error("asked");
    };
    const ram = ramPlugin({
      with: { canWrite: refuse, canFua: refuse, canTrim: refuse, canFastZero: refuse },
    });
    const backend = await Backend.open(ram.plugin, true, "");
    expect(backend.caps).toMatchObject({
      writable: false,
      fua: FUA_MODE.NONE,
      trim: false,
      fastZero: false,
      flush: true,
    });
  });

  test("without zero(), zeroes are written and fast zero is advertised (it fails fast)", async () => {
    const ram = ramPlugin({ omit: ["zero"] });
    const { caps } = await Backend.open(ram.plugin, false, "");
    expect(caps).toMatchObject({ zeroNative: false, fastZero: true });
  });

  test("canZero() false turns zero() off and fast zero on", async () => {
    const ram = ramPlugin({ with: { canZero: () => false } });
    const { caps } = await Backend.open(ram.plugin, false, "");
    expect(caps).toMatchObject({ zeroNative: false, fastZero: true });
  });

  test("the can* answers are used as given, booleans and modes alike", async () => {
    const ram = ramPlugin({
      with: {
        canWrite: () => Promise.resolve(true),
        canFlush: () => false,
        canFua: () => true,
        canTrim: () => false,
        canFastZero: () => true,
        canExtents: () => false,
        canMultiConn: () => true,
        canCache: () => CACHE_MODE.EMULATE,
        isRotational: () => true,
      },
    });
    const { caps } = await Backend.open(ram.plugin, false, "");
    expect(caps).toMatchObject({
      writable: true,
      flush: false,
      fua: FUA_MODE.NATIVE,
      trim: false,
      fastZero: true,
      extents: false,
      multiConn: true,
      cache: CACHE_MODE.EMULATE,
      rotational: true,
    });
    const none = await Backend.open(
      ramPlugin({ with: { canFua: () => false, canCache: () => true, canWrite: () => false } })
        .plugin,
      false,
      "",
    );
    expect(none.caps).toMatchObject({
      writable: false,
      fua: FUA_MODE.NONE,
      cache: CACHE_MODE.NATIVE,
    });
  });

  test("sizes may be bigints up to 2^63 - 1 and may come from a promise", async () => {
    const size = (1n << 63n) - 1n;
    const backend = await Backend.open(
      pluginOf({ getSize: () => Promise.resolve(size), readAt: () => {} }),
      false,
      "",
    );
    expect(backend.caps.size).toBe(size);
  });

  for (const size of [-1, 1.5, NaN, 2 ** 53, -1n, 1n << 63n, "1024", undefined, null]) {
    test(`an invalid size (${size}) fails the open with EINVAL and closes the handle`, async () => {
      let closed = 0;
      const plugin = pluginOf({
        getSize: () => size as number,
        readAt: () => {},
        close: () => void closed++,
      });
      expect((await rejection(Backend.open(plugin, false, ""))).errno).toBe("EINVAL");
      expect(closed).toBe(1);
    });
  }

  test("the export name reaches open()", async () => {
    const ram = ramPlugin();
    await Backend.open(ram.plugin, false, "disk/one");
    expect(ram.exportNames).toEqual(["disk/one"]);
  });
});

describe("Backend FUA: native passes FLAG.FUA on, emulated flushes after", () => {
  test("native FUA reaches writeAt and trim as FLAG.FUA with no flush", async () => {
    const ram = ramPlugin({ with: { canFua: () => FUA_MODE.NATIVE } });
    const backend = await Backend.open(ram.plugin, false, "");
    await backend.writeAt(new Uint8Array(4), 0, true);
    await backend.trim(512, 0, true);
    expect(ram.calls).toEqual([
      { op: "writeAt", offset: 0, count: 4, flags: FLAG.FUA },
      { op: "trim", offset: 0, count: 512, flags: FLAG.FUA },
    ]);
  });

  test("emulated FUA writes without the flag, then flushes", async () => {
    const ram = ramPlugin();
    const backend = await Backend.open(ram.plugin, false, "");
    await backend.writeAt(new Uint8Array(4), 8, true);
    await backend.trim(512, 0, true);
    expect(ram.calls.map((c) => [c.op, c.flags])).toEqual([
      ["writeAt", 0],
      ["flush", 0],
      ["trim", 0],
      ["flush", 0],
    ]);
  });

  test("without FUA nothing is flushed", async () => {
    const ram = ramPlugin();
    const backend = await Backend.open(ram.plugin, false, "");
    await backend.writeAt(new Uint8Array(4), 8, false);
    expect(ram.calls.map((c) => c.op)).toEqual(["writeAt"]);
  });
});

describe("Backend zero: native, or emulated by writing zeroes", () => {
  test("native zero gets MAY_TRIM unless NO_HOLE, and FAST_ZERO when asked", async () => {
    const ram = ramPlugin({ with: { canFua: () => FUA_MODE.NATIVE, canFastZero: () => true } });
    const backend = await Backend.open(ram.plugin, false, "");
    await backend.zero(512, 0, true, false, false);
    await backend.zero(512, 0, false, false, false);
    await backend.zero(512, 0, true, true, true);
    expect(ram.callsOf("zero").map((c) => c.flags)).toEqual([
      FLAG.MAY_TRIM,
      0,
      FLAG.MAY_TRIM | FLAG.FUA | FLAG.FAST_ZERO,
    ]);
  });

  test("native zero with emulated FUA zeroes, then flushes", async () => {
    const ram = ramPlugin();
    const backend = await Backend.open(ram.plugin, false, "");
    await backend.zero(512, 0, false, true, false);
    expect(ram.calls.map((c) => [c.op, c.flags])).toEqual([["zero", 0], ["flush", 0]]);
  });

  test("emulated zero writes zeroes in pieces and flushes once for FUA", async () => {
    const ram = ramPlugin({ omit: ["zero"], size: 4 * MiB });
    ram.write(0, new Uint8Array(4 * MiB).fill(7));
    const backend = await Backend.open(ram.plugin, false, "");
    const count = 2.5 * MiB;
    await backend.zero(count, 512, true, true, false);
    const writes = ram.callsOf("writeAt");
    expect(writes.reduce((sum, c) => sum + (c.count ?? 0), 0)).toBe(count);
    expect(writes[0]).toMatchObject({ offset: 512, flags: 0 });
    for (let i = 1; i < writes.length; i++) {
      expect(writes[i].offset).toBe(Number(writes[i - 1].offset) + writes[i - 1].count!);
    }
    expect(ram.calls.map((c) => c.op).filter((op) => op === "flush")).toEqual(["flush"]);
    expect(ram.calls[ram.calls.length - 1].op).toBe("flush");
    expect(ram.read(512, count).every((b) => b === 0)).toBe(true);
    expect(ram.read(0, 512).every((b) => b === 7)).toBe(true);
    expect(ram.read(512 + count, 1)).toEqual(new Uint8Array([7]));
  });

  test("emulated zero stays exact for offsets crossing 2^53", async () => {
    const offsets: Offset[] = [];
    const backend = await Backend.open(
      pluginOf({
        getSize: () => 1n << 60n,
        readAt: () => {},
        writeAt: (_buf, offset) => void offsets.push(offset),
      }),
      false,
      "",
    );
    const start = 2 ** 53 - 512;
    await backend.zero(3 * MiB, start, false, false, false);
    expect(offsets.map((o) => BigInt(o))).toEqual([
      BigInt(start),
      BigInt(start) + BigInt(MiB),
      BigInt(start) + 2n * BigInt(MiB),
    ]);
    expect(typeof offsets[1]).toBe("bigint");
  });

  test("a fast zero without zero() fails with ENOTSUP and writes nothing", async () => {
    const ram = ramPlugin({ omit: ["zero"] });
    const backend = await Backend.open(ram.plugin, false, "");
    const error = await rejection(backend.zero(512, 0, true, false, true));
    expect(error.errno).toBe("ENOTSUP");
    expect(ram.calls).toEqual([]);
  });

  for (const errno of ["ENOTSUP", "EOPNOTSUPP"] as const) {
    test(`zero() failing with ${errno} falls back to writing zeroes`, async () => {
      const ram = ramPlugin({
        with: {
          zero: () => {
            throw new NbdError(errno);
          },
        },
      });
      ram.write(0, new Uint8Array(1024).fill(1));
      const backend = await Backend.open(ram.plugin, false, "");
      await backend.zero(1024, 0, true, false, false);
      expect(ram.read(0, 1024).every((b) => b === 0)).toBe(true);
    });

    test(`zero() failing with ${errno} on a fast zero is passed on`, async () => {
      const ram = ramPlugin({
        with: {
          zero: () => {
            throw new NbdError(errno);
          },
        },
      });
      const backend = await Backend.open(ram.plugin, false, "");
      expect((await rejection(backend.zero(1024, 0, true, false, true))).errno).toBe(errno);
      expect(ram.callsOf("writeAt")).toEqual([]);
    });
  }

  test("zero() failing with another errno is passed on", async () => {
    const ram = ramPlugin({
      with: {
        zero: () => {
          throw new NbdError("EIO");
        },
      },
    });
    const backend = await Backend.open(ram.plugin, false, "");
    expect((await rejection(backend.zero(1024, 0, true, false, false))).errno).toBe("EIO");
  });

  test(
    "emulated zero with FUA on a native-FUA plugin without flush() writes with FLAG.FUA",
    async () => {
      const ram = ramPlugin({ omit: ["zero", "flush"], with: { canFua: () => FUA_MODE.NATIVE } });
      const backend = await Backend.open(ram.plugin, false, "");
      await backend.zero(512, 0, true, true, false);
      // nbdkit's plugin_zero emulation passes FUA to each pwrite; here no call makes it durable.
      expect(ram.callsOf("writeAt").map((c) => c.flags)).toEqual([FLAG.FUA]);
    },
  );
});

describe("Backend cache, flush and extents", () => {
  test("native cache calls cache() with the range", async () => {
    const ram = ramPlugin();
    const backend = await Backend.open(ram.plugin, false, "");
    await backend.cache(4096, 512);
    expect(ram.calls).toEqual([{ op: "cache", offset: 512, count: 4096, flags: 0 }]);
  });

  test("native cache without cache() succeeds doing nothing", async () => {
    const ram = ramPlugin({ omit: ["cache"], with: { canCache: () => CACHE_MODE.NATIVE } });
    const backend = await Backend.open(ram.plugin, false, "");
    await backend.cache(4096, 512);
    expect(ram.calls).toEqual([]);
  });

  test("emulated cache reads the range in pieces and discards it", async () => {
    const ram = ramPlugin({ size: 4 * MiB, with: { canCache: () => CACHE_MODE.EMULATE } });
    const backend = await Backend.open(ram.plugin, false, "");
    await backend.cache(2 * MiB + 100, 10);
    const reads = ram.callsOf("readAt");
    expect(reads.map((c) => [c.offset, c.count])).toEqual([
      [10, MiB],
      [10 + MiB, MiB],
      [10 + 2 * MiB, 100],
    ]);
    expect(ram.callsOf("cache")).toEqual([]);
  });

  test("flush without flush() does nothing", async () => {
    const backend = await Backend.open(
      pluginOf({ getSize: () => 1, readAt: () => {} }),
      false,
      "",
    );
    expect(backend.flush()).toBeUndefined(); // answered at once: no promise to wait for
  });

  test("without extents() the whole range is reported as data", async () => {
    const backend = await Backend.open(ramPlugin({ omit: ["extents"] }).plugin, false, "");
    const list = new ExtentList(4096, MiB);
    await backend.extents(1000, 4096, false, list);
    expect([list.starts, list.ends, list.types]).toEqual([[4096n], [5096n], [EXTENT.DATA]]);
  });

  test("REQ_ONE reaches extents() as FLAG.REQ_ONE", async () => {
    const ram = ramPlugin();
    const backend = await Backend.open(ram.plugin, false, "");
    await backend.extents(100, 0, true, new ExtentList(0, MiB));
    await backend.extents(100, 0, false, new ExtentList(0, MiB));
    expect(ram.callsOf("extents").map((c) => c.flags)).toEqual([FLAG.REQ_ONE, 0]);
  });

  test("close() closes the handle", async () => {
    const ram = ramPlugin();
    const backend = await Backend.open(ram.plugin, false, "");
    await backend.close();
    expect(ram.closes).toBe(1);
  });
});
