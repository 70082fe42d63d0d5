/**
 * One connection through one filter (nbdkit's filter_open, filter_prepare and friends): opens
 * the filter, which opens the layer below through `next`; prepares the layers below and then
 * the filter; and joins the filter's methods with the next layer's into the one Handle the layer
 * above sees. openStack runs a whole stack's open and prepare for the server, and gives the top
 * Handle, whose close finalizes and closes every layer outside in, as nbdkit does.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import type { Filter, FilterHandle, NextHandle } from "../api/filter.ts";
import type { Handle } from "../api/plugin.ts";
import { endLayers, HANDLE_METHODS, type Layer, type OpenClient, type OpenLayer } from "./layer.ts";
import { type NextOf, nextOf } from "./next-handle.ts";

/** Opens `filter`, which has an open callback, over the layers `below` opens. */
export function filterOpener(filter: Filter, below: OpenLayer): OpenLayer {
  return (readonly, exportName, client) => openFilter(filter, below, readonly, exportName, client);
}

async function openFilter(
  filter: Filter,
  below: OpenLayer,
  readonly: boolean,
  exportName: string,
  client: OpenClient,
): Promise<Layer> {
  let lower: Layer | undefined;
  let next: NextOf | undefined;
  const openNext = async (nextReadonly: boolean, nextName: string) => {
    if (lower) throw new Error(`filter "${filter.name}" opened the next layer twice`);
    lower = await below(nextReadonly, nextName, client);
    next = nextOf(lower);
    return next.handle;
  };
  let own: FilterHandle;
  try {
    own = await filter.open!(openNext, readonly, exportName);
    if (typeof own !== "object" || own === null) {
      const what = `filter "${filter.name}" open returned ${String(own)}`;
      throw new NbdError(ERRNO.EINVAL, `${what}, not the methods it overrides`);
    }
  } catch (error) {
    await lower?.close();
    throw error;
  }
  if (lower === undefined && (own.getSize === undefined || own.readAt === undefined)) {
    await own.close?.();
    throw new NbdError(
      ERRNO.EINVAL,
      `filter "${filter.name}" opened no next layer and gave no getSize and readAt of its own`,
    );
  }
  return filterLayer(own, lower, next, readonly);
}

function filterLayer(
  own: FilterHandle,
  lower: Layer | undefined,
  next: NextOf | undefined,
  readonly: boolean,
): Layer {
  let preparing: Promise<void> | undefined;
  let prepared = false;
  let joined: Handle | undefined;
  return {
    readonly,
    prepare: () =>
      preparing ??= (async () => {
        await next?.ready(); // the layers below, inside out, each then asked its capabilities
        await own.prepare?.(readonly);
        prepared = true;
        joined = join(own, next?.handle);
      })(),
    handle: () => joined!,
    async finalize() {
      if (prepared) await own.finalize?.();
      await lower?.finalize();
    },
    async close() {
      try {
        await own.close?.();
      } finally {
        await lower?.close();
      }
    },
  };
}

/** The filter's methods where it gave them, the next layer's elsewhere. */
function join(own: FilterHandle, next: NextHandle | undefined): Handle {
  const joined: Record<string, unknown> = {};
  for (const method of HANDLE_METHODS) {
    const mine = own[method] as ((...args: unknown[]) => unknown) | undefined;
    joined[method] = mine ? mine.bind(own) : next?.[method];
  }
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
 * serves. Its close finalizes every prepared layer, then closes every layer, outside in. If
 * preparing fails, what was prepared is finalized and everything closed before the error goes
 * on (the client may ask for another export).
 */
export async function openStack(
  open: OpenLayer,
  readonly: boolean,
  exportName: string,
  client: OpenClient,
): Promise<Handle> {
  const top = await open(readonly, exportName, client);
  try {
    await top.prepare();
  } catch (error) {
    await endLayers(top).catch(() => {}); // the failure to report is the one above
    throw error;
  }
  return { ...top.handle(), close: () => endLayers(top) };
}
