/**
 * The entry of the edge bundle (build/nbdts-edge.js): everything needed to serve NBD where
 * there is no file system, no process and no listening socket — a Worker-style fetch handler,
 * a browser, an embedded program. Bytes arrive as a Web Streams pair or a WebSocket.
 * @module
 */

export * from "./api/plugin.ts";
export {
  type DetachedNext,
  type Filter,
  type FilterHandle,
  type FilterModule,
  type NextContext,
  type NextHandle,
  type NextOpen,
  type NextReopen,
  ZERO_MODE,
  type ZeroMode,
} from "./api/filter.ts";
export { type Extent, Extents } from "./api/extents.ts";
export { extentsAligned, extentsFull } from "./api/filter-extents.ts";
export { extentsMoved, moveErrorOffset, readMoved } from "./api/filter-offsets.ts";
export { afterwards, isThenable } from "./api/maybe-promise.ts";
export { addOffset, bytesBefore, compareOffsets, subtractOffset } from "./api/offset.ts";
export { isAllZero } from "./api/zero.ts";
export { stackFilters } from "./backend/filter-stack.ts";
export { createBlocksizePolicyFilter } from "./filters/blocksize-policy.ts";
export { createBlocksizeFilter } from "./filters/blocksize.ts";
export { createCacheFilter } from "./filters/cache/cache.ts";
export { createCacheextentsFilter } from "./filters/cacheextents.ts";
export { createCheckwriteFilter } from "./filters/checkwrite.ts";
export { createCountFilter } from "./filters/count.ts";
export { createCowFilter } from "./filters/cow/cow.ts";
export { createDelayFilter } from "./filters/delay.ts";
export { createErrorFilter } from "./filters/error.ts";
export { createEvilFilter } from "./filters/evil.ts";
export { createExportnameFilter } from "./filters/exportname.ts";
export { createExtentlistFilter } from "./filters/extentlist/extentlist.ts";
export { createFuaFilter } from "./filters/fua.ts";
export { createIpFilter } from "./filters/ip.ts";
export { createLimitFilter } from "./filters/limit.ts";
export type { LogDestination, LogSocket } from "./filters/log-destination.ts";
export { createLogFilter, type LogFilterOptions } from "./filters/log.ts";
export { createLuksFilter } from "./filters/luks/luks.ts";
export { createMultiConnFilter } from "./filters/multi-conn.ts";
export { createNocacheFilter } from "./filters/nocache.ts";
export { createNoextentsFilter } from "./filters/noextents.ts";
export { createNofilterFilter } from "./filters/nofilter.ts";
export { createNoparallelFilter } from "./filters/noparallel.ts";
export { createNozeroFilter } from "./filters/nozero.ts";
export { createOffsetFilter } from "./filters/offset.ts";
export { createOpenonceFilter } from "./filters/openonce.ts";
export { createPartitionFilter } from "./filters/partition/partition.ts";
export { createProtectFilter } from "./filters/protect.ts";
export { createRateFilter } from "./filters/rate.ts";
export { createReadaheadFilter } from "./filters/readahead.ts";
export { createReadonlyFilter } from "./filters/readonly.ts";
export { createRetryRequestFilter } from "./filters/retry-request.ts";
export { createRetryFilter } from "./filters/retry.ts";
export { createRotationalFilter } from "./filters/rotational.ts";
export { createScanFilter } from "./filters/scan.ts";
export { createSpinningFilter } from "./filters/spinning.ts";
export { createStatsFilter } from "./filters/stats.ts";
export { createSwabFilter } from "./filters/swab.ts";
export { createTimeLimitFilter } from "./filters/time-limit.ts";
export { createTlsFallbackFilter } from "./filters/tls-fallback.ts";
export { createTruncateFilter } from "./filters/truncate.ts";
export { ConfigError, DisconnectError, ERRNO, type Errno, NbdError } from "./api/errors.ts";
export { debug } from "./api/debug.ts";
export { logError } from "./api/error-log.ts";
export { routeShutdown, shutdown } from "./api/shutdown.ts";
export { parseBool, parseSize, toOffset } from "./api/parse.ts";
export {
  type ByteStream,
  createServer,
  type EmbedOptions,
  serveStream,
  serveWebSocket,
  type WebSocketLike,
  type WebSocketServeOptions,
} from "./embed/serve.ts";
export { refuseUpgrade, type UpgradePolicy, upgradeRefusal } from "./embed/upgrade-policy.ts";
export type { Server } from "./connection/server.ts";
export type { Timers } from "./io.ts";
export { webTimers } from "./connection/timers.ts";
export { createCurlPlugin } from "./plugins/curl.ts";
export { createMemoryPlugin } from "./plugins/memory.ts";
export { createNullPlugin } from "./plugins/null.ts";
export { createPatternPlugin } from "./plugins/pattern.ts";
export { createDataPlugin } from "./plugins/data.ts";
export { createRandomPlugin } from "./plugins/random.ts";
export { createSparseRandomPlugin } from "./plugins/sparse-random.ts";
export { VERSION } from "./api/version.ts";
// The NBD client: nbd+ws URIs through the global WebSocket, anything else through a Connect.
export {
  type BlockSizes,
  type BlockStatusExtent,
  type ClientWebSocket,
  CMD_FLAG,
  type Connect,
  connect,
  ConnectionClosedError,
  type ConnectOptions,
  type ConnectTarget,
  HandshakeError,
  list,
  type ListedExport,
  NbdClient,
  type NbdTarget,
  parseNbdUri,
  STATE,
  TX_FLAG,
  type WebSocketClass,
} from "./client.ts";
