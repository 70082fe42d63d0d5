/**
 * The multi-conn filter (man nbdkit-multi-conn-filter): decides whether clients are told they
 * may use several connections at once (NBD_FLAG_CAN_MULTI_CONN), and keeps that promise for a
 * plugin that cannot: a flush on one connection flushes every connection that may hold changes
 * or stale reads. `multi-conn-mode=` `auto` (the default: `plugin` when the plugin promises it,
 * else `emulate`), `emulate`, `plugin` (the plugin's answer), `unsafe` (promise it, do nothing)
 * or `disable`. `multi-conn-track-dirty=` how precisely connections are followed: `conn` (each
 * connection's reads and writes), `fast` (one flag for all) or `off` (flush everything, always).
 * `multi-conn-exportname=true` groups connections by export name, so a flush reaches only those
 * of its own export. Under a thread model that serializes connections, auto means disable.
 */

import { ConfigError } from "../api/errors.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import { parseBool } from "../api/parse.ts";
import { FLAG, FUA_MODE, type FuaMode, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

const MODES = ["auto", "emulate", "plugin", "unsafe", "disable"] as const;
type Mode = (typeof MODES)[number];
const TRACKING: Readonly<Record<string, Tracking>> = {
  connection: "conn",
  conn: "conn",
  fast: "fast",
  off: "off",
};
type Tracking = "conn" | "fast" | "off";

/** What a connection may have left unflushed (nbdkit's dirty bits). */
const DIRTY = { WRITE: 1, READ: 2 } as const;

/** Connections whose flushes serve each other: all, or those of one export name. */
interface Group {
  readonly conns: Set<Connection>;
  /** Some connection of the group wrote since the last flush. */
  dirty: boolean;
}

/** One connection as the filter follows it. */
interface Connection {
  readonly next: NextHandle;
  /** What `auto` came to for this connection. */
  readonly mode: Exclude<Mode, "auto">;
  readonly group: Group;
  dirty: number;
}

export function createMultiConnFilter(): Filter {
  let mode: Mode = "auto";
  let tracking: Tracking = "conn";
  let byName = false;
  const groups = new Map<string, Group>();

  function markDirty(conn: Connection, write: boolean): void {
    if (tracking === "off") return;
    if (tracking === "conn") conn.dirty |= write ? DIRTY.WRITE : DIRTY.READ;
    if (write) conn.group.dirty = true;
  }

  /** A flush: of every connection of the group that needs one (emulate), else of this one. */
  async function flush(conn: Connection): Promise<void> {
    const { group } = conn;
    if (conn.mode === "emulate") {
      for (const other of [...group.conns]) {
        const needed = tracking === "off" || other.dirty & DIRTY.WRITE ||
          (group.dirty && (tracking === "fast" || other.dirty & DIRTY.READ));
        if (!needed) continue;
        await other.next.flush(0);
        other.dirty = 0;
      }
      group.dirty = false;
      return;
    }
    if (tracking !== "off" && !group.dirty) return; // nothing written: nothing to flush
    await conn.next.flush(0);
    if (tracking === "fast") group.dirty = false;
    else if (tracking === "conn") {
      if (await conn.next.canMultiConn()) {
        for (const other of group.conns) other.dirty = 0;
        group.dirty = false;
      } else conn.dirty = 0;
    }
  }

  /**
   * A FUA write, trim or zero under emulate: the change without FUA, then a flush of the group
   * (the plugin's own FUA would reach this connection only).
   */
  async function thenFlush(conn: Connection, change: Promise<void> | void): Promise<void> {
    await change;
    await flush(conn);
  }

  return {
    name: "multi-conn",
    longname: "nbdts multi-conn filter",
    version: VERSION,
    configHelp: "multi-conn-mode=<MODE>          'auto' (default), 'emulate', 'plugin',\n" +
      "                                'disable', or 'unsafe'.\n" +
      "multi-conn-track-dirty=<LEVEL>  'conn' (default), 'fast', or 'off'.\n" +
      "multi-conn-exportname=<BOOL>    true to limit emulation by export name.",

    config(next, key, value) {
      if (key === "multi-conn-mode") {
        if (!(MODES as readonly string[]).includes(value)) {
          throw new ConfigError(`unknown multi-conn mode '${value}'`);
        }
        mode = value as Mode;
      } else if (key === "multi-conn-track-dirty") {
        if (!Object.hasOwn(TRACKING, value)) {
          throw new ConfigError(`unknown multi-conn track-dirty setting '${value}'`);
        }
        tracking = TRACKING[value];
      } else if (key === "multi-conn-exportname" || key === "multi-conn-export-name") {
        byName = parseBool(value);
      } else return next(key, value);
    },

    getReady(threadModel) {
      if (threadModel === THREAD_MODEL.SERIALIZE_CONNECTIONS && mode === "auto") mode = "disable";
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      let conn: Connection | undefined;
      const name = byName ? exportName : "";
      return {
        async prepare() {
          const resolved = mode !== "auto"
            ? mode
            : (await below.canMultiConn())
            ? "plugin"
            : "emulate";
          if (resolved === "emulate" && !(await below.canFlush())) {
            throw new Error("emulating multi-conn requires working flush");
          }
          let group = groups.get(name);
          if (group === undefined) groups.set(name, group = { conns: new Set(), dirty: false });
          conn = { next: below, mode: resolved, group, dirty: 0 };
          group.conns.add(conn);
        },
        finalize() {
          const group = conn!.group;
          group.conns.delete(conn!);
          if (group.conns.size === 0) groups.delete(name);
        },
        async canFua(): Promise<FuaMode> {
          // Native FUA would reach this connection alone: a flush of the group keeps the promise.
          const fua = await below.canFua();
          return fua === FUA_MODE.NATIVE && conn!.mode === "emulate" ? FUA_MODE.EMULATE : fua;
        },
        canMultiConn() {
          if (conn!.mode === "plugin") return below.canMultiConn();
          return conn!.mode !== "disable";
        },
        readAt(buf, offset) {
          markDirty(conn!, false);
          return below.readAt(buf, offset);
        },
        cache(count, offset, flags) {
          markDirty(conn!, false);
          return below.cache(count, offset, flags);
        },
        writeAt(buf, offset, flags) {
          if (!flushesAfter(conn!, flags)) return below.writeAt(buf, offset, flags);
          return thenFlush(conn!, below.writeAt(buf, offset, flags & ~FLAG.FUA));
        },
        trim(count, offset, flags) {
          if (!flushesAfter(conn!, flags)) return below.trim(count, offset, flags);
          return thenFlush(conn!, below.trim(count, offset, flags & ~FLAG.FUA));
        },
        zero(count, offset, flags) {
          if (!flushesAfter(conn!, flags)) return below.zero(count, offset, flags);
          return thenFlush(conn!, below.zero(count, offset, flags & ~FLAG.FUA));
        },
        flush: () => flush(conn!),
      };
    },
  };

  /**
   * Marks a change dirty as nbdkit does (a FUA change only under emulate, where a flush
   * follows it) and says whether this filter flushes after it.
   */
  function flushesAfter(conn: Connection, flags: number): boolean {
    const fua = (flags & FLAG.FUA) !== 0;
    if (fua && conn.mode !== "emulate") return false; // the layer below makes it durable
    markDirty(conn, true);
    return fua;
  }
}
