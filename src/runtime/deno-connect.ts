/**
 * PluginHost.connect on Deno.connect and Deno.connectTls: a client connection read, like a
 * served one, by a StreamChannel (straight into the receiver's buffers), whose close() drops
 * what is queued at once by closing the connection under it.
 */

import type { Accept, Channel, ConnectTarget } from "../io.ts";
import type { DenoApi, DenoConn } from "./deno-api.ts";
import { StreamChannel } from "./stream-channel.ts";
import { abortOnClose } from "./abort-on-close.ts";

export function denoConnect(Deno: DenoApi) {
  return async (target: ConnectTarget, accept: Accept): Promise<Channel> => {
    const { host: hostname, port } = target;
    let conn: DenoConn;
    if (target.tls) {
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
    const shut = () => {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    };
    const stream = new StreamChannel(conn, conn, shut, `${hostname}:${port}`);
    // Closing the connection fails a write under way, and its parts are let go of.
    const channel = abortOnClose(stream, shut);
    stream.start(() => accept(channel));
    return channel;
  };
}
