/**
 * A client connection's Channel for PluginHost.connect: the runtime's own Channel, except that
 * close() also drops what is still queued at once, so a request that timed out never waits on a
 * server that stopped reading. It knows nothing of any runtime.
 */

import type { Channel } from "../io.ts";

/** `channel`, whose close() then calls `abort` (close the socket under it, now). */
export function abortOnClose(channel: Channel, abort: () => void): Channel {
  return {
    peer: channel.peer,
    address: channel.address,
    confirmsWrites: channel.confirmsWrites,
    write: (parts, written) => channel.write(parts, written),
    pause: () => channel.pause(),
    resume: () => channel.resume(),
    close() {
      channel.close();
      abort();
    },
  };
}
