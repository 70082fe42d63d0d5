import { describe, expect, test } from "vitest";
import { Extents } from "../../src/api/extents.ts";
import { EXTENT, type ExtentSink, type Offset } from "../../src/api/plugin.ts";
import { createSwabFilter, swapWords } from "../../src/filters/swab.ts";
import { failure, filtered } from "../helpers/filtered.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

const BYTES = Uint8Array.from({ length: 16 }, (_, i) => i);

describe("swab filter: swapWords", () => {
  test("reverses each word, into another buffer or in place", () => {
    const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16)).join("");
    const out = new Uint8Array(16);
    swapWords(out, BYTES, 2);
    expect(hex(out)).toBe("1032547698badcfe");
    swapWords(out, BYTES, 4);
    expect(hex(out)).toBe("32107654ba98fedc");
    const inPlace = BYTES.slice();
    swapWords(inPlace, inPlace, 8);
    expect(hex(inPlace)).toBe("76543210fedcba98");
    swapWords(out, BYTES, 1);
    expect(out).toEqual(BYTES);
  });
});

describe("swab filter: requests", () => {
  test("a write is swapped into a copy: the caller's buffer is left as it was", async () => {
    const { backend, ram } = await filtered(createSwabFilter(), ["swab-bits=32"]);
    const data = BYTES.slice();
    await backend.writeAt(data, 8, false);
    expect(data).toEqual(BYTES);
    expect([...ram.read(8, 4)]).toEqual([3, 2, 1, 0]);
  });

  test("size rounds down to whole words; unaligned requests are EINVAL", async () => {
    const { backend } = await filtered(
      createSwabFilter(),
      ["swab-bits=64"],
      ramPlugin({ size: 1001 }),
    );
    expect(backend.caps.size).toBe(1000);
    expect(backend.caps.blockSize).toEqual({ minimum: 8, preferred: 512, maximum: 0xffffffff });
    expect(await failure(() => backend.readAt(new Uint8Array(8), 4))).toMatchObject({
      errno: "EINVAL",
      message: "swab: requests to this filter must be aligned",
    });
  });

  test("extents that change within the first word merge into one word of the bits they share", async () => {
    const ram = ramPlugin({
      with: {
        extents(_count: number, _offset: Offset, _flags: number, sink: ExtentSink) {
          sink.add(0, 3, EXTENT.HOLE | EXTENT.ZERO);
          sink.add(3, 5, EXTENT.ZERO);
          sink.add(8, 1000, EXTENT.DATA);
        },
      },
    });
    const { backend } = await filtered(createSwabFilter(), ["swab-bits=32"], ram);
    const list = new Extents(0, backend.caps.size);
    await backend.extents(16, 0, false, list);
    expect([list.count, list.get(0)]).toEqual([1, { offset: 0, length: 4, type: EXTENT.ZERO }]);
  });
});
