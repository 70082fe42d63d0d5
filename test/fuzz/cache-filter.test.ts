/**
 * Properties of the cache filter against a plain model (filter-model.ts): random reads,
 * writes, zeroes, trims, cache requests, block status and flushes across its 4 KiB blocks, in
 * each mode (writeback, writethrough, unsafe), with and without cache-on-read, and under
 * cache-max-size=1M on a 1.25 MiB disk, so that blocks are reclaimed (dirty ones written back
 * first). Every read gives what the model says (a trim may leave old bytes or zeroes), block
 * status never calls known data zero nor anything that reads as data, and after a flush the
 * plugin below holds every byte the model knows (except with cache=unsafe, which ignores
 * flushes). The plugin answers at once or later; writes sent together must all land.
 *
 * Seeds and runs (see harness.ts to scale with FUZZ_RUNS or replay with FUZZ_SEED/FUZZ_PATH):
 *   requests in turn, the plugin answering at once    seed 0xcac40001  numRuns 150
 *   requests in turn, the plugin answering later      seed 0xcac40002  numRuns 30
 *   writes and reads sent together                    seed 0xcac40003  numRuns 60
 */

import fc from "fast-check";
import { describe, test } from "vitest";
import { createCacheFilter } from "../../src/filters/cache/cache.ts";
import { concurrentArb, type FilterOp, opArb, openSession, play } from "./filter-model.ts";
import { runs, TIMEOUT } from "./harness.ts";

const BLOCK = 4096;
const SIZE = 1280 * 1024 + 1000;
const MOST = 256 * 1024;
const KINDS = ["read", "write", "zero", "trim", "cache", "extents", "flush"] as const;

interface Options {
  mode: "writeback" | "writethrough" | "unsafe";
  onRead: boolean;
  limited: boolean;
}

const optionsArb: fc.Arbitrary<Options> = fc.record({
  mode: fc.constantFrom("writeback", "writethrough", "unsafe"),
  onRead: fc.boolean(),
  limited: fc.boolean(),
});

async function run(
  later: boolean,
  options: Options,
  ops: readonly FilterOp[],
  together: readonly FilterOp[][] = [],
) {
  const params: Record<string, string> = {
    "cache": options.mode,
    "cache-min-block-size": "4k",
    "cache-on-read": String(options.onRead),
  };
  if (options.limited) params["cache-max-size"] = "1M";
  const session = await openSession(createCacheFilter(), params, SIZE, later);
  const { backend, ram, model } = session;
  /** After a flush, the plugin holds every byte the model knows (unless flushes are ignored). */
  const flushedBelow = () => {
    if (options.mode !== "unsafe") model.check(ram.read(0, SIZE), 0, "the plugin after a flush");
  };
  await play(session, ops, together, false, flushedBelow);
  await backend.flush();
  flushedBelow();
}

describe("cache filter against a model", () => {
  test("requests in turn, the plugin answering at once", async () => {
    await fc.assert(
      fc.asyncProperty(
        optionsArb,
        fc.array(opArb(SIZE, BLOCK, MOST, KINDS), { maxLength: 30 }),
        (options, ops) => run(false, options, ops),
      ),
      runs(0xcac40001, 150),
    );
  }, TIMEOUT);

  test("requests in turn, the plugin answering later", async () => {
    await fc.assert(
      fc.asyncProperty(
        optionsArb,
        fc.array(opArb(SIZE, BLOCK, MOST, KINDS), { maxLength: 15 }),
        (options, ops) => run(true, options, ops),
      ),
      runs(0xcac40002, 30),
    );
  }, TIMEOUT);

  test("writes and reads sent together land as the model says", async () => {
    await fc.assert(
      fc.asyncProperty(
        optionsArb,
        fc.array(opArb(SIZE, BLOCK, MOST, ["write", "read"]), { maxLength: 6 }),
        fc.array(concurrentArb(SIZE, BLOCK, BLOCK + 100), { minLength: 1, maxLength: 3 }),
        (options, before, together) => run(true, options, before, together),
      ),
      runs(0xcac40003, 60),
    );
  }, TIMEOUT);
});
