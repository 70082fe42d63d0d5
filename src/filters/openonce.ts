/**
 * The openonce filter (man nbdkit-openonce-filter, nbdkit 1.44): opens the layer below once per
 * export (per read-only flag, TLS and export name) and serves every connection to that export
 * through it, for plugins that are slow to open. What is opened stays open until the server
 * exits. A plugin that serializes requests per connection is then served one request at a time
 * across all connections, since they share one handle. No parameters.
 */

import { debug } from "../api/debug.ts";
import type { DetachedNext, Filter, FilterHandle, NextHandle } from "../api/filter.ts";
import { THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

export function createOpenonceFilter(): Filter {
  /** What is open, by "readonly/tls/name", shared by connections opening it at once too. */
  const opened = new Map<string, { name: string; next: Promise<DetachedNext> }>();
  return {
    name: "openonce",
    longname: "nbdts openonce filter",
    version: VERSION,

    // One handle serves every connection: "one request at a time per connection" becomes
    // "one at a time across all".
    threadModel: (below) =>
      below === THREAD_MODEL.SERIALIZE_REQUESTS ? THREAD_MODEL.SERIALIZE_ALL_REQUESTS : below,

    async cleanup() {
      for (const { name, next } of opened.values()) {
        debug(`openonce: freeing context for export "${name}"`);
        const detached = await next.catch(() => undefined);
        // A failure here may lose data, as in nbdkit: clients should have flushed.
        await detached?.close().catch(() => {});
      }
      opened.clear();
    },

    async open(_next, readonly, exportName, tls, { openDetached }) {
      const key = `${Number(readonly)}/${Number(tls)}/${exportName}`;
      let entry = opened.get(key);
      if (entry === undefined) {
        entry = { name: exportName, next: openDetached(readonly, exportName) };
        opened.set(key, entry);
        try {
          await entry.next;
        } catch (error) {
          opened.delete(key); // the next client tries again
          throw error;
        }
        debug(`openonce: allocated new context for export "${exportName}"`);
      } else debug(`openonce: reusing existing context for export "${exportName}"`);
      return passingTo((await entry.next).handle);
    },
  };
}

/** Every method of a handle, each going to `below`: this filter opened no layer of its own. */
function passingTo(below: NextHandle): FilterHandle {
  return {
    getSize: () => below.getSize(),
    exportDescription: () => below.exportDescription(),
    blockSize: () => below.blockSize(),
    canWrite: () => below.canWrite(),
    canFlush: () => below.canFlush(),
    isRotational: () => below.isRotational(),
    canTrim: () => below.canTrim(),
    canZero: () => below.zeroMode(),
    canFastZero: () => below.canFastZero(),
    canExtents: () => below.canExtents(),
    canFua: () => below.canFua(),
    canMultiConn: () => below.canMultiConn(),
    canCache: () => below.canCache(),
    readAt: (buf, offset) => below.readAt(buf, offset),
    writeAt: (buf, offset, flags) => below.writeAt(buf, offset, flags),
    flush: (flags) => below.flush(flags),
    trim: (count, offset, flags) => below.trim(count, offset, flags),
    zero: (count, offset, flags) => below.zero(count, offset, flags),
    extents: (count, offset, flags, sink) => below.extents(count, offset, flags, sink),
    cache: (count, offset, flags) => below.cache(count, offset, flags),
  };
}
