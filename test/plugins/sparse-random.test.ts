// The sparse-random plugin through the plugin API: data blocks as nbdkit fills them (one byte
// repeated, or a random sequence), holes, extents, and the checks on writes, zeroes and trims.

import { describe, expect, test } from "vitest";
import { ConfigError, NbdError } from "../../src/api/errors.ts";
import { createSparseRandomPlugin } from "../../src/plugins/sparse-random.ts";
import { CACHE_MODE, EXTENT, FLAG, type Handle, type Offset } from "../../src/api/plugin.ts";
import { xrandom, xsrandom } from "./random-reference.ts";

async function sparseDisk(params: Record<string, string>): Promise<Handle> {
  const plugin = createSparseRandomPlugin();
  await plugin.load?.();
  for (const [key, value] of Object.entries(params)) await plugin.config?.(key, value);
  await plugin.configComplete?.();
  await plugin.getReady?.();
  return plugin.open(false, "");
}

async function extentsOf(handle: Handle, count: number, offset: number, flags = 0) {
  const list: [Offset, Offset, number][] = [];
  await handle.extents?.(count, offset, flags, { add: (o, l, t) => list.push([o, l, t]) });
  return list;
}

async function outcome(action: () => unknown): Promise<string> {
  try {
    await action();
    return "ok";
  } catch (error) {
    return error instanceof NbdError ? error.errno : String(error);
  }
}

/** The offset of the first data block, from the plugin's own extents. */
async function firstData(handle: Handle, size: number): Promise<number> {
  const data = (await extentsOf(handle, size, 0)).find(([, , type]) => type === EXTENT.DATA);
  return data![0] as number;
}

const SHAPE = { size: "4M", seed: "17", percent: "50", runlength: "16384" };

describe("sparse-random plugin", () => {
  test("a data block repeats the low byte of the first output seeded at its offset", async () => {
    const handle = await sparseDisk(SHAPE);
    const at = await firstData(handle, 4 << 20);
    const block = new Uint8Array(4096);
    await handle.readAt(block, at);
    const first = Number(xrandom(xsrandom(17n + BigInt(at))) & 255n) || 1;
    expect(block.every((b) => b === first)).toBe(true);
  });

  test("with random-content=true a data block is the generator's sequence of low bytes", async () => {
    const handle = await sparseDisk({ ...SHAPE, "random-content": "yes" });
    const at = await firstData(handle, 4 << 20);
    const block = new Uint8Array(4096);
    await handle.readAt(block, at);
    const state = xsrandom(17n + BigInt(at));
    expect(block).toEqual(Uint8Array.from({ length: 4096 }, () => Number(xrandom(state) & 255n)));
  });

  test("extents are merged runs inside the request; REQ_ONE stops after the first", async () => {
    const handle = await sparseDisk(SHAPE);
    const at = await firstData(handle, 4 << 20);
    const within = await extentsOf(handle, 100, at - 50);
    expect(within).toEqual([[at - 50, 50, EXTENT.HOLE | EXTENT.ZERO], [at, 50, EXTENT.DATA]]);
    const all = await extentsOf(handle, 4 << 20, 0);
    for (let i = 1; i < all.length; i++) {
      expect(all[i][2]).not.toBe(all[i - 1][2]);
      expect(all[i][0]).toBe((all[i - 1][0] as number) + (all[i - 1][1] as number));
    }
    expect(await extentsOf(handle, 4 << 20, 0, FLAG.REQ_ONE)).toEqual([all[0]]);
  });

  test("writes must match, zero and trim must touch only holes", async () => {
    const handle = await sparseDisk(SHAPE);
    const at = await firstData(handle, 4 << 20);
    const span = new Uint8Array(10000);
    await handle.readAt(span, at - 3000);
    expect(await outcome(() => handle.writeAt?.(span, at - 3000, 0))).toBe("ok");
    span[2999] = 1; // the last byte of the hole before the data
    expect(await outcome(() => handle.writeAt?.(span, at - 3000, 0))).toBe("EIO");
    expect(await outcome(() => handle.zero?.(4096, at - 4096, 0))).toBe("ok");
    expect(await outcome(() => handle.zero?.(4097, at - 4096, 0))).toBe("EIO");
    expect(await outcome(() => handle.trim?.(1, at + 4095, 0))).toBe("EIO");
    expect(await outcome(() => handle.flush?.(0))).toBe("ok");
    expect(await handle.canMultiConn?.()).toBe(true);
    expect(await handle.canCache?.()).toBe(CACHE_MODE.NATIVE);
  });

  test("parameters are refused with nbdkit's messages", async () => {
    await expect(sparseDisk({ size: "1M", percent: "-1" })).rejects.toThrow(
      new ConfigError("cannot parse percent parameter: -1"),
    );
    await expect(sparseDisk({ size: "1M", runlength: "0" })).rejects.toThrow(
      new ConfigError("runlength parameter must be > 0"),
    );
    await expect(sparseDisk({ size: "1M", "random-content": "maybe" })).rejects.toThrow(
      /could not decipher boolean/,
    );
  });

  test("a disk whose map cannot be held is refused before serving", async () => {
    await expect(sparseDisk({ size: "1E" })).rejects.toThrow(
      /cannot allocate the map of data blocks/,
    );
  });
});
