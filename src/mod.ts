/**
 * The public API of nbdts: the plugin interface and its constants, the errors a plugin throws,
 * the helpers for parsing its parameters, and the server pieces for embedding.
 * @module
 */

export * from "./plugin.ts";
export { ConfigError, ERRNO, type Errno, NbdError } from "./errors.ts";
export { parseBool, parseSize, toOffset } from "./cli/parse.ts";
export type { Accept, Channel, Listener, Receiver, Runtime } from "./io.ts";
export { ServerContext } from "./context.ts";
export { Server } from "./server.ts";
export { Log } from "./log.ts";
export { main } from "./main.ts";
export {
  type ByteStream,
  createServer,
  type EmbedOptions,
  serveStream,
  serveWebSocket,
  type WebSocketLike,
} from "./embed.ts";
export { createMemoryPlugin } from "./plugins/memory.ts";
export { createNullPlugin } from "./plugins/null.ts";
export { createPatternPlugin } from "./plugins/pattern.ts";
export { VERSION } from "./version.ts";
