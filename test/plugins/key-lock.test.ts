// One lock per key (src/plugins/lib/key-lock.ts): tasks on one key run one at a time in arrival
// order, tasks on other keys run beside them, and a failure does not stop the queue.

import { expect, test } from "vitest";
import { createKeyLock } from "../../src/plugins/lib/key-lock.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

test("tasks on one key never overlap and run in arrival order; other keys run beside", async () => {
  const locks = createKeyLock();
  const log: string[] = [];
  const task = (key: string, name: string) =>
    locks.run(key, async () => {
      log.push(`${name}+`);
      await tick();
      log.push(`${name}-`);
    });
  await Promise.all([task("a", "a1"), task("a", "a2"), task("b", "b1"), task("a", "a3")]);
  const a = log.filter((entry) => entry.startsWith("a"));
  expect(a).toEqual(["a1+", "a1-", "a2+", "a2-", "a3+", "a3-"]);
  expect(log.indexOf("b1+")).toBeLessThan(log.indexOf("a1-"));
});

test("a failing task rejects its own caller and the next task still runs", async () => {
  const locks = createKeyLock();
  const failed = locks.run("k", () => Promise.reject(new Error("boom")));
  const next = locks.run("k", () => Promise.resolve(2));
  await expect(failed).rejects.toThrow("boom");
  expect(await next).toBe(2);
});
