/** Each signal does to the program what it does to nbdkit 1.32.5, in each way of serving. */

import { describe, expect, test } from "vitest";
import type { ProcessSignal } from "../../src/io.ts";
import { type SignalMode, watchSignals } from "../../src/cli/signals.ts";

/** A runtime whose signals the test sends, recording what it is asked to die by. */
function fakeRuntime() {
  let handler: ((signal: ProcessSignal) => void) | undefined;
  const deaths: ProcessSignal[] = [];
  return {
    deaths,
    send: (signal: ProcessSignal) => handler!(signal),
    onSignal: (given: (signal: ProcessSignal) => void) => void (handler = given),
    dieBySignal: (signal: ProcessSignal) => {
      deaths.push(signal);
      return new Promise<never>(() => {});
    },
  };
}

/** Whether `promise` has settled once pending callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setTimeout(resolve, 0));
  return done;
}

describe.each(
  [
    ["serving", ["SIGINT", "SIGQUIT", "SIGTERM", "SIGHUP"], []],
    ["captive", ["SIGTERM", "SIGHUP"], ["SIGINT", "SIGQUIT"]],
  ] as const,
)("watchSignals while %s", (mode: SignalMode, stopping, ignored) => {
  test.each(stopping)("%s stops the server and kills nothing", async (signal) => {
    const runtime = fakeRuntime();
    const watch = watchSignals(runtime, mode);
    expect(await settled(watch.stopped)).toBe(false);
    runtime.send(signal);
    expect(await settled(watch.stopped)).toBe(true);
    expect(runtime.deaths).toEqual([]);
  });

  test.each(ignored)("%s changes nothing", async (signal) => {
    const runtime = fakeRuntime();
    const watch = watchSignals(runtime, mode);
    runtime.send(signal);
    expect(await settled(watch.stopped)).toBe(false);
    expect(runtime.deaths).toEqual([]);
  });

  test("SIGUSR1 kills only once the cleanup is done", async () => {
    const runtime = fakeRuntime();
    const watch = watchSignals(runtime, mode);
    let finish!: () => void;
    watch.cleanUpWith(() => new Promise<void>((resolve) => (finish = resolve)));
    runtime.send("SIGUSR1");
    await settled(Promise.resolve());
    expect(runtime.deaths).toEqual([]);
    finish();
    await settled(Promise.resolve());
    expect(runtime.deaths).toEqual(["SIGUSR1"]);
  });
});

describe("watchSignals and fatal signals", () => {
  test("SIGUSR1 before there is anything to clean up kills at once", () => {
    const runtime = fakeRuntime();
    watchSignals(runtime, "serving");
    runtime.send("SIGUSR1");
    expect(runtime.deaths).toEqual(["SIGUSR1"]);
  });

  test("a second SIGUSR1 while cleaning up kills at once", () => {
    const runtime = fakeRuntime();
    const watch = watchSignals(runtime, "serving");
    watch.cleanUpWith(() => new Promise<void>(() => {}));
    runtime.send("SIGUSR1");
    expect(runtime.deaths).toEqual([]);
    runtime.send("SIGUSR1");
    expect(runtime.deaths).toEqual(["SIGUSR1"]);
  });

  test("a cleanup that fails still ends in the signal", async () => {
    const runtime = fakeRuntime();
    const watch = watchSignals(runtime, "captive");
    watch.cleanUpWith(() => Promise.reject(new Error("unload failed")));
    runtime.send("SIGUSR1");
    await settled(Promise.resolve());
    expect(runtime.deaths).toEqual(["SIGUSR1"]);
  });
});
