import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { BUSY_POLL_DEFAULT_US, busyPoller, busyPollWindowUs } from "../../src/runtime/busy-poll.ts";

/** A defer that queues callbacks for the test to run by hand, one poll at a time. */
function manualDefer() {
  const queue: (() => void)[] = [];
  return { defer: (callback: () => void) => void queue.push(callback), queue };
}

/**
 * Lets `ms` milliseconds pass on the poller's clock (performance.now(), faked): on a busy machine
 * a real clock can jump past the window between two lines of a test.
 */
function pass(ms: number): void {
  vi.advanceTimersByTime(ms);
}

describe("busy polling after bytes arrive", () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ["performance"] }));
  afterEach(() => void vi.useRealTimers());

  test("keeps the loop polling until the window has passed since the last chunk, then stops", () => {
    const { defer, queue } = manualDefer();
    const received = busyPoller(defer, 2000); // 2 ms
    received();
    expect(queue).toHaveLength(1);
    queue.shift()!(); // within the window: polls again
    expect(queue).toHaveLength(1);
    pass(3);
    queue.shift()!(); // past it: stops
    expect(queue).toHaveLength(0);
  });

  test("one spinner however many chunks arrive, and each chunk extends the window", () => {
    const { defer, queue } = manualDefer();
    const received = busyPoller(defer, 2000);
    received();
    pass(1.5);
    received();
    received();
    expect(queue).toHaveLength(1);
    pass(1);
    queue.shift()!(); // 2.5 ms since the first chunk, 1 ms since the last: still polling
    expect(queue).toHaveLength(1);
  });

  test("a window of 0 never polls", () => {
    const { defer, queue } = manualDefer();
    busyPoller(defer, 0)();
    expect(queue).toHaveLength(0);
  });

  test("NBDTS_BUSY_POLL_US: microseconds from 0 to 10 ms; anything else is the default", () => {
    expect(busyPollWindowUs(undefined)).toBe(BUSY_POLL_DEFAULT_US);
    expect(busyPollWindowUs("0")).toBe(0);
    expect(busyPollWindowUs("200")).toBe(200);
    for (const bad of ["", "-1", "abc", "20000"]) {
      expect(busyPollWindowUs(bad)).toBe(BUSY_POLL_DEFAULT_US);
    }
  });
});
