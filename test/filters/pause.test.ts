/**
 * The pause filter's gate (src/filters/pause.ts), through a stand-in control socket: `p` is
 * answered only once the requests already running have finished, requests sent while paused
 * start only after `r`, and each byte gets its answer in order.
 */

import { expect, test } from "vitest";
import type { NextContext, NextHandle } from "../../src/api/filter.ts";
import { createPauseFilter } from "../../src/filters/pause.ts";
import type { Accept, Channel, PluginHost } from "../../src/io.ts";

test("a pause waits for running requests; paused requests start after the resume", async () => {
  let accept: Accept | undefined;
  const host = {
    listenUnix: (_path: string, given: Accept) => {
      accept = given;
      return Promise.resolve({ close: () => Promise.resolve() });
    },
  } as unknown as PluginHost;
  const filter = createPauseFilter(host);
  await filter.config!(() => Promise.resolve(), "pause-control", "/tmp/control");
  await filter.configComplete!(() => Promise.resolve());
  await filter.afterFork!(false);

  const events: string[] = [];
  let finishFirst: (() => void) | undefined;
  const below = {
    readAt: (buf: Uint8Array) => {
      events.push(`read ${buf.length} starts`);
      if (buf.length === 1) return new Promise<void>((resolve) => (finishFirst = resolve));
    },
  } as unknown as NextHandle;
  const handle = await filter.open!(
    () => Promise.resolve(below),
    false,
    "",
    false,
    {} as NextContext,
  );

  const channel = {
    write: (parts: Uint8Array[]) =>
      void events.push(`answer ${new TextDecoder().decode(parts[0])}`),
    close: () => {},
  } as unknown as Channel;
  const control = accept!(channel);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

  const first = handle.readAt!(new Uint8Array(1), 0); // still running when the pause comes
  control.data(new TextEncoder().encode("p"));
  await settle();
  const second = handle.readAt!(new Uint8Array(2), 0); // sent while paused
  await settle();
  events.push("first read finishes");
  finishFirst!();
  await first;
  await settle();
  control.data(new TextEncoder().encode("\nrz"));
  await second;
  await settle();
  expect(events).toEqual([
    "read 1 starts",
    "first read finishes",
    "answer P",
    "answer R",
    "read 2 starts",
    "answer X",
  ]);
});
