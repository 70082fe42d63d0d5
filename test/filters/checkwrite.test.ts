import { describe, expect, test } from "vitest";
import { createCheckwriteFilter } from "../../src/filters/checkwrite.ts";
import { failure, filtered } from "../helpers/filtered.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

describe("checkwrite filter", () => {
  test("the plugin is opened read-only and never written", async () => {
    const ram = ramPlugin();
    ram.write(0, Uint8Array.of(1, 2));
    const { backend } = await filtered(createCheckwriteFilter(), [], ram);
    expect(backend.caps).toMatchObject({ writable: true, fastZero: true, multiConn: true });
    await backend.writeAt(Uint8Array.of(1, 2), 0, true);
    await backend.zero(4096, 8192, true, true, false);
    await backend.flush();
    expect(await failure(() => backend.writeAt(Uint8Array.of(1, 3), 0, false))).toMatchObject({
      errno: "EIO",
      message: "data written does not match expected",
    });
    expect(ram.calls.filter((call) => !["readAt", "extents"].includes(call.op))).toEqual([]);
  });

  test("with extents, zeroes need no read; data is read, and a fast zero over it is ENOTSUP", async () => {
    const ram = ramPlugin();
    ram.write(8192, Uint8Array.of(0)); // a block that is data, and reads as zeroes
    const { backend } = await filtered(createCheckwriteFilter(), [], ram);
    await backend.zero(16384, 0, false, false, false);
    expect(ram.callsOf("readAt").map((call) => [call.offset, call.count])).toEqual([
      [8192, 4096],
    ]);
    expect(await failure(() => backend.zero(16384, 0, false, false, true))).toMatchObject({
      errno: "ENOTSUP",
    });
    await backend.zero(4096, 0, false, false, true); // a hole: fast
  });

  test("without extents everything is read, and every fast zero is ENOTSUP", async () => {
    const ram = ramPlugin({ omit: ["extents"] });
    const { backend } = await filtered(createCheckwriteFilter(), [], ram);
    await backend.trim(100, 0, false);
    expect(ram.callsOf("readAt")).toHaveLength(1);
    expect(await failure(() => backend.zero(100, 0, false, false, true))).toMatchObject({
      errno: "ENOTSUP",
    });
  });
});
