/** The built-in filters by name (`--filter=NAME`), each a factory giving a fresh filter. */

import type { Filter } from "../api/filter.ts";
import { createIpFilter } from "./ip.ts";
import { createLimitFilter } from "./limit.ts";

export const BUILTIN_FILTERS: Readonly<Record<string, () => Filter>> = {
  ip: createIpFilter,
  limit: createLimitFilter,
};
