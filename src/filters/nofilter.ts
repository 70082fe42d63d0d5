/**
 * The nofilter filter (man nbdkit-nofilter-filter): does nothing at all, every call passes
 * straight through; for testing the filter machinery and for scripts that always name a filter.
 */

import type { Filter } from "../api/filter.ts";
import { VERSION } from "../api/version.ts";

export function createNofilterFilter(): Filter {
  return { name: "nofilter", longname: "nbdts nofilter filter", version: VERSION };
}
