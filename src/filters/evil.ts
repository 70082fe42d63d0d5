/**
 * The evil filter (man nbdkit-evil-filter, nbdkit 1.36): corrupts data read from the plugin,
 * to test checksums (writes are left alone, so the plugin keeps the right data). `evil=`
 * `cosmic-rays` flips random bits of every read; `stuck-bits` (the default) sticks fixed bits
 * of the disk high or low, the same on every read; `stuck-wires` sticks fixed bits of every
 * request, wherever it reads. `evil-probability=` is how likely a bit is corrupted (1e-8, or
 * 1e-6 for stuck-wires; as N, N%, N:M or N/M), `evil-stuck-probability=` how likely a stuck
 * bit reads as stuck (100%), `evil-seed=` seeds the generator (the time at start-up).
 */

import { debug } from "../api/debug.ts";
import { ConfigError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { parseUnsigned } from "../api/parse-integer.ts";
import { THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { Xoshiro256 } from "../api/xoshiro.ts";
import { corrupt, EPSILON, MAXP, nextPowerOf2, type Odds } from "./evil-corrupt.ts";

type Mode = "cosmic-rays" | "stuck-bits" | "stuck-wires";

const MODES: Readonly<Record<string, Mode>> = {
  "cosmic-rays": "cosmic-rays",
  cosmic: "cosmic-rays",
  "stuck-bits": "stuck-bits",
  "stuck-bit": "stuck-bits",
  stuck: "stuck-bits",
  "stuck-wires": "stuck-wires",
  "stuck-wire": "stuck-wires",
};

const NUMBER = String.raw`\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?`;

/** A probability as nbdkit_parse_probability reads it: N, N%, N:M or N/M; finite, not negative. */
export function parseProbability(what: string, text: string): number {
  let value = NaN;
  const ratio = new RegExp(`^(${NUMBER})[:/](${NUMBER})$`).exec(text);
  const plain = new RegExp(`^(${NUMBER})(%?)$`).exec(text);
  if (ratio) {
    const [n, m] = [Number(ratio[1]), Number(ratio[2])];
    value = n === 0 && m === 0 ? 0 : m === 0 ? NaN : n / m;
  } else if (plain) value = Number(plain[1]) / (plain[2] === "%" ? 100 : 1);
  if (!Number.isFinite(value) || value < 0 || Object.is(value, -0)) {
    throw new ConfigError(`${what}: could not parse '${text}' as a probability`);
  }
  return value;
}

export function createEvilFilter(): Filter {
  let mode: Mode = "stuck-bits";
  let probability = -1;
  let stuck = 1;
  let seed = Math.floor(Date.now() / 1000) % 2 ** 32; // time(NULL), as nbdkit
  let blockSize = 1024 * 1024;
  let odds: Odds = { probability: 0, stuck: 1 };
  let cosmic: Xoshiro256 | undefined;

  /** A probability parameter: parsed, and at most 1. */
  const probabilityOf = (key: string, value: string) => {
    const p = parseProbability(key, value);
    if (p > 1) throw new ConfigError(`${key}: probability out of range, should be [0..1]`);
    return p;
  };

  return {
    name: "evil",
    longname: "nbdts evil filter",
    version: VERSION,
    configHelp: "evil=cosmic-rays|stuck-bits|stuck-wires\n" +
      "                               Set the mode (default: cosmic-rays).\n" +
      "evil-probability=PROB          Probability of flipped or stuck bit.\n" +
      "evil-seed=SEED                 Random number seed.\n" +
      "evil-stuck-probability=PROB    Probability of stuck bit being stuck.",

    config(next, key, value) {
      if (key === "evil" || key === "evil-mode") {
        if (!Object.hasOwn(MODES, value)) throw new ConfigError(`evil: unknown mode: ${value}`);
        mode = MODES[value];
      } else if (key === "evil-probability") probability = probabilityOf(key, value);
      else if (key === "evil-stuck-probability") stuck = probabilityOf(key, value);
      else if (key === "evil-seed") seed = parseUnsigned("evil-seed", value);
      else return next(key, value);
    },

    configComplete(next) {
      if (probability < 0) probability = mode === "stuck-wires" ? 1e-6 : 1e-8;
      return next();
    },

    // Cosmic rays share one generator, so their requests go one at a time.
    threadModel: () =>
      mode === "cosmic-rays" ? THREAD_MODEL.SERIALIZE_REQUESTS : THREAD_MODEL.PARALLEL,

    getReady() {
      if (mode === "cosmic-rays") cosmic = new Xoshiro256(seed);
      // A block where about 100 bits are corrupted, a power of two in size.
      if (probability >= EPSILON && probability <= MAXP) {
        blockSize = nextPowerOf2(Math.floor(Math.trunc(100 / probability) / 8));
      }
      odds = { probability, stuck };
      debug(`evil: mode: ${mode}, P: ${probability}, seed: ${seed}`);
      debug(`evil: block_size: ${blockSize} (2**${Math.log2(blockSize)})`);
      debug(`evil: expected bits per block: ${8 * blockSize * probability}`);
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      return {
        async readAt(buf, offset) {
          await below.readAt(buf, offset);
          if (mode === "cosmic-rays") corrupt(buf, 0, cosmic!, "flip", odds);
          else if (mode === "stuck-wires") corrupt(buf, 0, new Xoshiro256(seed), "stuck", odds);
          else stickBits(buf, BigInt(offset));
        },
      };
    },
  };

  /** Stuck bits of the disk: each block of the read corrupted from its own seed. */
  function stickBits(buf: Uint8Array, offset: bigint): void {
    const size = BigInt(blockSize);
    let blockStart = offset - (offset % size);
    for (let done = 0; done < buf.length;) {
      const inBlock = Number(offset + BigInt(done) - blockStart);
      const length = Math.min(buf.length - done, blockSize - inBlock);
      const random = new Xoshiro256(BigInt(seed) + blockStart);
      corrupt(buf.subarray(done, done + length), inBlock, random, "stuck", odds);
      blockStart += size;
      done += length;
    }
  }
}
