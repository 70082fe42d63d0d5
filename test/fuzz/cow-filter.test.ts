/**
 * Properties of the cow filter against a plain model (filter-model.ts): random reads, writes,
 * trims, cache requests, block status and flushes across its 4 KiB blocks, on a disk whose end
 * is not a whole block, read back exactly as the model says, while the plugin below is only
 * ever read and keeps every byte it had. cow-on-read and cow-on-cache are drawn too. The plugin
 * answers at once, or later (a timer per read), so that requests go on in the filter's async
 * paths; writes sent together must land whatever order their block fills finish in.
 *
 * Seeds and runs (see harness.ts to scale with FUZZ_RUNS or replay with FUZZ_SEED/FUZZ_PATH):
 *   requests in turn, the plugin answering at once    seed 0xc0f10001  numRuns 200
 *   requests in turn, the plugin answering later      seed 0xc0f10002  numRuns 40
 *   writes and reads sent together                    seed 0xc0f10003  numRuns 80
 */

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createCowFilter } from "../../src/filters/cow/cow.ts";
import type { Ram } from "../helpers/ram-plugin.ts";
import {
  concurrentArb,
  type FilterOp,
  opArb,
  openSession,
  play,
  startingBytes,
} from "./filter-model.ts";
import { runs, TIMEOUT } from "./harness.ts";

const BLOCK = 4096;
const SIZE = 12 * BLOCK + 1000;
const KINDS = ["read", "write", "trim", "cache", "extents", "flush"] as const;

interface Options {
  onRead: boolean;
  onCache: boolean;
}

const optionsArb: fc.Arbitrary<Options> = fc.record({
  onRead: fc.boolean(),
  onCache: fc.boolean(),
});

/** The plugin was never asked to change, and holds what it held. */
function untouched(ram: Ram): void {
  expect(ram.calls.filter((call) => ["writeAt", "trim", "zero", "flush"].includes(call.op)))
    .toEqual([]);
  const then = startingBytes(SIZE);
  expect(ram.read(0, SIZE).every((byte, i) => byte === then[i])).toBe(true);
}

async function run(
  later: boolean,
  options: Options,
  ops: readonly FilterOp[],
  together: readonly FilterOp[][] = [],
) {
  const params = {
    "cow-block-size": "4k",
    "cow-on-read": String(options.onRead),
    "cow-on-cache": String(options.onCache),
  };
  const session = await openSession(createCowFilter(), params, SIZE, later);
  await play(session, ops, together, true);
  untouched(session.ram);
}

describe("cow filter against a model", () => {
  test("requests in turn, the plugin answering at once", async () => {
    await fc.assert(
      fc.asyncProperty(
        optionsArb,
        fc.array(opArb(SIZE, BLOCK, 3 * BLOCK, KINDS), { maxLength: 30 }),
        (options, ops) => run(false, options, ops),
      ),
      runs(0xc0f10001, 200),
    );
  }, TIMEOUT);

  test("requests in turn, the plugin answering later", async () => {
    await fc.assert(
      fc.asyncProperty(
        optionsArb,
        fc.array(opArb(SIZE, BLOCK, 3 * BLOCK, KINDS), { maxLength: 15 }),
        (options, ops) => run(true, options, ops),
      ),
      runs(0xc0f10002, 40),
    );
  }, TIMEOUT);

  test("writes and reads sent together land as the model says", async () => {
    await fc.assert(
      fc.asyncProperty(
        optionsArb,
        fc.array(opArb(SIZE, BLOCK, 3 * BLOCK, ["write", "trim"]), { maxLength: 4 }),
        fc.array(concurrentArb(SIZE, BLOCK, BLOCK + 100), { minLength: 1, maxLength: 3 }),
        (options, before, together) => run(true, options, before, together),
      ),
      runs(0xc0f10003, 80),
    );
  }, TIMEOUT);
});
