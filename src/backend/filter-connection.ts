/**
 * One connection through one filter (nbdkit's filter_open, filter_prepare and friends): opens
 * the filter, which opens the layer below through `next`; prepares the layers below and then
 * the filter; and joins the filter's methods with the next layer's into the one Handle the layer
 * above sees. openStack runs a whole stack's open and prepare for the server, and gives the top
 * Handle, whose close finalizes and closes every layer outside in, as nbdkit does.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import type { Filter, FilterHandle, NextHandle } from "../api/filter.ts";
import type { Handle, PeerAddress } from "../api/plugin.ts";
import {
  endLayers,
  FinalizeError,
  HANDLE_METHODS,
  type Layer,
  type OpenLayer,
  type StackHandle,
} from "./layer.ts";
import { type NextOf, nextOf } from "./next-handle.ts";

/** Opens `filter`, which has an open callback, over the layers `below` opens. */
export function filterOpener(filter: Filter, below: OpenLayer): OpenLayer {
  return (readonly, exportName, tls, peer) =>
    openFilter(filter, below, { readonly, exportName, tls, peer });
}

/** What a connection opens a layer with. */
interface OpenRequest {
  readonly readonly: boolean;
  readonly exportName: string;
  readonly tls: boolean;
  readonly peer?: PeerAddress;
}

/**
 * The layer below one filter's connection: set by the filter's first `next`, replaced by its
 * `reopen`, left empty by a reopen that failed.
 */
interface Below {
  layer: Layer | undefined;
  next: NextOf | undefined;
}

async function openFilter(filter: Filter, below: OpenLayer, request: OpenRequest): Promise<Layer> {
  const { readonly, exportName, tls, peer } = request;
  const lower: Below = { layer: undefined, next: undefined };
  let opened = false;
  const openNext = async (nextReadonly: boolean, nextName: string) => {
    if (opened) throw new Error(`filter "${filter.name}" opened the next layer twice`);
    lower.layer = await below(nextReadonly, nextName, tls, peer);
    opened = true;
    lower.next = nextOf(lower.layer);
    return lower.next.handle;
  };
  const made: { layer?: FilterLayer } = {};
  const reopen = async (nextReadonly: boolean, nextName: string) => {
    if (made.layer === undefined || !opened) {
      throw new Error(`filter "${filter.name}" reopened the next layer before it was prepared`);
    }
    return await made.layer.reopen(() => below(nextReadonly, nextName, tls, peer));
  };
  const openDetached = async (nextReadonly: boolean, nextName: string) => {
    const layer = await below(nextReadonly, nextName, tls, peer);
    const next = nextOf(layer);
    try {
      await next.ready();
    } catch (error) {
      await endLayers(layer).catch(() => {}); // the failure to report is the one above
      throw error;
    }
    return { handle: next.handle, close: () => endLayers(layer) };
  };
  let own: FilterHandle;
  try {
    own = await filter.open!(openNext, readonly, exportName, tls, { reopen, openDetached });
    if (typeof own !== "object" || own === null) {
      const what = `filter "${filter.name}" open returned ${String(own)}`;
      throw new NbdError(ERRNO.EINVAL, `${what}, not the methods it overrides`);
    }
  } catch (error) {
    await lower.layer?.close();
    throw error;
  }
  if (lower.layer === undefined && (own.getSize === undefined || own.readAt === undefined)) {
    await own.close?.();
    throw new NbdError(
      ERRNO.EINVAL,
      `filter "${filter.name}" opened no next layer and gave no getSize and readAt of its own`,
    );
  }
  made.layer = filterLayer(own, lower, readonly);
  return made.layer;
}

/** A filter's layer, which can also replace the layer below it (NextReopen). */
interface FilterLayer extends Layer {
  reopen(open: () => Promise<Layer>): Promise<NextHandle>;
}

