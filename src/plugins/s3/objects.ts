/**
 * A disk cut into objects of a bucket, as nbdkit's S3 plugin lays it out: byte B of the disk is
 * in object `KEY/NNNNNNNNNNNNNNNN` (the object's index in 16 lowercase hex digits) at B modulo
 * object-size. An object that does not exist reads as zeroes and is a hole in extents.
 *
 *   disk:    |  object 0  |  object 1  |  object 2  | …
 *   request:        [=========================]
 *   pieces:         [ tail ][   whole    ][head]    whole: one PUT; tail, head: read-modify-write
 *
 * Every write is acknowledged only once the store has acknowledged its PUT (or DELETE), so
 * FLUSH and FUA have nothing left to wait for. A piece smaller than an object reads the object,
 * changes it and writes it back under that object's lock, which every connection of this server
 * shares: concurrent requests never lose each other's bytes. Two servers writing parts of one
 * object at once can (README: "Many servers, one bucket").
 */

import { ERRNO, NbdError } from "../../api/errors.ts";
import { EXTENT, FLAG, type Handle } from "../../api/plugin.ts";
import { isAllZero } from "../../api/zero.ts";
import type { KeyLock } from "../lib/key-lock.ts";
import type { S3Client } from "./client.ts";

/** The most keys one ListObjectsV2 page gives. */
const PAGE = 1000;
/** Deleting up to this many objects goes by key; more are listed first, deleting what exists. */
const DELETE_BY_KEY = 16;

/** The part of one object a request touches. */
interface Piece {
  readonly index: number;
  /** Where in the object, and how many bytes. */
  readonly at: number;
  readonly length: number;
  /** Where in the request's buffer. */
  readonly from: number;
}

export interface ObjectLayout {
  readonly prefix: string;
  readonly objectSize: number;
  readonly objects: number;
}

/** The object holding disk object `index`. */
export function objectKey(prefix: string, index: number): string {
  return `${prefix}/${index.toString(16).padStart(16, "0")}`;
}

/** The index of an object key under the prefix, or undefined for another key. */
function indexOf(prefix: string, key: string): number | undefined {
  const hex = key.slice(prefix.length + 1);
  return /^[0-9a-f]{16}$/.test(hex) ? parseInt(hex, 16) : undefined;
}

function piecesOf(objectSize: number, count: number, offset: number): Piece[] {
  const pieces: Piece[] = [];
  for (let done = 0; done < count;) {
    const index = Math.floor((offset + done) / objectSize);
    const at = (offset + done) % objectSize;
    const length = Math.min(objectSize - at, count - done);
    pieces.push({ index, at, length, from: done });
    done += length;
  }
  return pieces;
}

