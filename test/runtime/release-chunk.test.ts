// releaseChunk (the Bun adapter frees each large received chunk once decoded): a large chunk that
// is the whole of its buffer is detached, so its memory goes back at once; a small chunk, or a
// view into a larger buffer, is left alone. Checked on the runtimes that have
// ArrayBuffer.prototype.transfer (Bun, Deno) by running the module there, and on Node 20, which
// lacks it and so never detaches.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, test } from "vitest";
import { RELEASE_MIN, releaseChunk } from "../../src/runtime/release-chunk.ts";
import { findProgram, REPO_ROOT } from "../helpers/servers.ts";

const MODULE = pathToFileURL(join(REPO_ROOT, "src/runtime/release-chunk.ts")).href;

/** Calls releaseChunk on each kind of chunk; prints what it returned and the lengths after. */
const PROBE = `
const { RELEASE_MIN, releaseChunk } = await import(${JSON.stringify(MODULE)});
const outcome = (chunk) => ({ released: releaseChunk(chunk), lengthAfter: chunk.length });
const shared = new Uint8Array(2 * RELEASE_MIN);
console.log(JSON.stringify({
  whole: outcome(new Uint8Array(RELEASE_MIN)),
  small: outcome(new Uint8Array(RELEASE_MIN - 1)),
  view: outcome(shared.subarray(0, RELEASE_MIN)),
  viewer: shared.length,
}));
`;

const RUNTIMES = [
  { name: "bun", argv: [join(REPO_ROOT, "node_modules/.bin/bun"), "-e", PROBE] },
  { name: "deno", argv: [join(REPO_ROOT, "node_modules/.bin/deno"), "eval", PROBE] },
].filter((runtime) => findProgram(runtime.argv[0]) !== undefined);

describe.each(RUNTIMES)("releaseChunk on $name", ({ argv }) => {
  test("detaches a large whole chunk, leaves small chunks and views of a shared buffer", () => {
    const run = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", timeout: 30_000 });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({
      whole: { released: true, lengthAfter: 0 },
      small: { released: false, lengthAfter: RELEASE_MIN - 1 },
      view: { released: false, lengthAfter: RELEASE_MIN },
      viewer: 2 * RELEASE_MIN,
    });
  });
});

describe("releaseChunk without ArrayBuffer.prototype.transfer (Node 20)", () => {
  test.runIf(!("transfer" in ArrayBuffer.prototype))("leaves every chunk as it is", () => {
    const chunk = new Uint8Array(RELEASE_MIN).fill(7);
    expect(releaseChunk(chunk)).toBe(false);
    expect(chunk.length).toBe(RELEASE_MIN);
    expect(chunk[RELEASE_MIN - 1]).toBe(7);
  });
});
