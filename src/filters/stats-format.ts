/**
 * The stats filter's report, in nbdkit's exact text (filters/stats/stats.cpp): a total line,
 * then per kind of request its count, time, bytes and rates, with a breakdown of request sizes
 * (by power of two) and offset alignments covering `threshold` of the requests. Numbers are
 * printed as C's printf prints them (%.2f and the like round halves to even); this file only
 * formats, it never measures.
 *
 * nbdkit's quirks are kept so the files match: the "other sizes" line counts the bytes of all
 * requests, not of those left over (its running sum is never added to), and two request sizes
 * seen equally often show as one, since its list is keyed by the count (here the size seen
 * first is kept; nbdkit's pick follows its hash table).
 */

const KiB = 1024;
const MiB = 1024 * 1024;
const GiB = 1024 * 1024 * 1024;

/** One kind of request's totals, and its histogram: size bits -> alignment bits -> count. */
export interface Stat {
  readonly name: string;
  ops: number;
  bytes: number;
  usecs: number;
  readonly count: Map<number, Map<number, number>>;
  readonly size: Map<number, number>;
}

export function newStat(name: string): Stat {
  return { name, ops: 0, bytes: 0, usecs: 0, count: new Map(), size: new Map() };
}

/**
 * The whole report, `usecs` after the server started: a total line, then a block per kind of
 * request that had any (order: read, write, trim, zero, extents, cache, flush).
 */
export function report(stats: readonly Stat[], usecs: number, threshold: number): string {
  const [read, write, trim, zero, extents, , flush] = stats;
  const ops = read.ops + write.ops + trim.ops + zero.ops + extents.ops + flush.ops;
  const bytes = read.bytes + write.bytes + trim.bytes + zero.bytes;
  let text = `total: ${ops} ops, ${fixed(usecs / 1e6, 6)} s, ${humanSize(bytes)}, ` +
    `${maybe(humanRate(bytes, usecs))}/s\n`;
  for (const stat of stats) text += statText(stat, usecs, threshold);
  return text;
}

function statText(stat: Stat, usecs: number, threshold: number): string {
  if (stat.ops === 0) return "";
  let text = `${stat.name}: ${stat.ops} ops, ${fixed(stat.usecs / 1e6, 6)} s, ` +
    `${humanSize(stat.bytes)}, ${maybe(humanRate(stat.bytes, stat.usecs))}/s op, ` +
    `${maybe(humanRate(stat.bytes, usecs))}/s total\n`;
  if (threshold !== 0 && stat.count.size !== 0) {
    text += "  Request size and alignment breakdown:\n" + histogram(stat, threshold) + "\n";
  }
  return text;
}

/** The request sizes covering `threshold` of the requests, most frequent first. */
function histogram(stat: Stat, threshold: number): string {
  const bySize = new Map<number, number>(); // count -> size bits, as nbdkit's std::map
  let total = 0;
  for (const [bits, alignments] of stat.count) {
    let requests = 0;
    for (const n of alignments.values()) requests += n;
    if (!bySize.has(requests)) bySize.set(requests, bits);
    total += requests;
  }
  const toPrint = Math.trunc(threshold * total);
  let printed = 0;
  let text = "";
  for (const requests of [...bySize.keys()].sort((a, b) => b - a)) {
    if (printed >= toPrint) {
      const rest = stat.ops - printed;
      text += `    other sizes: ${padded(fixed((rest / total) * 100, 1), 4)}% ` +
        `(${rest} reqs, ${humanSize(stat.bytes)} total)\n`;
      break;
    }
    const bits = bySize.get(requests)!;
    text +=
      `    ${padded(String(bits), 2)} bits: ${padded(fixed((requests / total) * 100, 1), 4)}% ` +
      `(${requests} reqs, ${humanSize(stat.size.get(bits)!)} total)\n`;
    printed += requests;
    text += alignments(stat.count.get(bits)!, threshold);
  }
  return text;
}

/**
 * How the requests of one size were aligned: the share aligned to at least each number of
 * bits, down to where fewer than 1 - `threshold` of them are. Offset 0 (alignment -1) counts
 * as aligned to every number of bits.
 */
function alignments(counts: Map<number, number>, threshold: number): string {
  let any = 0;
  let total = 0;
  const atLeast = new Map<number, number>();
  for (const [bits, n] of counts) {
    if (bits === -1) any = n;
    else atLeast.set(bits, n);
    total += n;
  }
  const ascending = [...atLeast.keys()].sort((a, b) => a - b);
  const own = new Map(atLeast);
  for (const bits of ascending) {
    for (const lower of ascending) {
      if (lower < bits) atLeast.set(lower, atLeast.get(lower)! + own.get(bits)!);
    }
  }
  for (const bits of ascending) atLeast.set(bits, atLeast.get(bits)! + any);
  const cutoff = Math.trunc((1 - threshold) * total);
  let text = "";
  for (let i = 0; i < ascending.length; i++) {
    const bits = ascending[i];
    const requests = atLeast.get(bits)!;
    if (requests < cutoff) {
      text += `         ${padded(String(bits), 2)}+ bit-aligned: ` +
        `${padded(fixed((requests / total) * 100, 1), 4)}% (${requests})\n`;
      break;
    }
    const next = ascending[i + 1];
    if (next === undefined || atLeast.get(next) !== requests) {
      text += `         ${padded(String(bits), 2)} bit aligned: ` +
        `${padded(fixed((requests * 100) / total, 1), 5)}% (${requests})\n`;
    }
  }
  return text;
}

/** nbdkit's humansize: bytes below 1 KiB, else KiB, MiB or GiB with two decimals. */
function humanSize(bytes: number): string {
  if (bytes < KiB) return `${bytes} bytes`;
  if (bytes < MiB) return `${fixed(bytes / KiB, 2)} KiB`;
  if (bytes < GiB) return `${fixed(bytes / MiB, 2)} MiB`;
  return `${fixed(bytes / GiB, 2)} GiB`;
}

/** Bytes per second (truncated to whole bytes, as nbdkit's cast does), or none over no time. */
function humanRate(bytes: number, usecs: number): string | undefined {
  const secs = usecs / 1e6;
  return secs !== 0 ? humanSize(Math.trunc(bytes / secs)) : undefined;
}

function maybe(text: string | undefined): string {
  return text ?? "(n/a)";
}

function padded(text: string, width: number): string {
  return text.padStart(width);
}

/**
 * `value` (finite, not negative) with `digits` decimals as C's %.Nf prints it: from the exact
 * binary value, halves rounded to even (JavaScript's toFixed rounds them up).
 */
export function fixed(value: number, digits: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const high = view.getUint32(0);
  const exponent = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  if (exponent !== 0) mantissa |= 1n << 52n;
  const shift = (exponent === 0 ? 1 : exponent) - 1075; // value = mantissa * 2^shift
  let numerator = mantissa * 10n ** BigInt(digits);
  let denominator = 1n;
  if (shift >= 0) numerator <<= BigInt(shift);
  else denominator <<= BigInt(-shift);
  let quotient = numerator / denominator;
  const twice = (numerator % denominator) * 2n;
  if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) quotient++;
  const text = quotient.toString().padStart(digits + 1, "0");
  return digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
