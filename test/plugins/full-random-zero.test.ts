// The full, random and zero plugins as their manuals describe them: parameters, errors,
// capabilities and thread models, called directly through the plugin API.

import { describe, expect, test } from "vitest";
import { ConfigError, NbdError } from "../../src/api/errors.ts";
import { createFullPlugin } from "../../src/plugins/full.ts";
import { createRandomPlugin } from "../../src/plugins/random.ts";
import { createZeroPlugin } from "../../src/plugins/zero.ts";
import {
  CACHE_MODE,
  EXTENT,
  type Handle,
  type Plugin,
  THREAD_MODEL,
} from "../../src/api/plugin.ts";
import { randomPluginByte } from "./random-reference.ts";

async function configured(plugin: Plugin, params: Record<string, string>): Promise<Plugin> {
  await plugin.load?.();
  for (const [key, value] of Object.entries(params)) await plugin.config?.(key, value);
  await plugin.configComplete?.();
  await plugin.getReady?.();
  return plugin;
}

/** The errno a call fails with, or "ok". */
async function outcome(action: () => unknown): Promise<string> {
  try {
    await action();
    return "ok";
  } catch (error) {
    return error instanceof NbdError ? error.errno : String(error);
  }
}

describe("full plugin", () => {
  test("needs a size, given as size= or alone", async () => {
    const plugin = createFullPlugin();
    expect(plugin.magicConfigKey).toBe("size");
    await expect(configured(createFullPlugin(), {})).rejects.toThrow(
      new ConfigError("size parameter is required"),
    );
    await expect(configured(createFullPlugin(), { colour: "blue" })).rejects.toThrow(
      /unknown parameter 'colour'/,
    );
    expect(await plugin.threadModel?.()).toBe(THREAD_MODEL.PARALLEL);
  });

  test("reads zeroes and fails writes and trims with ENOSPC, offering no zero or flush", async () => {
    const handle = await (await configured(createFullPlugin(), { size: "1M" })).open(false, "");
    const buf = new Uint8Array(100).fill(7);
    await handle.readAt(buf, 500);
    expect(buf.every((b) => b === 0)).toBe(true);
    expect(await outcome(() => handle.writeAt?.(buf, 0, 0))).toBe("ENOSPC");
    expect(await outcome(() => handle.trim?.(512, 0, 0))).toBe("ENOSPC");
    expect(handle.zero).toBeUndefined();
    expect(handle.flush).toBeUndefined();
    expect(await handle.canMultiConn?.()).toBe(true);
    expect(await handle.canCache?.()).toBe(CACHE_MODE.NATIVE);
    const extents: unknown[] = [];
    await handle.extents?.(4096, 8192, 0, { add: (...extent) => extents.push(extent) });
    expect(extents).toEqual([[0, 1048576, EXTENT.HOLE | EXTENT.ZERO]]);
  });
});

describe("random plugin", () => {
  async function randomDisk(params: Record<string, string>): Promise<Handle> {
    return (await configured(createRandomPlugin(), params)).open(false, "");
  }

  test("serves the random plugin's bytes for its seed", async () => {
    const handle = await randomDisk({ size: "1M", seed: "0x20" });
    const buf = new Uint8Array(64);
    await handle.readAt(buf, 1000);
    expect([...buf]).toEqual(
      Array.from({ length: 64 }, (_, i) => randomPluginByte(32n, BigInt(1000 + i))),
    );
  });

  test("without seed= the seed is the time in seconds, as nbdkit's", async () => {
    const before = Math.floor(Date.now() / 1000);
    const handle = await randomDisk({ size: "1M" });
    const after = Math.floor(Date.now() / 1000);
    const buf = new Uint8Array(16);
    await handle.readAt(buf, 0);
    const candidates = [];
    for (let seed = before; seed <= after; seed++) {
      candidates.push(
        Array.from({ length: 16 }, (_, i) => randomPluginByte(BigInt(seed), BigInt(i))),
      );
    }
    expect(candidates).toContainEqual([...buf]);
  });

  test("accepts a write of the same bytes; anything else, trim and zero fail with EIO", async () => {
    const handle = await randomDisk({ size: "1M", seed: "1" });
    const data = new Uint8Array(5000);
    await handle.readAt(data, 777);
    expect(await outcome(() => handle.writeAt?.(data, 777, 0))).toBe("ok");
    data[4999] ^= 1;
    expect(await outcome(() => handle.writeAt?.(data, 777, 0))).toBe("EIO");
    expect(await outcome(() => handle.trim?.(1, 0, 0))).toBe("EIO");
    expect(await outcome(() => handle.zero?.(1, 0, 0))).toBe("EIO");
    expect(handle.flush).toBeUndefined();
    expect(handle.extents).toBeUndefined();
  });

  test("refuses bad seeds and unknown parameters with nbdkit's messages", async () => {
    await expect(randomDisk({ seed: "-1" })).rejects.toThrow(
      new ConfigError("seed: negative numbers are not allowed"),
    );
    await expect(randomDisk({ seed: "4294967296" })).rejects.toThrow(
      /Numerical result out of range/,
    );
    await expect(randomDisk({ colour: "blue" })).rejects.toThrow(/unknown parameter 'colour'/);
  });
});

describe("zero plugin", () => {
  test("is an empty read-only disk with no parameters", async () => {
    const plugin = createZeroPlugin();
    expect(plugin.config).toBeUndefined();
    const handle = await plugin.open(false, "");
    expect(await handle.getSize()).toBe(0);
    expect(handle.writeAt).toBeUndefined();
    expect(await handle.canMultiConn?.()).toBe(true);
    expect(await handle.canCache?.()).toBe(CACHE_MODE.NATIVE);
    expect(await outcome(() => handle.readAt(new Uint8Array(1), 0))).toBe("EIO");
  });
});
