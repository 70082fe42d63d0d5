// Reads a whole export once, in order, through nbdts/client on Node (the build's
// build/nbdts-client.js): 1 MiB requests, --qd of them in flight, each into its own buffer.
// Prints the milliseconds from the first request to the last reply. Used by bench.mjs.
//
//   node scripts/bench-client-read.mjs URI [QD]
import { connect } from "../build/nbdts-client.js";

const [uri, qdText = "8"] = process.argv.slice(2);
const REQUEST = 1024 * 1024;
const client = await connect(uri);
const size = Number(client.size);
let next = 0;
const start = performance.now();
await Promise.all(
  Array.from({ length: Number(qdText) }, async () => {
    const buffer = new Uint8Array(REQUEST);
    while (next < size) {
      const at = next;
      next += REQUEST;
      await client.pread(buffer.subarray(0, Math.min(REQUEST, size - at)), at);
    }
  }),
);
const ms = performance.now() - start;
await client.disconnect();
console.log(ms.toFixed(1));
