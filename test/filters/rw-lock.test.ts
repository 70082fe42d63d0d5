import { describe, expect, test } from "vitest";
import { RwLock } from "../../src/filters/rw-lock.ts";

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("RwLock", () => {
  test("readers share the lock, taken with no wait while it is free", async () => {
    const lock = new RwLock();
    expect(lock.tryRead()).toBe(true);
    expect(lock.tryRead()).toBe(true);
    let writing = false;
    void lock.write().then(() => (writing = true));
    await settle();
    expect(writing).toBe(false);
    lock.releaseRead();
    await settle();
    expect(writing).toBe(false);
    lock.releaseRead();
    await settle();
    expect(writing).toBe(true);
  });

  test("a waiting writer goes before readers that come after it", async () => {
    const lock = new RwLock();
    const order: string[] = [];
    await lock.read();
    void lock.write().then(() => order.push("writer"));
    expect(lock.tryRead()).toBe(false);
    void lock.read().then(() => order.push("reader"));
    lock.releaseRead();
    await settle();
    expect(order).toEqual(["writer"]);
    lock.releaseWrite();
    await settle();
    expect(order).toEqual(["writer", "reader"]);
  });

  test("a writer holds the lock alone; the readers behind it come in together", async () => {
    const lock = new RwLock();
    await lock.write();
    const order: string[] = [];
    void lock.read().then(() => order.push("reader 1"));
    void lock.read().then(() => order.push("reader 2"));
    void lock.write().then(() => order.push("writer 2"));
    await settle();
    expect(order).toEqual([]);
    lock.releaseWrite();
    await settle();
    expect(order).toEqual(["reader 1", "reader 2"]);
    lock.releaseRead();
    lock.releaseRead();
    await settle();
    expect(order).toEqual(["reader 1", "reader 2", "writer 2"]);
  });
});
