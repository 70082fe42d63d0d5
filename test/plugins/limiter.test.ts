// The request limiter (src/plugins/lib/limiter.ts): never more than its slots at once, waiting
// tasks run in arrival order, and a failing task gives its slot back.

import { expect, test } from "vitest";
import { createLimiter } from "../../src/plugins/lib/limiter.ts";

test("at most N tasks run at once and all of them finish, in arrival order", async () => {
  const limiter = createLimiter(3);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const tasks = Array.from({ length: 10 }, (_, i) =>
    limiter.run(async () => {
      started.push(i);
      peak = Math.max(peak, ++running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      running--;
      return i;
    }));
  expect(await Promise.all(tasks)).toEqual([...Array(10).keys()]);
  expect(peak).toBe(3);
  expect(started).toEqual([...Array(10).keys()]);
});

test("a task that fails frees its slot for the next", async () => {
  const limiter = createLimiter(1);
  const failed = limiter.run(() => Promise.reject(new Error("boom")));
  const next = limiter.run(() => Promise.resolve("ran"));
  await expect(failed).rejects.toThrow("boom");
  expect(await next).toBe("ran");
});
