/** The built-in filters by name (`--filter=NAME`), each a factory giving a fresh filter. */

import type { Filter } from "../api/filter.ts";
import type { PluginHost } from "../io.ts";
import { createBlocksizePolicyFilter } from "./blocksize-policy.ts";
import { createBlocksizeFilter } from "./blocksize.ts";
import { createCheckwriteFilter } from "./checkwrite.ts";
import { createDelayFilter } from "./delay.ts";
import { createErrorFilter } from "./error.ts";
import { createExitlastFilter } from "./exitlast.ts";
import { createExitwhenFilter } from "./exitwhen.ts";
import { createExportnameFilter } from "./exportname.ts";
import { createFuaFilter } from "./fua.ts";
import { createIpFilter } from "./ip.ts";
import { createLimitFilter } from "./limit.ts";
import { createLogFilter } from "./log.ts";
import { createNocacheFilter } from "./nocache.ts";
import { createNoextentsFilter } from "./noextents.ts";
import { createNofilterFilter } from "./nofilter.ts";
import { createNoparallelFilter } from "./noparallel.ts";
import { createNozeroFilter } from "./nozero.ts";
import { createOffsetFilter } from "./offset.ts";
import { createPartitionFilter } from "./partition/partition.ts";
import { createProtectFilter } from "./protect.ts";
import { createReadaheadFilter } from "./readahead.ts";
import { createReadonlyFilter } from "./readonly.ts";
import { createRotationalFilter } from "./rotational.ts";
import { createScanFilter } from "./scan.ts";
import { createSwabFilter } from "./swab.ts";
import { createTruncateFilter } from "./truncate.ts";

/** Filters that check files or run commands get the runtime's PluginHost (as plugins do). */
export const BUILTIN_FILTERS: Readonly<Record<string, (host?: PluginHost) => Filter>> = {
  blocksize: createBlocksizeFilter,
  "blocksize-policy": createBlocksizePolicyFilter,
  checkwrite: createCheckwriteFilter,
  delay: createDelayFilter,
  error: (host) => createErrorFilter(host),
  exitlast: createExitlastFilter,
  exitwhen: (host) => createExitwhenFilter(host),
  exportname: (host) => createExportnameFilter(host),
  fua: createFuaFilter,
  ip: createIpFilter,
  limit: createLimitFilter,
  log: (host) => createLogFilter(host),
  nocache: createNocacheFilter,
  noextents: createNoextentsFilter,
  nofilter: createNofilterFilter,
  noparallel: createNoparallelFilter,
  nozero: createNozeroFilter,
  offset: createOffsetFilter,
  partition: createPartitionFilter,
  protect: createProtectFilter,
  readahead: createReadaheadFilter,
  readonly: (host) => createReadonlyFilter(host),
  rotational: createRotationalFilter,
  scan: createScanFilter,
  swab: createSwabFilter,
  truncate: createTruncateFilter,
};