export function openObjectDisk(
  store: S3Client,
  locks: KeyLock,
  layout: ObjectLayout,
  readonly: boolean,
): Handle {
  const { prefix, objectSize, objects } = layout;
  const key = (index: number) => objectKey(prefix, index);
  const whole = (piece: Piece) => piece.at === 0 && piece.length === objectSize;

  /** Reads a whole object for a read-modify-write: zeroes when it does not exist. */
  async function readObject(index: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const object = new Uint8Array(objectSize);
    return (await store.readRange(key(index), 0, object)) ? object : undefined;
  }

  /** Changes part of one object under its lock; `change` fills the part. */
  function modify(piece: Piece, change: (object: Uint8Array) => void, zeroing: boolean) {
    return locks.run(key(piece.index), async () => {
      const object = await readObject(piece.index);
      if (object === undefined && zeroing) return; // absent: already zero
      const updated = object ?? new Uint8Array(objectSize);
      change(updated.subarray(piece.at, piece.at + piece.length));
      // A zero request that leaves the object all zero makes it a hole again.
      if (zeroing && isAllZero(updated)) await store.delete(key(piece.index));
      else await store.put(key(piece.index), updated);
    });
  }

  /** Deletes the objects first … last-1; the ones that exist, when there are many. */
  async function deleteObjects(first: number, last: number): Promise<void> {
    if (last - first <= DELETE_BY_KEY) {
      const deletions = [];
      for (let index = first; index < last; index++) {
        deletions.push(locks.run(key(index), () => store.delete(key(index))));
      }
      await Promise.all(deletions);
      return;
    }
    const startAfter = first === 0 ? undefined : key(first - 1);
    let token: string | undefined;
    do {
      const page = await store.list(`${prefix}/`, startAfter, PAGE, token);
      const doomed = page.keys.map((entry) => indexOf(prefix, entry.key))
        .filter((index): index is number => index !== undefined && index >= first && index < last);
      await Promise.all(
        doomed.map((index) => locks.run(key(index), () => store.delete(key(index)))),
      );
      const lastListed = page.keys.at(-1);
      if (lastListed === undefined || (indexOf(prefix, lastListed.key) ?? last) >= last) return;
      token = page.next;
    } while (token !== undefined);
  }

  /** Whole objects of a zero or trim request are deleted; what `partial` says is done with the rest. */
  async function discard(count: number, offset: number, partial: (piece: Piece) => Promise<void>) {
    const pieces = piecesOf(objectSize, count, offset);
    const wholes = pieces.filter(whole);
    const parts = pieces.filter((piece) => !whole(piece));
    await Promise.all([
      wholes.length === 0
        ? Promise.resolve()
        : deleteObjects(wholes[0].index, wholes.at(-1)!.index + 1),
      ...parts.map(partial),
    ]);
  }

  return {
    getSize: () => objects * objectSize,
    canWrite: () => !readonly,
    canFlush: () => true,
    canFua: () => true, // native: every write is acknowledged by the store before it returns
    canTrim: () => true,
    canZero: () => true,
    canFastZero: () => true,
    canExtents: () => true,
    canMultiConn: () => true, // what one connection was told is written, every other reads
    isRotational: () => false,
    blockSize: () => ({
      minimum: 1,
      preferred: Math.min(Math.max(2 ** Math.floor(Math.log2(objectSize)), 512), 32 * 1024 * 1024),
      maximum: 0xffffffff,
    }),

    async readAt(buf, offset) {
      await Promise.all(
        piecesOf(objectSize, buf.length, Number(offset)).map(async (piece) => {
          const part = buf.subarray(piece.from, piece.from + piece.length);
          if (!(await store.readRange(key(piece.index), piece.at, part))) part.fill(0);
        }),
      );
    },

    async writeAt(buf, offset) {
      await Promise.all(
        piecesOf(objectSize, buf.length, Number(offset)).map((piece) => {
          const part = buf.subarray(piece.from, piece.from + piece.length) as Uint8Array<
            ArrayBuffer
          >;
          if (whole(piece)) {
            return locks.run(key(piece.index), () => store.put(key(piece.index), part));
          }
          return modify(piece, (target) => target.set(part), false);
        }),
      );
    },

    async zero(count, offset, flags) {
      const pieces = piecesOf(objectSize, count, Number(offset));
      if ((flags & FLAG.FAST_ZERO) && pieces.some((piece) => !whole(piece))) {
        throw new NbdError(
          ERRNO.ENOTSUP,
          "zero: part of an object is a read and a write, not fast",
        );
      }
      await discard(count, Number(offset), (piece) => modify(piece, (part) => part.fill(0), true));
    },

    // Advisory: only whole objects go; parts of objects keep their bytes.
    trim: (count, offset) => discard(count, Number(offset), () => Promise.resolve()),

    flush() {},

    async extents(count, offset, _flags, sink) {
      const first = Math.floor(Number(offset) / objectSize);
      const last = Math.min(Math.ceil((Number(offset) + count) / objectSize), objects);
      const startAfter = first === 0 ? undefined : key(first - 1);
      const page = await store.list(`${prefix}/`, startAfter, Math.min(PAGE, last - first));
      let next = first;
      const report = (upTo: number, type: number) => {
        if (upTo <= next) return;
        sink.add(next * objectSize, (upTo - next) * objectSize, type);
        next = upTo;
      };
      for (const entry of page.keys) {
        const index = indexOf(prefix, entry.key);
        if (index === undefined || index < next) continue;
        if (index >= last) break;
        report(index, EXTENT.HOLE | EXTENT.ZERO);
        report(index + 1, EXTENT.DATA);
      }
      // A truncated page tells nothing past its last key: only up to there are gaps holes.
      const lastListed = page.next === undefined ? undefined : page.keys.at(-1);
      const known = lastListed === undefined
        ? (page.next === undefined ? last : next)
        : Math.min(last, (indexOf(prefix, lastListed.key) ?? next - 1) + 1);
      report(Math.max(known, next), EXTENT.HOLE | EXTENT.ZERO);
      // Saying "data" is always safe: the client reads it.
      if (next === first) report(first + 1, EXTENT.DATA);
    },
  };
}
