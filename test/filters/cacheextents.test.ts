import { describe, expect, test } from "vitest";
import { Extents } from "../../src/api/extents.ts";
import type { Backend } from "../../src/backend/backend.ts";
import { createCacheextentsFilter } from "../../src/filters/cacheextents.ts";
import { filtered } from "../helpers/filtered.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

async function extentsOf(backend: Backend, count: number, offset: number, reqOne = false) {
  const list = new Extents(offset, backend.caps.size);
  await backend.extents(count, offset, reqOne, list);
  return list.types.map((type, i) => [Number(list.starts[i]), Number(list.ends[i]), type]);
}

describe("cacheextents filter", () => {
  test("a request inside the last answer is answered from it; REQ_ONE is not passed on", async () => {
    const ram = ramPlugin();
    ram.write(8192, Uint8Array.of(1));
    const { backend } = await filtered(createCacheextentsFilter(), [], ram);
    const first = await extentsOf(backend, 16384, 0, true);
    expect(first).toEqual([[0, 8192, 3], [8192, 12288, 0], [12288, 16384, 3]]);
    expect(await extentsOf(backend, 100, 9000)).toEqual([[9000, 12288, 0], [12288, 16384, 3]]);
    expect(ram.callsOf("extents")).toEqual([{ op: "extents", offset: 0, count: 16384, flags: 0 }]);
    await extentsOf(backend, 100, 16384); // past the answer: asked
    expect(ram.callsOf("extents")).toHaveLength(2);
  });

  test("a write, trim or zero forgets the answer", async () => {
    const ram = ramPlugin();
    const { backend } = await filtered(createCacheextentsFilter(), [], ram);
    await extentsOf(backend, 4096, 0);
    await backend.writeAt(Uint8Array.of(1), 100, false);
    expect(await extentsOf(backend, 4096, 0)).toEqual([[0, 4096, 0]]);
    await backend.trim(4096, 0, false);
    expect(await extentsOf(backend, 4096, 0)).toEqual([[0, 4096, 3]]);
    await backend.zero(1, 0, false, false, false);
    await extentsOf(backend, 4096, 0);
    expect(ram.callsOf("extents")).toHaveLength(4);
  });

  test("an answer that a write overtook is not kept", async () => {
    // The plugin's answer is made when asked and comes back later; the write comes in between.
    let written = false;
    const ram = ramPlugin({
      with: {
        extents(count, offset, _flags, sink) {
          sink.add(offset, count, written ? 0 : 3);
          return new Promise((resolve) => setTimeout(resolve, 20));
        },
        writeAt() {
          written = true;
        },
      },
    });
    const { backend } = await filtered(createCacheextentsFilter(), [], ram);
    const asking = extentsOf(backend, 4096, 0);
    await new Promise((resolve) => setTimeout(resolve, 5)); // the plugin has answered, not yet returned
    await backend.writeAt(Uint8Array.of(1), 100, false);
    expect(await asking).toEqual([[0, 4096, 3]]);
    expect(await extentsOf(backend, 4096, 0)).toEqual([[0, 4096, 0]]);
  });
});
