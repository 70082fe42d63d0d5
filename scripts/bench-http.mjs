/**
 * The web server the curl workloads of `npm run bench` read from: one file held in memory,
 * HEAD giving its size and GET with `Range: bytes=A-B` answering 206 with those bytes, on
 * 127.0.0.1 and a port the kernel picks. nbdts's and nbdkit's curl plugins read the same server.
 */

import http from "node:http";

/** Serves `data` at /disk.img; resolves to { url, close }. */
export async function startRangeServer(data) {
  const server = http.createServer((request, response) => {
    if (request.url !== "/disk.img") return void response.writeHead(404).end();
    const headers = { "Accept-Ranges": "bytes" };
    if (request.method === "HEAD") {
      return void response.writeHead(200, { ...headers, "Content-Length": data.length }).end();
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? "");
    if (request.method !== "GET" || !range || Number(range[1]) >= data.length) {
      return void response.writeHead(416, { "Content-Range": `bytes */${data.length}` }).end();
    }
    const start = Number(range[1]);
    const end = Math.min(Number(range[2]), data.length - 1);
    response.writeHead(206, {
      ...headers,
      "Content-Range": `bytes ${start}-${end}/${data.length}`,
      "Content-Length": end - start + 1,
    });
    response.end(data.subarray(start, end + 1));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/disk.img`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}
