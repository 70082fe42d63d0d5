/**
 * The built-in filters by name (`--filter=NAME`), each a factory giving a fresh filter; those
 * that read files get them from the runtime's PluginHost.
 */

import type { Filter } from "../api/filter.ts";
import type { PluginHost } from "../io.ts";
import { createBlocksizeFilter } from "./blocksize.ts";
import { createBlocksizePolicyFilter } from "./blocksize-policy.ts";
import { createCacheFilter } from "./cache/cache.ts";
import { createCacheextentsFilter } from "./cacheextents.ts";
import { createCheckwriteFilter } from "./checkwrite.ts";
import { createCowFilter } from "./cow/cow.ts";
import { createExtentlistFilter } from "./extentlist/extentlist.ts";
import { createGzipFilter } from "./gzip.ts";
import { createIpFilter } from "./ip.ts";
import { createLimitFilter } from "./limit.ts";
import { createLuksFilter } from "./luks/luks.ts";
import { createOffsetFilter } from "./offset.ts";
import { createPartitionFilter } from "./partition/partition.ts";
import { createProtectFilter } from "./protect.ts";
import { createReadaheadFilter } from "./readahead.ts";
import { createScanFilter } from "./scan.ts";
import { createSwabFilter } from "./swab.ts";
import { createTarFilter } from "./tar.ts";
import { createTruncateFilter } from "./truncate.ts";
import { createXzFilter } from "./xz.ts";

/** Filters that keep files (gzip's expansion, cow's and cache's overlays) or check paths get the
 * runtime's PluginHost. */
export const BUILTIN_FILTERS: Readonly<Record<string, (host?: PluginHost) => Filter>> = {
  blocksize: createBlocksizeFilter,
  "blocksize-policy": createBlocksizePolicyFilter,
  cache: createCacheFilter,
  cacheextents: createCacheextentsFilter,
  checkwrite: createCheckwriteFilter,
  cow: createCowFilter,
  extentlist: createExtentlistFilter,
  gzip: createGzipFilter,
  ip: createIpFilter,
  limit: createLimitFilter,
  luks: createLuksFilter,
  offset: createOffsetFilter,
  partition: createPartitionFilter,
  protect: createProtectFilter,
  readahead: createReadaheadFilter,
  scan: createScanFilter,
  swab: createSwabFilter,
  tar: createTarFilter,
  truncate: createTruncateFilter,
  xz: createXzFilter,
};
