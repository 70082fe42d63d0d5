/**
 * The public API of nbdts: everything the edge bundle has (the plugin interface, its errors and
 * parameter parsers, built-in plugins, serving Web Streams and WebSockets), plus what a program
 * needs to run the server itself on a runtime: main(), the runtime contract, the Server.
 * @module
 */

export * from "./edge.ts";
export type { Accept, Channel, Listener, PluginHost, Receiver, Runtime } from "./io.ts";
export { ServerContext } from "./connection/context.ts";
export { Server } from "./connection/server.ts";
export { Log } from "./api/log.ts";
export { main } from "./main.ts";
