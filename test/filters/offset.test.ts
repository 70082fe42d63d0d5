import { describe, expect, test } from "vitest";
import { NbdError } from "../../src/api/errors.ts";
import { createOffsetFilter, servedSize } from "../../src/filters/offset.ts";
import { failure, filtered } from "../helpers/filtered.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

const MAX = 2n ** 63n - 1n;

describe("offset filter: the window it serves", () => {
  test("from offset= to the end, or range= bytes, exactly up to 2^63-1", () => {
    expect(servedSize(4096n, undefined, 1n << 20n)).toBe((1n << 20n) - 4096n);
    expect(servedSize(4096n, 8192n, 1n << 20n)).toBe(8192n);
    expect(servedSize(1n << 20n, 0n, 1n << 20n)).toBe(0n);
    expect(servedSize(2n ** 62n, 2n ** 62n - 1n, MAX)).toBe(2n ** 62n - 1n);
    expect(servedSize(MAX, undefined, MAX)).toBe(0n);
  });

  test("a window past the end of the disk is refused with nbdkit's messages", () => {
    expect(() => servedSize(MAX, 1n, MAX)).toThrow(
      `offset+range (${MAX}+1) is larger than the real size (${MAX}) of the underlying file or device`,
    );
    expect(() => servedSize(1025n, undefined, 1024n)).toThrow(
      "offset (1025) is larger than the real size (1024) of the underlying file or device",
    );
  });
});

describe("offset filter: requests", () => {
  test("every request goes down moved, the buffer itself passed on", async () => {
    const { backend, ram } = await filtered(createOffsetFilter(), ["offset=4096", "range=8192"]);
    expect(backend.caps.size).toBe(8192);
    const data = Uint8Array.of(1, 2, 3);
    await backend.writeAt(data, 10, false);
    expect([...ram.read(4106, 3)]).toEqual([1, 2, 3]);
    await backend.zero(2, 10, false, false, false);
    await backend.trim(1, 12, false);
    await backend.cache(3, 10);
    expect(ram.calls.map((call) => [call.op, call.offset])).toEqual([
      ["writeAt", 4106],
      ["zero", 4106],
      ["trim", 4108],
      ["cache", 4106],
    ]);
  });

  test("a read failing at a named byte names it in the client's offsets", async () => {
    const ram = ramPlugin({
      with: {
        readAt: () => {
          throw new NbdError("EIO", "bad sector", 5000);
        },
      },
    });
    const { backend } = await filtered(createOffsetFilter(), ["offset=4096"], ram);
    const error = await failure(() => backend.readAt(new Uint8Array(512), 800));
    expect(error).toMatchObject({ errno: "EIO", offset: 904 });
  });
});
