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
  /** Prepares the layers below, then this one; the first call does it, later ones wait for it. */
  prepare(): Promise<void>;
  /** The layer as the one above calls it, once prepared; unchecked until a Backend reads it. */
  handle(): Handle;
  /** This layer's finalize (if it was prepared), then the layers below; a throw stops there. */
  finalize(): Promise<void>;
  /** This layer's close, then the layers below, whatever fails. */
  close(): Promise<void>;
}

/** What a plugin's open learns of the client: TLS in use, and where it connects from. */
export interface OpenClient {
  readonly tls: boolean;
  readonly peer?: PeerAddress;
}

/** A client nothing is known of (embedders, tests): no TLS, no address. */
export const UNKNOWN_CLIENT: OpenClient = { tls: false };

/**
 * Opens a layer, and whatever is below it, for one connection (nbdkit's backend_open); `client`
 * goes down to the plugin.
 */
export type OpenLayer = (
  readonly: boolean,
  exportName: string,
  client: OpenClient,
) => Promise<Layer>;

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
  return async (readonly, exportName, client) => {
    const opened = await plugin.open(readonly, exportName, client.tls, client.peer);
    let closed = false;
    return {
      readonly,
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
