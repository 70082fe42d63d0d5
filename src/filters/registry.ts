/**
 * The built-in filters by name (`--filter=NAME`), each a factory giving a fresh filter; those
 * that read files get them from the runtime's PluginHost.
 */

import type { Filter } from "../api/filter.ts";
import type { PluginHost } from "../io.ts";
import { createCacheFilter } from "./cache/cache.ts";
import { createCacheextentsFilter } from "./cacheextents.ts";
import { createCheckwriteFilter } from "./checkwrite.ts";
import { createCowFilter } from "./cow/cow.ts";
import { createExtentlistFilter } from "./extentlist/extentlist.ts";
import { createIpFilter } from "./ip.ts";
import { createLimitFilter } from "./limit.ts";
import { createOffsetFilter } from "./offset.ts";
import { createPartitionFilter } from "./partition/partition.ts";
import { createProtectFilter } from "./protect.ts";
import { createSwabFilter } from "./swab.ts";
import { createTruncateFilter } from "./truncate.ts";

export const BUILTIN_FILTERS: Readonly<Record<string, (host?: PluginHost) => Filter>> = {
  cache: createCacheFilter,
  cacheextents: createCacheextentsFilter,
  checkwrite: createCheckwriteFilter,
  cow: createCowFilter,
  extentlist: createExtentlistFilter,
  ip: createIpFilter,
  limit: createLimitFilter,
  offset: createOffsetFilter,
  partition: createPartitionFilter,
  protect: createProtectFilter,
  swab: createSwabFilter,
  truncate: createTruncateFilter,
};
