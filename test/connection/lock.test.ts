import { describe, expect, test } from "vitest";
import { Lock } from "../../src/connection/lock.ts";
import { tick } from "../helpers/wire.ts";

describe("Lock", () => {
  test("tasks run one at a time in the order they were queued", async () => {
    const lock = new Lock();
    const log: string[] = [];
    const task = (name: string, turns: number) => async () => {
      log.push(`start ${name}`);
      for (let i = 0; i < turns; i++) await tick();
      log.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([
      lock.run(task("a", 3)),
      lock.run(task("b", 1)),
      lock.run(task("c", 0)),
    ]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  test("a failing task rejects its own result and does not stop the next", async () => {
    const lock = new Lock();
    const failed = lock.run(() => {
      throw new Error("boom");
    });
    const next = lock.run(() => 42);
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe(42);
  });
});
