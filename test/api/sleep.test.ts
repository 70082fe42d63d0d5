import { describe, expect, test } from "vitest";
import { endSleeps, sleep } from "../../src/api/sleep.ts";

describe("sleep", () => {
  test("resolves after its time, not before", async () => {
    const start = performance.now();
    await sleep(30);
    expect(performance.now() - start).toBeGreaterThanOrEqual(29);
  });

  test("a server stopping fails pending sleeps with ESHUTDOWN; later sleeps still wait", async () => {
    const pending = sleep(60_000);
    endSleeps();
    await expect(pending).rejects.toMatchObject({ errno: "ESHUTDOWN" });
    await expect(sleep(1)).resolves.toBeUndefined();
  });
});
