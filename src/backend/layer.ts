/**
 * One layer of one connection's stack (nbdkit's struct context): the plugin's handle, or a
 * filter over the layer below it. A layer is opened, then prepared (the layers below first),
 * then served through its handle; at the end it is finalized and closed, each outside in. This
 * file holds the contract and the plugin's layer; filter-connection.ts makes a filter's.
 */

import type { Handle, PeerAddress, Plugin } from "../api/plugin.ts";

/** Every Handle method a layer passes on, close aside: the layers close themselves. */
export const HANDLE_METHODS = [
  "getSize",
  "readAt",
  "writeAt",
  "zero",
  "trim",
  "flush",
  "cache",
  "extents",
  "canWrite",
  "canFlush",
  "canFua",
  "canTrim",
  "canZero",
  "canFastZero",
  "canExtents",
  "canMultiConn",
  "canCache",
  "isRotational",
  "exportDescription",
  "blockSize",
] as const satisfies readonly (keyof Handle)[];

export interface Layer {
  /** What the layer was opened with: a read-only layer is never asked about writes. */
  readonly readonly: boolean;
  /** A filter's layer (FUA passes to it as sent), or the plugin's (Backend.passesFua). */
  readonly filter: boolean;
  /** Prepares the layers below, then this one; the first call does it, later ones wait for it. */
  prepare(): Promise<void>;
  /** The layer as the one above calls it, once prepared; unchecked until a Backend reads it. */
  handle(): Handle;
  /** This layer's finalize (if it was prepared), then the layers below; a throw stops there. */
  finalize(): Promise<void>;
  /** This layer's close, then the layers below, whatever fails. */
  close(): Promise<void>;
}

/**
 * Opens a layer, and whatever is below it, for one connection (nbdkit's backend_open); `tls`
 * says whether the connection runs over TLS, `peer` where the client connects from (both go
 * down to the plugin's open).
 */
export type OpenLayer = (
  readonly: boolean,
  exportName: string,
  tls: boolean,
  peer?: PeerAddress,
) => Promise<Layer>;

/**
 * The Handle of a stack of layers (filter-connection.ts): finalize runs every layer's finalize
 * apart from close, so the server can do it while the client is still connected, as nbdkit does.
 */
export interface StackHandle extends Handle {
  finalize(): Promise<void>;
}

/** Whether `handle` is a stack's top, which openStack made (no plugin has a finalize). */
export function isStackHandle(handle: Handle): handle is StackHandle {
  return typeof (handle as Partial<StackHandle>).finalize === "function";
}

/** A finalize failed: nbdkit then disconnects the client (its .finalize contract). */
export class FinalizeError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "FinalizeError";
  }
}

const DONE: Promise<void> = Promise.resolve();

/** The plugin as the bottom layer: open() is the plugin's; it has nothing to prepare. */
export function pluginOpener(plugin: Plugin): OpenLayer {
  return async (readonly, exportName, tls, peer) => {
    const opened = await plugin.open(readonly, exportName, tls, peer);
    let closed = false;
    return {
      readonly,
      filter: false,
      prepare: () => DONE,
      handle: () => opened,
      finalize: () => DONE,
      async close() {
        if (closed) return;
        closed = true;
        // open() may have given something that is not a handle at all: Backend.read says so.
        await (opened as Partial<Handle> | null | undefined)?.close?.();
      },
    };
  };
}

/** Finalizes, then closes, a whole stack from its top layer. */
export async function endLayers(top: Layer): Promise<void> {
  try {
    await top.finalize();
  } catch (error) {
    throw new FinalizeError(error);
  } finally {
    await top.close();
  }
}
