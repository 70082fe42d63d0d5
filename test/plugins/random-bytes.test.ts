// nbdkit's random bytes from WebAssembly (src/plugins/lib/random-bytes.ts): the embedded module
// is the .wat beside it, and both functions give what the BigInt transcription of random.h
// gives, across 64 KiB chunks, carries between halves, and offsets past 2^53.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  fillRandomAt,
  fillRandomSequence,
  randomBytesWasm,
} from "../../src/plugins/lib/random-bytes.ts";
import { scratchDir } from "../helpers/captive.ts";
import { REPO_ROOT } from "../helpers/servers.ts";
import { randomPluginByte, xrandom, xsrandom } from "./random-reference.ts";

/** `count` reference bytes of the random plugin from seed + offset. */
function expectedAt(seed: number, offset: bigint, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = randomPluginByte(BigInt(seed), offset + BigInt(i));
  return out;
}

describe("random bytes module", () => {
  test("the embedded module is random-bytes.wat as wasm-as assembles it", () => {
    const output = join(scratchDir(), "random-bytes.wasm");
    execFileSync(join(REPO_ROOT, "node_modules", ".bin", "wasm-as"), [
      join(REPO_ROOT, "src", "plugins", "lib", "random-bytes.wat"),
      "-o",
      output,
    ]);
    expect(Buffer.from(randomBytesWasm()).equals(readFileSync(output))).toBe(true);
  });
});

describe("fillRandomAt", () => {
  test.each([
    [42, 0n, 256],
    [0, 1n, 100],
    [0xffffffff, 12345n, 64],
    [7, 65536n - 10n, 20], // a read inside one chunk, near its end
  ])("seed %i at offset %s gives the random plugin's bytes", (seed, offset, count) => {
    const buf = new Uint8Array(count);
    fillRandomAt(buf, seed, Number(offset));
    expect(buf).toEqual(expectedAt(seed, offset, count));
  });

  test("a read longer than the module's 64 KiB page goes on where each chunk ended", () => {
    const buf = new Uint8Array(3 * 65536 + 100);
    fillRandomAt(buf, 9, 1000);
    for (const at of [0, 65535, 65536, 65537, 131072, buf.length - 1]) {
      expect(buf[at]).toBe(randomPluginByte(9n, 1000n + BigInt(at)));
    }
  });

  test("the low half carries into the high half between chunks", () => {
    // seed + offset crosses 2^32 in the middle of the second chunk
    const offset = 2 ** 32 - 65536 - 300;
    const buf = new Uint8Array(2 * 65536);
    fillRandomAt(buf, 100, offset);
    for (const at of [0, 65535, 65536, 65736, 65737, 131071]) {
      expect(buf[at]).toBe(randomPluginByte(100n, BigInt(offset + at)));
    }
  });

  test("offsets past 2^53 are exact, as numbers near it and as bigints beyond", () => {
    const near = new Uint8Array(16);
    fillRandomAt(near, 5, Number.MAX_SAFE_INTEGER - 8);
    expect(near).toEqual(expectedAt(5, BigInt(Number.MAX_SAFE_INTEGER) - 8n, 16));
    const far = new Uint8Array(16);
    fillRandomAt(far, 0xffffffff, 2n ** 63n - 16n);
    expect(far).toEqual(expectedAt(0xffffffff, 2n ** 63n - 16n, 16));
  });
});

describe("fillRandomSequence", () => {
  test.each([0n, 4096n, 2n ** 40n + 17n, 2n ** 64n - 1n])(
    "seeded with %s, it gives the low bytes of successive xoshiro256** outputs",
    (seed) => {
      const buf = new Uint8Array(4096);
      fillRandomSequence(buf, seed);
      const state = xsrandom(seed);
      const expected = Uint8Array.from({ length: 4096 }, () => Number(xrandom(state) & 255n));
      expect(buf).toEqual(expected);
    },
  );

  test("more than 64 KiB at once is refused", () => {
    expect(() => fillRandomSequence(new Uint8Array(65537), 0)).toThrow(RangeError);
  });
});
