import { describe, expect, test } from "vitest";
import { createProtectFilter } from "../../src/filters/protect.ts";
import { failure, filtered } from "../helpers/filtered.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

describe("protect filter", () => {
  test("a zero or trim starting outside a protected range checks the bytes inside it", async () => {
    // nbdkit 1.32.5 crashes here: check_write steps its NULL buffer and then compares it.
    const ram = ramPlugin();
    ram.write(1500, Uint8Array.of(7));
    const { backend } = await filtered(createProtectFilter(), ["protect=1000-1999"], ram);
    expect(await failure(() => backend.zero(1000, 900, false, false, false))).toMatchObject({
      errno: "EPERM",
      message: "protect filter prevented write to protected range 1000-1999",
    });
    await backend.trim(600, 400, false); // 1000-1499 are zeroes: allowed
    expect(ram.callsOf("trim")).toHaveLength(1);
    expect([...ram.read(1500, 1)]).toEqual([7]);
  });

  test("a range given inside another leaves the outer one protected", async () => {
    // nbdkit 1.32.5 merges these into 0-20, letting byte 50 be written.
    const { backend, ram } = await filtered(createProtectFilter(), [
      "protect=0-100",
      "protect=10-20",
    ]);
    expect(await failure(() => backend.writeAt(Uint8Array.of(1), 50, false))).toMatchObject({
      errno: "EPERM",
      message: "protect filter prevented write to protected range 0-100",
    });
    expect(ram.callsOf("writeAt")).toEqual([]);
  });

  test("writes that touch no protected byte go down at once, without reading", async () => {
    const { backend, ram } = await filtered(createProtectFilter(), ["protect=0-511"]);
    expect(backend.writeAt(Uint8Array.of(1), 512, false)).toBeUndefined(); // no promise made
    expect(ram.calls.map((call) => call.op)).toEqual(["writeAt"]);
  });
});
