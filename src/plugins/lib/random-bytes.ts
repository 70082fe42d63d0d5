/**
 * Fills buffers with nbdkit's random bytes (common/include/random.h), byte for byte as nbdkit
 * serves them, by running the small WebAssembly module in random-bytes.wat. It never keeps a
 * view of that module's memory across calls, and never lets the module write outside it.
 *
 * Why WebAssembly: every byte costs nbdkit's random plugin three 64-bit splitmix64 mixes. In
 * JavaScript numbers held as 32-bit halves that took 17 ms per MiB on Node 20 (2-core test VM);
 * the module's native i64 arithmetic takes 5 ms, near nbdkit's own 4.5 ms of CPU per MiB.
 *
 * The bytes below are `wasm-as src/plugins/lib/random-bytes.wat` (binaryen, which npm installs
 * with AssemblyScript) in base64; test/plugins/random-bytes.test.ts assembles the .wat again
 * and fails if they differ. To change the module, edit the .wat and paste the output of
 *   node_modules/.bin/wasm-as src/plugins/lib/random-bytes.wat -o /tmp/random-bytes.wasm &&
 *   base64 -w0 /tmp/random-bytes.wasm
 */

import type { Offset } from "../../api/plugin.ts";

const RANDOM_BYTES_WASM_BASE64 =
  "AGFzbQEAAAABDAJgA39/fwBgAX4BfgMEAwEAAAUDAQABBycDBm1lbW9yeQIAC2ZpbGxJbmRleGVkAAEMZmlsbFNlcXVl" +
  "bmNlAAIKmAQDNgAgACAAQh6IhUK5y5Pn0e2RrL9/fiEAIAAgAEIbiIVC66PEmbG3kuiUf34hACAAIABCH4iFC5oCAgN+" +
  "AX8gAa1CIIYgAq2EIQMCQANAIAYgAE8NASADQpX4qfqXt96bnn98IQQgBCAEQh6IhUK5y5Pn0e2RrL9/fiEEIAQgBEIb" +
  "iIVC66PEmbG3kuiUf34hBCAEIARCH4iFIQUgA0LU4Kfp39z57vgAfCEEIAQgBEIeiIVCucuT59Htkay/f34hBCAEIARC" +
  "G4iFQuujxJmxt5LolH9+IQQgBSAEIARCH4iFhSEFIANCqvDT9K/uvLc8fCEEIAQgBEIeiIVCucuT59Htkay/f34hBCAE" +
  "IARCG4iFQuujxJmxt5LolH9+IQQgBSAEIARCH4iFQhGGhSEFIAYgBUIFfkIHiUIJfjwAACADQgF8IQMgBkEBaiEGDAAL" +
  "AAsLwgECBn4BfyABrUIghiACrYQhAyADQpX4qfqXt96bnn98IQMgAxAAIQQgA0KV+Kn6l7fem55/fCEDIAMQACEFIANC" +
  "lfip+pe33puef3whAyADEAAhBiADQpX4qfqXt96bnn98IQMgAxAAIQcCQANAIAkgAE8NASAJIAVCBX5CB4lCCX48AAAg" +
  "BUIRhiEIIAYgBIUhBiAHIAWFIQcgBSAGhSEFIAQgB4UhBCAGIAiFIQYgB0ItiSEHIAlBAWohCQwACwALCw==";

/** What the module exports; i64 values cross as two i32 halves, so no BigInt is made. */
interface RandomBytesExports {
  readonly memory: WebAssembly.Memory;
  fillIndexed(length: number, xHi: number, xLo: number): void;
  fillSequence(length: number, seedHi: number, seedLo: number): void;
}

/** The most either function writes per call: the module's one 64 KiB page. */
const CHUNK = 65536;
const TWO_32 = 4294967296;

/** The embedded module, for the test that checks it against the .wat. */
export function randomBytesWasm(): Uint8Array<ArrayBuffer> {
  const text = atob(RANDOM_BYTES_WASM_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

let instance: RandomBytesExports | undefined;

/** One instance, made on first use and shared: calls are synchronous, so they never overlap. */
function randomBytesModule(): RandomBytesExports {
  instance ??= new WebAssembly.Instance(new WebAssembly.Module(randomBytesWasm()), {})
    .exports as unknown as RandomBytesExports;
  return instance;
}

/** `base + add` mod 2^64 as [high, low] uint32 halves, exact for any Offset. */
function halves(base: Offset, add: number): [number, number] {
  if (typeof base === "number" && Number.isSafeInteger(base + add)) {
    const value = base + add;
    const hi = Math.floor(value / TWO_32);
    return [hi, value - hi * TWO_32];
  }
  const value = BigInt.asUintN(64, BigInt(base) + BigInt(add));
  return [Number(value >> 32n), Number(value & 0xffffffffn)];
}

/**
 * The random plugin's data: buf[i] = the byte nbdkit's random plugin serves for `seed` at
 * `offset + i` (random.c seeds a fresh generator from seed + offset + i for every byte).
 */
export function fillRandomAt(buf: Uint8Array, seed: number, offset: Offset): void {
  const wasm = randomBytesModule();
  let [hi, lo] = halves(offset, seed);
  for (let done = 0; done < buf.length; done += CHUNK) {
    const n = Math.min(CHUNK, buf.length - done);
    wasm.fillIndexed(n, hi, lo);
    buf.set(new Uint8Array(wasm.memory.buffer, 0, n), done);
    // The next chunk starts n bytes on; the low half may carry into the high half.
    lo += n;
    if (lo >= TWO_32) {
      lo -= TWO_32;
      hi = (hi + 1) >>> 0;
    }
  }
}

/**
 * The low bytes of the first buf.length outputs of a generator seeded with `seed` (random.h's
 * xsrandom, then xrandom for each byte), as sparse-random fills a block. At most 64 KiB.
 */
export function fillRandomSequence(buf: Uint8Array, seed: Offset): void {
  if (buf.length > CHUNK) throw new RangeError(`Cannot make ${buf.length} bytes: at most ${CHUNK}`);
  const wasm = randomBytesModule();
  const [hi, lo] = halves(seed, 0);
  wasm.fillSequence(buf.length, hi, lo);
  buf.set(new Uint8Array(wasm.memory.buffer, 0, buf.length));
}
