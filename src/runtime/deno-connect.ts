/**
 * PluginHost.connect on Deno: TCP and TLS on Deno.connect and Deno.connectTls, read like a
 * served connection by a StreamChannel (straight into the receiver's buffers); abort() closes
 * the connection under it. Anything else (Unix sockets, STARTTLS, WebSockets) goes to `others`.
 */

import type { Connect } from "../io.ts";
import type { DenoApi, DenoConn } from "./deno-api.ts";
import { StreamChannel } from "./stream-channel.ts";
import { withAbort } from "./with-abort.ts";

export function denoConnect(Deno: DenoApi, others: Connect): Connect {
  return async (target, receiver) => {
    // STARTTLS wraps the socket in node:tls mid-stream, which node-connect.ts does.
    if (target.kind !== "tcp" || target.tls === "starttls") return others(target, receiver);
    const { host: hostname, port } = target;
    let conn: DenoConn;
    try {
      if (target.tls === "now") {
        const tls = await Deno.connectTls({ hostname, port });
        await tls.handshake().catch((error) => {
          tls.close();
          throw error;
        });
        conn = tls;
      } else {
        conn = await Deno.connect({ transport: "tcp", hostname, port });
        conn.setNoDelay?.(true);
      }
    } catch (error) {
      throw new Error(`Cannot connect to ${hostname}:${port}: ${(error as Error).message}`);
    }
    const shut = () => {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    };
    const stream = new StreamChannel(conn, conn, shut, `${hostname}:${port}`);
    stream.start(() => receiver);
    // Closing the connection fails a write under way, and its parts are let go of.
    return withAbort(stream, shut);
  };
}
