/**
 * A client connection's Channel (PluginHost.connect) from a runtime's own: the same calls, and
 * abort(), which closes it and drops what is still queued at once (`shut` closes the socket
 * under it). It knows nothing of any runtime.
 */

import type { Channel } from "../io.ts";

export function withAbort(channel: Channel, shut: () => void): Channel {
  return {
    peer: channel.peer,
    address: channel.address,
    confirmsWrites: channel.confirmsWrites,
    write: (parts, written) => channel.write(parts, written),
    pause: () => channel.pause(),
    resume: () => channel.resume(),
    close: () => channel.close(),
    abort() {
      channel.close();
      shut();
    },
  };
}
