// The page that serves a disk: the edge bundle's server, serving a File the user picks (read
// only, read from the Blob as clients ask) or an in-page RAM disk, over a WebSocket it opens to
// an nbdts whose nbd plugin waits for it (websocket-listen=). Each message carries NBD bytes.
import { createMemoryPlugin, createServer, serveWebSocket } from "../../build/nbdts-edge.js";

const $ = (id) => document.getElementById(id);

/** A read-only plugin over a Blob: each read slices the bytes it needs. */
function blobPlugin(blob) {
  return {
    name: "blob",
    open: () => ({
      getSize: () => blob.size,
      async readAt(buf, offset) {
        const start = Number(offset);
        buf.set(new Uint8Array(await blob.slice(start, start + buf.length).arrayBuffer()));
      },
      canMultiConn: () => true,
    }),
  };
}

async function start() {
  const what = document.querySelector("input[name=what]:checked").value;
  const file = $("file").files[0];
  if (what === "file" && !file) throw new Error("pick a file first");
  const server = what === "file"
    ? await createServer(blobPlugin(file))
    : await createServer(createMemoryPlugin(), { params: { size: $("ram").value } });
  const socket = new WebSocket($("upstream").value);
  const label = what === "file"
    ? `${file.name} (${file.size} bytes)`
    : `a ${$("ram").value} RAM disk`;
  let opened = false;
  socket.addEventListener("open", () => {
    opened = true;
    $("status").textContent = `serving ${label}`;
  });
  socket.addEventListener("close", () => {
    if (opened) $("status").textContent = "closed";
  });
  socket.addEventListener("error", () => {
    if (!opened) $("status").textContent = "error: cannot connect";
  });
  serveWebSocket(server, socket, { peer: $("upstream").value });
}

$("serve").addEventListener("submit", (event) => {
  event.preventDefault();
  start().catch((error) => ($("status").textContent = `error: ${error.message}`));
});
