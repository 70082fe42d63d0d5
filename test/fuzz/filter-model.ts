/**
 * Random requests for the stateful filters' properties (cow-filter.test.ts, cache-filter.test.ts)
 * and the plain model they are checked against: a byte array of what the disk must read as,
 * with a mask of the bytes whose value is known (a trim may leave old bytes or zeroes). Offsets
 * cluster at block boundaries so that partial blocks, whole blocks and both ends are all hit.
 */

import fc from "fast-check";
import { expect } from "vitest";
import { Extents } from "../../src/api/extents.ts";
import type { Filter } from "../../src/api/filter.ts";
import { EXTENT } from "../../src/api/plugin.ts";
import { Backend } from "../../src/backend/backend.ts";
import { applyParams, finishConfiguration } from "../../src/backend/configure.ts";
import { stackFilters } from "../../src/backend/filter-stack.ts";
import { type Ram, ramPlugin } from "../helpers/ram-plugin.ts";

export type FilterOp =
  | { kind: "read"; at: number; length: number }
  | { kind: "write"; at: number; length: number; seed: number }
  | { kind: "zero"; at: number; length: number }
  | { kind: "trim"; at: number; length: number }
  | { kind: "cache"; at: number; length: number }
  | { kind: "extents"; at: number; length: number }
  | { kind: "flush" };

export type RangedKind = Exclude<FilterOp["kind"], "flush">;

/** A range of the disk: starting near a block boundary or anywhere, up to `most` bytes. */
export function rangeArb(size: number, block: number, most: number) {
  const blocks = Math.ceil(size / block);
  const at = fc.oneof(
    fc.nat(size - 1),
    fc.tuple(fc.nat(blocks - 1), fc.integer({ min: -3, max: 3 })).map(([b, d]) =>
      Math.min(size - 1, Math.max(0, b * block + d))
    ),
  );
  const length = fc.oneof(
    fc.integer({ min: 1, max: most }),
    fc.integer({ min: 1, max: Math.max(1, Math.floor(most / block)) }).map((n) => n * block),
  );
  return fc.tuple(at, length).map(([start, want]) => ({
    at: start,
    length: Math.max(1, Math.min(want, size - start)),
  }));
}

/** One request of one of `kinds` on a disk of `size` bytes. */
export function opArb(
  size: number,
  block: number,
  most: number,
  kinds: readonly FilterOp["kind"][],
): fc.Arbitrary<FilterOp> {
  return fc.constantFrom(...kinds).chain((kind): fc.Arbitrary<FilterOp> => {
    if (kind === "flush") return fc.constant({ kind });
    if (kind === "write") {
      return fc.tuple(rangeArb(size, block, most), fc.nat()).map(([range, seed]) => ({
        kind,
        ...range,
        seed,
      }));
    }
    return rangeArb(size, block, most).map((range) => ({ kind, ...range }));
  });
}

/** The bytes a write with `seed` carries: never all zero, different at every offset. */
export function payload(seed: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = ((seed + i * 7) % 255) + 1;
  return bytes;
}

/** What the disk must read as: `bytes` where `known` is 1; elsewhere either old bytes or zero. */
export class DiskModel {
  readonly bytes: Uint8Array;
  readonly known: Uint8Array;

  constructor(initial: Uint8Array) {
    this.bytes = initial.slice();
    this.known = new Uint8Array(initial.length).fill(1);
  }

  write(at: number, data: Uint8Array): void {
    this.bytes.set(data, at);
    this.known.fill(1, at, at + data.length);
  }

  zero(at: number, length: number): void {
    this.bytes.fill(0, at, at + length);
    this.known.fill(1, at, at + length);
  }

  forget(at: number, length: number): void {
    this.known.fill(0, at, at + length);
  }

  /** Fails unless `got` (read at `at`) matches every known byte. */
  check(got: Uint8Array, at: number, what: string): void {
    for (let i = 0; i < got.length; i++) {
      if (this.known[at + i] && got[i] !== this.bytes[at + i]) {
        expect.fail(
          `${what}: byte ${at + i} reads ${got[i]}, expected ${this.bytes[at + i]}`,
        );
      }
    }
  }
}

/**
 * Runs one request against `backend` and the model; `trimZeroes` says whether a trim must
 * leave zeroes (cow) or may leave anything (cache). Reads and block status are checked.
 */
export async function apply(
  backend: Backend,
  model: DiskModel,
  op: FilterOp,
  trimZeroes: boolean,
): Promise<void> {
  switch (op.kind) {
    case "read": {
      const buf = new Uint8Array(op.length);
      await backend.readAt(buf, op.at);
      model.check(buf, op.at, `read ${op.length} at ${op.at}`);
      return;
    }
    case "write": {
      const data = payload(op.seed, op.length);
      await backend.writeAt(data, op.at, false);
      model.write(op.at, data);
      return;
    }
    case "zero":
      await backend.zero(op.length, op.at, false, false, false);
      model.zero(op.at, op.length);
      return;
    case "trim":
      await backend.trim(op.length, op.at, false);
      if (trimZeroes) model.zero(op.at, op.length);
      else model.forget(op.at, op.length);
      return;
    case "cache":
      await backend.cache(op.length, op.at);
      return;
    case "flush":
      await backend.flush();
      return;
    case "extents":
      await checkExtents(backend, model, op.at, op.length);
      return;
  }
}

