/**
 * A built-in filter, configured with its parameters, in front of a RAM disk (ram-plugin.ts),
 * opened for one connection: the server's view (a Backend) and the disk, for unit tests.
 */

import { Backend } from "../../src/backend/backend.ts";
import { applyParams, finishConfiguration } from "../../src/backend/configure.ts";
import { stackFilters } from "../../src/backend/filter-stack.ts";
import type { Filter } from "../../src/api/filter.ts";
import { type Ram, ramPlugin } from "./ram-plugin.ts";

/** `params` are `key=value` strings for the filter; `ram` is the disk below. */
export async function filtered(
  filter: Filter,
  params: readonly string[] = [],
  ram: Ram = ramPlugin(),
): Promise<{ backend: Backend; ram: Ram }> {
  const top = stackFilters([filter], ram.plugin);
  await applyParams(
    top,
    params.map((param) => {
      const [key, ...rest] = param.split("=");
      return { key, value: rest.join("=") };
    }),
  );
  await finishConfiguration(top);
  return { backend: await Backend.open(top, false, ""), ram };
}

/** What a failing call threw or rejected with. */
export async function failure(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error("Expected a failure, but the call succeeded");
}
