import { afterEach, describe, expect, test } from "vitest";
import { routeShutdown, shutdown } from "../../src/api/shutdown.ts";

describe("shutdown", () => {
  afterEach(() => routeShutdown(undefined));

  test("calls the route the server set, once per call; without one it does nothing", () => {
    shutdown();
    const calls: string[] = [];
    routeShutdown(() => calls.push("stop"));
    shutdown();
    shutdown();
    expect(calls).toEqual(["stop", "stop"]);
  });
});