/**
 * Block status never calls a byte zero that the model knows is not, nor one that reads as
 * anything else (after a trim the model does not know, but the map and reads must agree).
 */
export async function checkExtents(
  backend: Backend,
  model: DiskModel,
  at: number,
  length: number,
): Promise<void> {
  const list = new Extents(at, backend.caps.size);
  await backend.extents(length, at, false, list);
  expect(list.count).toBeGreaterThan(0);
  expect(Number(list.starts[0])).toBe(at);
  for (let i = 0; i < list.count; i++) {
    if (!(list.types[i] & EXTENT.ZERO)) continue;
    const start = Number(list.starts[i]);
    const zeroes = new Uint8Array(Number(list.ends[i]) - start);
    model.check(zeroes, start, `extent [${start}, ${list.ends[i]}) said zero`);
    const read = new Uint8Array(zeroes.length);
    await backend.readAt(read, start);
    if (!read.every((byte) => byte === 0)) {
      expect.fail(`extent [${start}, ${list.ends[i]}) said zero, but it reads as data`);
    }
  }
}

/**
 * Writes at disjoint ranges sent all at once (their order is then free, and the result is not),
 * with reads of other disjoint ranges among them; the model takes the writes afterwards.
 */
export function concurrentArb(size: number, block: number, most: number) {
  return fc.array(
    fc.tuple(rangeArb(size, block, most), fc.nat(), fc.boolean()),
    { minLength: 2, maxLength: 8 },
  ).map((items) => {
    const taken: { at: number; length: number }[] = [];
    const ops: FilterOp[] = [];
    for (const [range, seed, isRead] of items) {
      if (taken.some((t) => range.at < t.at + t.length && t.at < range.at + range.length)) {
        continue;
      }
      taken.push(range);
      ops.push(isRead ? { kind: "read", ...range } : { kind: "write", ...range, seed });
    }
    return ops;
  });
}

/** Sends `ops` (disjoint reads and writes) together, then checks and applies them. */
export async function applyTogether(
  backend: Backend,
  model: DiskModel,
  ops: readonly FilterOp[],
): Promise<void> {
  const reads = new Map<FilterOp, Uint8Array>();
  await Promise.all(ops.map((op) => {
    if (op.kind === "read") {
      const buf = new Uint8Array(op.length);
      reads.set(op, buf);
      return backend.readAt(buf, op.at);
    }
    if (op.kind === "write") return backend.writeAt(payload(op.seed, op.length), op.at, false);
    throw new Error(`applyTogether: ${op.kind} is not sent together`);
  }));
  for (const [op, buf] of reads) {
    if (op.kind === "read") model.check(buf, op.at, `concurrent read ${op.length} at ${op.at}`);
  }
  for (const op of ops) if (op.kind === "write") model.write(op.at, payload(op.seed, op.length));
}

/**
 * Bytes for a plugin to start with: every byte different from its neighbours, but with runs
 * of zeroes (whole 4 KiB pages and pieces of them) where the plugin may hold holes.
 */
export function startingBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 13 + 5) % 256;
  for (let at = 0; at < size; at += 5 * 4096) bytes.fill(0, at + 4096, at + 3 * 4096 - 100);
  return bytes;
}

/** One property run: `filter` over a RAM disk, the server's view of both, and the model. */
export interface Session {
  readonly ram: Ram;
  readonly backend: Backend;
  readonly model: DiskModel;
}

/**
 * `filter` with `params` over a RAM disk of `size` bytes holding startingBytes() (its all-zero
 * 4 KiB pages left as holes), which answers at once or, when `later`, after a timer.
 */
export async function openSession(
  filter: Filter,
  params: Readonly<Record<string, string>>,
  size: number,
  later: boolean,
): Promise<Session> {
  const ram = ramPlugin({ size, delay: later ? () => 1 : undefined });
  const bytes = startingBytes(size);
  for (let at = 0; at < size; at += 4096) {
    const page = bytes.subarray(at, at + 4096);
    if (page.some((byte) => byte !== 0)) ram.write(at, page);
  }
  const top = stackFilters([filter], ram.plugin);
  await applyParams(top, Object.entries(params).map(([key, value]) => ({ key, value })));
  await finishConfiguration(top);
  return { ram, backend: await Backend.open(top, false, ""), model: new DiskModel(bytes) };
}

/**
 * Runs `ops` in turn (`flushed` is awaited after each flush), then each batch of `together`
 * sent at once, then checks the whole disk and its map against the model.
 */
export async function play(
  { backend, model }: Session,
  ops: readonly FilterOp[],
  together: readonly (readonly FilterOp[])[],
  trimZeroes: boolean,
  flushed: () => unknown = () => {},
): Promise<void> {
  for (const op of ops) {
    await apply(backend, model, op, trimZeroes);
    if (op.kind === "flush") await flushed();
  }
  for (const batch of together) await applyTogether(backend, model, batch);
  await checkWholeDisk(backend, model);
  await checkExtents(backend, model, 0, model.bytes.length);
}

/** Reads the whole disk through `backend` and checks it against the model. */
export async function checkWholeDisk(backend: Backend, model: DiskModel): Promise<void> {
  const all = new Uint8Array(model.bytes.length);
  await backend.readAt(all, 0);
  model.check(all, 0, "the whole disk");
}
