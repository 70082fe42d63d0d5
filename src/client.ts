/**
 * The entry of the NBD client (`nbdts/client`; also in the edge bundle): connect by URI,
 * negotiate, then pread, pwrite, zero, trim, flush, cache and blockStatus with the spec's
 * command flags. Here nbd+ws URIs work wherever a WebSocket class exists; TCP and Unix sockets
 * need a Connect, which the runtime entry (src/runtime/client-sockets.ts) supplies on each
 * server runtime.
 * @module
 */

export { connect, type ConnectOptions, list } from "./client/connect.ts";
export { type BlockSizes, type BlockStatusExtent, NbdClient } from "./client/client.ts";
export { ConnectionClosedError, HandshakeError } from "./client/errors.ts";
export { type NbdTarget, parseNbdUri, type UriTls } from "./client/uri.ts";
export { loadClientCredentials, type ReadFile } from "./client/tls-files.ts";
export {
  type ClientWebSocket,
  connectWebSocket,
  type WebSocketClass,
} from "./client/websocket-transport.ts";
export type { ListedExport } from "./protocol/client-messages.ts";
export { CMD_FLAG, STATE, TX_FLAG } from "./protocol/constants.ts";
export { ERRNO, type Errno, NbdError } from "./api/errors.ts";
export type { Offset } from "./api/plugin.ts";
export type { ClientTlsCredentials, Connect, ConnectTarget } from "./io.ts";
