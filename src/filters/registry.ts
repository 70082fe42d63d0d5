/** The built-in filters by name (`--filter=NAME`), each a factory giving a fresh filter. */

import type { Filter } from "../api/filter.ts";
import { createBlocksizeFilter } from "./blocksize.ts";
import { createBlocksizePolicyFilter } from "./blocksize-policy.ts";
import { createCheckwriteFilter } from "./checkwrite.ts";
import { createIpFilter } from "./ip.ts";
import { createLimitFilter } from "./limit.ts";
import { createOffsetFilter } from "./offset.ts";
import { createPartitionFilter } from "./partition/partition.ts";
import { createProtectFilter } from "./protect.ts";
import { createReadaheadFilter } from "./readahead.ts";
import { createScanFilter } from "./scan.ts";
import { createSwabFilter } from "./swab.ts";
import { createTruncateFilter } from "./truncate.ts";

export const BUILTIN_FILTERS: Readonly<Record<string, () => Filter>> = {
  blocksize: createBlocksizeFilter,
  "blocksize-policy": createBlocksizePolicyFilter,
  checkwrite: createCheckwriteFilter,
  ip: createIpFilter,
  limit: createLimitFilter,
  offset: createOffsetFilter,
  partition: createPartitionFilter,
  protect: createProtectFilter,
  readahead: createReadaheadFilter,
  scan: createScanFilter,
  swab: createSwabFilter,
  truncate: createTruncateFilter,
};
