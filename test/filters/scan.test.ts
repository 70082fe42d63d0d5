import { describe, expect, test } from "vitest";
import { createScanFilter } from "../../src/filters/scan.ts";
import { filtered } from "../helpers/filtered.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("scan filter: the background loop", () => {
  test("reads are served while a cache call is running, and closing waits for it, then stops", async () => {
    const ram = ramPlugin({ size: 64 * 1024, delay: (op) => op === "cache" ? 20 : 0 });
    const { backend } = await filtered(
      createScanFilter(),
      ["scan-size=4k", "scan-forever=true"],
      ram,
    );
    while (ram.callsOf("cache").length === 0) await pause(1);
    expect(ram.active).toBe(1); // the first cache call is running
    const buf = new Uint8Array(512);
    expect(backend.readAt(buf, 8192)).toBeUndefined(); // answered at once, beside it
    await backend.close();
    expect(ram.active).toBe(0);
    await pause(50);
    // Asked to stop while the first piece ran: no other piece was asked for, then or later.
    expect(ram.callsOf("cache").map(({ offset }) => offset)).toEqual([0]);
  });
});
