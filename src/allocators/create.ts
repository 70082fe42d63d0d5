/**
 * Turns an allocator= parameter ("sparse", "malloc", "malloc,mlock=false" …) into an Allocator,
 * as nbdkit's create_allocator parses "type[,key=value…]"; unsupported choices are ConfigErrors.
 */

import { parseBool } from "../api/parse.ts";
import { ConfigError } from "../api/errors.ts";
import type { Allocator } from "./allocator.ts";
import { createMallocAllocator } from "./malloc.ts";
import { createSparseAllocator } from "./sparse.ts";

export function createAllocator(spec: string, size: bigint): Allocator {
  const [type, ...rest] = spec.split(",");
  const params = parseParameters(rest);
  switch (type) {
    case "sparse":
      if (params.length > 0) {
        throw new ConfigError("allocator=sparse does not take extra parameters");
      }
      return createSparseAllocator(size);
    case "malloc":
      for (const [key, value] of params) {
        if (key !== "mlock") throw new ConfigError(`allocator=malloc: unknown parameter ${key}`);
        if (parseBool(value)) {
          throw new ConfigError("allocator=malloc: mlock is not supported by nbdts");
        }
      }
      return createMallocAllocator(size);
    case "zstd":
      throw new ConfigError("allocator=zstd is not supported by nbdts: use allocator=sparse");
    default:
      throw new ConfigError(`unknown allocator "${spec}"`);
  }
}

/** "key=value" pairs; a bare "key" means key=1 and empty items are skipped, as in nbdkit. */
function parseParameters(items: string[]): [string, string][] {
  const params: [string, string][] = [];
  for (const item of items) {
    if (item === "") continue;
    const equals = item.indexOf("=");
    if (equals === 0) throw new ConfigError(`invalid allocator parameter "${item}"`);
    params.push(equals < 0 ? [item, "1"] : [item.slice(0, equals), item.slice(equals + 1)]);
  }
  return params;
}