function filterLayer(own: FilterHandle, lower: Below, readonly: boolean): FilterLayer {
  let preparing: Promise<void> | undefined;
  let prepared = false;
  let joined: Handle | undefined;
  return {
    readonly,
    filter: true,
    prepare: () =>
      preparing ??= (async () => {
        await lower.next?.ready(); // the layers below, inside out, each then asked its capabilities
        await own.prepare?.(readonly);
        prepared = true;
        joined = join(own, lower.next?.handle);
      })(),
    handle: () => joined!,
    async finalize() {
      if (prepared) await own.finalize?.();
      await lower.layer?.finalize();
    },
    async close() {
      try {
        await own.close?.();
      } finally {
        await lower.layer?.close();
      }
    },
    async reopen(open) {
      if (!prepared) throw new Error("the next layer was reopened before the filter was prepared");
      const old = lower.layer;
      lower.layer = lower.next = undefined;
      try {
        await old?.finalize();
      } finally {
        await old?.close();
      }
      const fresh = await open();
      const next = nextOf(fresh);
      try {
        await next.ready();
      } catch (error) {
        await endLayers(fresh).catch(() => {}); // the failure to report is the one above
        throw error;
      }
      lower.layer = fresh;
      lower.next = next;
      // What the filter passes through now goes to the new layer; the rest is its own.
      Object.assign(joined!, join(own, next.handle));
      return next.handle;
    },
  };
}

/** The methods whose count may pass 2^32 - 1 for a handle that opts in (Handle.largeCounts). */
const LARGE_COUNT_METHODS = ["zero", "trim", "cache", "extents"] as const;

/** The filter's methods where it gave them, the next layer's elsewhere. */
function join(own: FilterHandle, next: NextHandle | undefined): Handle {
  const joined: Record<string, unknown> = {};
  for (const method of HANDLE_METHODS) {
    const mine = own[method] as ((...args: unknown[]) => unknown) | undefined;
    joined[method] = mine ? mine.bind(own) : next?.[method];
  }
  // A count the filter's own zero, trim, cache or extents would get must fit it; the layer
  // below's (a NextHandle) splits counts for that layer itself, so passing through takes any.
  joined.largeCounts = own.largeCounts === true ||
    !LARGE_COUNT_METHODS.some((method) => own[method] !== undefined);
  // The filter's own bytes only: the layer below lends none through a NextHandle.
  if (own.readViews) joined.readViews = own.readViews.bind(own);
  // Passed through (left out, or the NextHandle's own), canZero keeps the layer below's mode:
  // its boolean would turn NONE into EMULATE.
  if (next && (own.canZero === undefined || own.canZero === next.canZero)) {
    joined.canZero = next.zeroMode;
  }
  return joined as unknown as Handle;
}

/**
 * Opens the stack `open` makes for one connection and prepares it: the Handle the server
 * serves. Its finalize (StackHandle) finalizes every prepared layer, outside in, and its close
 * does so too unless done already, then closes every layer, outside in; a failed finalize
 * throws FinalizeError, once. If preparing fails, what was prepared is finalized and everything
 * closed before the error goes on (the client may ask for another export).
 */
export async function openStack(
  open: OpenLayer,
  readonly: boolean,
  exportName: string,
  tls: boolean,
  peer?: PeerAddress,
): Promise<StackHandle> {
  const top = await open(readonly, exportName, tls, peer);
  try {
    await top.prepare();
  } catch (error) {
    await endLayers(top).catch(() => {}); // the failure to report is the one above
    throw error;
  }
  let finalizing: Promise<void> | undefined;
  const finalize = () =>
    finalizing ??= top.finalize().catch((error) => {
      throw new FinalizeError(error);
    });
  return {
    ...top.handle(),
    finalize,
    async close() {
      const reported = finalizing !== undefined; // its failure went to whoever finalized
      try {
        await finalize();
      } catch (error) {
        if (!reported) throw error;
      } finally {
        await top.close();
      }
    },
  };
}
