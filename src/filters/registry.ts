/**
 * The built-in filters by name (`--filter=NAME`), each a loader of its factory: a filter's
 * module is imported only when the command line names it. Filters that keep files (gzip's
 * expansion), check paths or run commands (error, log, exitwhen) get them from the runtime's
 * PluginHost.
 */

import type { Filter } from "../api/filter.ts";
import type { PluginHost } from "../io.ts";

/** Imports a filter's module and answers the factory that makes a fresh filter. */
export type FilterLoader = () => Promise<(host?: PluginHost) => Filter>;

export const BUILTIN_FILTERS: Readonly<Record<string, FilterLoader>> = {
  blocksize: async () => (await import("./blocksize.ts")).createBlocksizeFilter,
  "blocksize-policy": async () =>
    (await import("./blocksize-policy.ts")).createBlocksizePolicyFilter,
  cache: async () => (await import("./cache/cache.ts")).createCacheFilter,
  cacheextents: async () => (await import("./cacheextents.ts")).createCacheextentsFilter,
  checkwrite: async () => (await import("./checkwrite.ts")).createCheckwriteFilter,
  count: async () => (await import("./count.ts")).createCountFilter,
  cow: async () => (await import("./cow/cow.ts")).createCowFilter,
  ddrescue: async () => (await import("./ddrescue.ts")).createDdrescueFilter,
  delay: async () => (await import("./delay.ts")).createDelayFilter,
  error: async () => (await import("./error.ts")).createErrorFilter,
  evil: async () => (await import("./evil.ts")).createEvilFilter,
  exitlast: async () => (await import("./exitlast.ts")).createExitlastFilter,
  exitwhen: async () => (await import("./exitwhen.ts")).createExitwhenFilter,
  exportname: async () => (await import("./exportname.ts")).createExportnameFilter,
  extentlist: async () => (await import("./extentlist/extentlist.ts")).createExtentlistFilter,
  fua: async () => (await import("./fua.ts")).createFuaFilter,
  gzip: async () => (await import("./gzip.ts")).createGzipFilter,
  ip: async () => (await import("./ip.ts")).createIpFilter,
  limit: async () => (await import("./limit.ts")).createLimitFilter,
  log: async () => {
    const { createLogFilter } = await import("./log.ts");
    return (host) => createLogFilter({ host });
  },
  luks: async () => (await import("./luks/luks.ts")).createLuksFilter,
  "multi-conn": async () => (await import("./multi-conn.ts")).createMultiConnFilter,
  nocache: async () => (await import("./nocache.ts")).createNocacheFilter,
  noextents: async () => (await import("./noextents.ts")).createNoextentsFilter,
  nofilter: async () => (await import("./nofilter.ts")).createNofilterFilter,
  noparallel: async () => (await import("./noparallel.ts")).createNoparallelFilter,
  nozero: async () => (await import("./nozero.ts")).createNozeroFilter,
  offset: async () => (await import("./offset.ts")).createOffsetFilter,
  openonce: async () => (await import("./openonce.ts")).createOpenonceFilter,
  partition: async () => (await import("./partition/partition.ts")).createPartitionFilter,
  pause: async () => (await import("./pause.ts")).createPauseFilter,
  protect: async () => (await import("./protect.ts")).createProtectFilter,
  rate: async () => (await import("./rate.ts")).createRateFilter,
  readahead: async () => (await import("./readahead.ts")).createReadaheadFilter,
  readonly: async () => (await import("./readonly.ts")).createReadonlyFilter,
  retry: async () => (await import("./retry.ts")).createRetryFilter,
  "retry-request": async () => (await import("./retry-request.ts")).createRetryRequestFilter,
  rotational: async () => (await import("./rotational.ts")).createRotationalFilter,
  scan: async () => (await import("./scan.ts")).createScanFilter,
  spinning: async () => (await import("./spinning.ts")).createSpinningFilter,
  stats: async () => (await import("./stats.ts")).createStatsFilter,
  swab: async () => (await import("./swab.ts")).createSwabFilter,
  tar: async () => (await import("./tar.ts")).createTarFilter,
  "time-limit": async () => (await import("./time-limit.ts")).createTimeLimitFilter,
  "tls-fallback": async () => (await import("./tls-fallback.ts")).createTlsFallbackFilter,
  truncate: async () => (await import("./truncate.ts")).createTruncateFilter,
  xz: async () => (await import("./xz.ts")).createXzFilter,
};
