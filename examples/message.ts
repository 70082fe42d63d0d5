/**
 * A read-only disk holding a message, padded with zeroes to whole 512-byte sectors. It shows
 * async callbacks, a magic config key, export names and descriptions, block sizes, and failing
 * one request with an errno: reading the sector named by `forbidden=` fails with EIO, and the
 * connection goes on.
 *
 *   node nbd.js ./examples/message.ts 'hello world' forbidden=1
 */

import { ConfigError, ERRNO, NbdError, type Plugin } from "../src/mod.ts";

const SECTOR = 512;

export default function createMessagePlugin(): Plugin {
  let message = new Uint8Array(0);
  let forbidden = -1;

  return {
    name: "message",
    version: "1.0",
    magicConfigKey: "text",
    configHelp: "text=<TEXT>        The message to serve\n" +
      "forbidden=<SECTOR> A sector whose reads fail with EIO",
    config(key, value) {
      if (key === "text") message = new TextEncoder().encode(value);
      else if (key === "forbidden") forbidden = Number(value);
      else throw new ConfigError(`unknown parameter '${key}'`);
    },
    // The default export "" is really called "message": clients asking for "" learn that name.
    defaultExport: () => "message",
    listExports: () => [{ name: "message", description: "the message given on the command line" }],
    open: async () => {
      // Callbacks may be async: a real plugin might fetch its data here.
      await Promise.resolve();
      const size = Math.max(SECTOR, Math.ceil(message.length / SECTOR) * SECTOR);
      return {
        getSize: () => size,
        readAt(buf: Uint8Array, offset: number) {
          const firstSector = Math.floor(offset / SECTOR);
          const lastSector = Math.floor((offset + buf.length - 1) / SECTOR);
          if (forbidden >= firstSector && forbidden <= lastSector) {
            // Naming the first bad byte lets the client see which part of the read failed.
            const bad = Math.max(offset, forbidden * SECTOR);
            throw new NbdError(ERRNO.EIO, `sector ${forbidden} is forbidden`, bad);
          }
          buf.fill(0);
          buf.set(message.subarray(offset, offset + buf.length));
        },
        canMultiConn: () => true,
        exportDescription: () => `${message.length} bytes of text`,
        // Whole sectors only: clients that ask learn to align their requests.
        blockSize: () => ({ minimum: SECTOR, preferred: 4096, maximum: 0xffffffff }),
      };
    },
  };
}
