/**
 * A Map-backed RAM disk plugin for core tests. It records every call it gets (with offset,
 * count and flags), counts calls running at once, can delay calls to make replies overtake each
 * other, and can leave callbacks out or replace them, so one factory stands in for the plugins
 * that lack flush, zero, trim, extents or cache, or that fail.
 */

import { EXTENT, type Handle, type Offset, type Plugin } from "../../src/api/plugin.ts";

const BLOCK = 4096;

export interface Call {
  op: string;
  offset?: Offset;
  count?: number;
  flags?: number;
}

export interface RamOptions {
  /** Disk size in bytes (default 1 MiB); offsets must stay below 2^53. */
  size?: number;
  /** Callbacks the handle does not have. */
  omit?: readonly (keyof Handle)[];
  /** Callbacks added or replaced (canFua, a throwing writeAt, ...). */
  with?: Partial<Handle>;
  /** Milliseconds a call waits before it runs; 0 runs it at once (synchronously). */
  delay?: (op: string, offset: Offset | undefined) => number;
  /** Makes open() fail with this error. */
  openError?: Error;
}

export interface Ram {
  plugin: Plugin;
  calls: Call[];
  /** Calls running now, and the most ever running at once. */
  active: number;
  maxActive: number;
  opens: number;
  closes: number;
  exportNames: string[];
  /** The disk's bytes at [offset, offset + count). */
  read(offset: number, count: number): Uint8Array;
  /** Puts bytes on the disk without going through the plugin. */
  write(offset: number, bytes: Uint8Array): void;
  /** Calls of one kind. */
  callsOf(op: string): Call[];
}

export function ramPlugin(options: RamOptions = {}): Ram {
  const size = options.size ?? 1024 * 1024;
  const blocks = new Map<number, Uint8Array>();

  function read(offset: number, count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let done = 0; done < count;) {
      const at = offset + done;
      const n = Math.min(BLOCK - (at % BLOCK), count - done);
      const block = blocks.get(Math.floor(at / BLOCK));
      if (block) out.set(block.subarray(at % BLOCK, (at % BLOCK) + n), done);
      done += n;
    }
    return out;
  }

  function write(offset: number, bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length;) {
      const at = offset + done;
      const n = Math.min(BLOCK - (at % BLOCK), bytes.length - done);
      const index = Math.floor(at / BLOCK);
      let block = blocks.get(index);
      if (!block) blocks.set(index, block = new Uint8Array(BLOCK));
      block.set(bytes.subarray(done, done + n), at % BLOCK);
      done += n;
    }
  }

  /** Zeroes a range, dropping blocks it covers whole (they become holes). */
  function zero(offset: number, count: number): void {
    for (let done = 0; done < count;) {
      const at = offset + done;
      const n = Math.min(BLOCK - (at % BLOCK), count - done);
      const index = Math.floor(at / BLOCK);
      if (n === BLOCK) blocks.delete(index);
      else blocks.get(index)?.fill(0, at % BLOCK, (at % BLOCK) + n);
      done += n;
    }
  }

  const ram: Ram = {
    plugin: undefined as unknown as Plugin,
    calls: [],
    active: 0,
    maxActive: 0,
    opens: 0,
    closes: 0,
    exportNames: [],
    read,
    write,
    callsOf: (op) => ram.calls.filter((call) => call.op === op),
  };

  function run(call: Call, body: () => void): void | Promise<void> {
    ram.calls.push(call);
    const ms = options.delay?.(call.op, call.offset) ?? 0;
    if (ms <= 0) return body();
    ram.active++;
    ram.maxActive = Math.max(ram.maxActive, ram.active);
    return new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        ram.active--;
        try {
          body();
          resolve();
        } catch (error) {
          reject(error);
        }
      }, ms);
    });
  }

  function openHandle(): Handle {
    const handle: Handle = {
      getSize: () => size,
      readAt: (buf, offset) =>
        run({ op: "readAt", offset, count: buf.length }, () => {
          buf.set(read(Number(offset), buf.length));
        }),
      writeAt: (buf, offset, flags) =>
        run({ op: "writeAt", offset, count: buf.length, flags }, () => {
          write(Number(offset), buf);
        }),
      zero: (count, offset, flags) =>
        run({ op: "zero", offset, count, flags }, () => zero(Number(offset), count)),
      trim: (count, offset, flags) =>
        run({ op: "trim", offset, count, flags }, () => zero(Number(offset), count)),
      flush: (flags) => run({ op: "flush", flags }, () => {}),
      cache: (count, offset, flags) => run({ op: "cache", offset, count, flags }, () => {}),
      extents: (count, offset, flags, sink) =>
        run({ op: "extents", offset, count, flags }, () => {
          const first = Math.floor(Number(offset) / BLOCK);
          const last = Math.floor((Number(offset) + count - 1) / BLOCK);
          for (let index = first; index <= last; index++) {
            const type = blocks.has(index) ? EXTENT.DATA : EXTENT.HOLE | EXTENT.ZERO;
            sink.add(index * BLOCK, Math.min(BLOCK, size - index * BLOCK), type);
          }
        }),
      close: () => {
        ram.closes++;
      },
    };
    for (const key of options.omit ?? []) delete (handle as Partial<Handle>)[key];
    return Object.assign(handle, options.with);
  }

  ram.plugin = {
    name: "ram",
    open(_readonly, exportName) {
      ram.opens++;
      ram.exportNames.push(exportName);
      if (options.openError) throw options.openError;
      return openHandle();
    },
  };
  return ram;
}
