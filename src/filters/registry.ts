/**
 * The built-in filters by name (`--filter=NAME`), each a loader of its factory: a filter's
 * module is imported only when the command line names it.
 */

import type { Filter } from "../api/filter.ts";

/** Imports a filter's module and answers the factory that makes a fresh filter. */
export type FilterLoader = () => Promise<() => Filter>;

export const BUILTIN_FILTERS: Readonly<Record<string, FilterLoader>> = {
  checkwrite: async () => (await import("./checkwrite.ts")).createCheckwriteFilter,
  ip: async () => (await import("./ip.ts")).createIpFilter,
  limit: async () => (await import("./limit.ts")).createLimitFilter,
  offset: async () => (await import("./offset.ts")).createOffsetFilter,
  partition: async () => (await import("./partition/partition.ts")).createPartitionFilter,
  protect: async () => (await import("./protect.ts")).createProtectFilter,
  swab: async () => (await import("./swab.ts")).createSwabFilter,
  truncate: async () => (await import("./truncate.ts")).createTruncateFilter,
};
