// Takes the README's picture of examples/browser/disk.html: serves the checkout's examples/ and
// build/ on 127.0.0.1, starts `node nbd.js --websocket` with a 64 MiB RAM disk partly written
// (data, zeroes, holes), connects the page in Debian's headless Chromium (playwright-core), writes
// a sector, and saves examples/browser/screenshot.png. Run after `npm run build`:
//
//   node scripts/browser-screenshot.mjs
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { connect } from "../build/nbdts-client.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };

const files = createServer(async (request, response) => {
  const path = normalize(decodeURIComponent(new URL(request.url, "http://x").pathname));
  try {
    if (!/^\/(examples|build)\//.test(path)) throw new Error("not served");
    const body = await readFile(join(REPO, path));
    response.writeHead(200, { "content-type": TYPES[extname(path)] ?? "text/plain" }).end(body);
  } catch {
    response.writeHead(404).end();
  }
});
await new Promise((resolve) => files.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${files.address().port}`;

const server = spawn(process.execPath, [
  join(REPO, "nbd.js"),
  "-f",
  "--websocket",
  "-i",
  "127.0.0.1",
  "-p",
  "0",
  "--print-uri",
  `--websocket-origin=${origin}`,
  "memory",
  "64M",
], { stdio: ["ignore", "pipe", "inherit"] });
const uri = await new Promise((resolve) => {
  let out = "";
  server.stdout.on("data", (chunk) => {
    out += chunk;
    if (out.includes("\n")) resolve(out.split("\n")[0].replace("localhost", "127.0.0.1"));
  });
});

// Some data, some zeroes, the rest holes: a map worth looking at.
const disk = await connect(uri);
const MiB = 1024 * 1024;
for (const [at, length] of [[0, 6], [14, 3], [30, 9], [52, 2]]) {
  await disk.pwrite(new Uint8Array(length * MiB).fill(0x5a), at * MiB);
}
await disk.pwrite(new Uint8Array(4 * MiB), 40 * MiB); // zeroes written: allocated, reads zero
await disk.disconnect();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
await page.goto(`${origin}/examples/browser/disk.html?uri=${encodeURIComponent(uri)}`);
await page.click("#open");
await page.locator("#status", { hasText: "connected" }).waitFor();
await page.click("#write");
await page.locator("#status", { hasText: "wrote" }).waitFor();
const out = join(REPO, "examples/browser/screenshot.png");
await page.screenshot({ path: out, fullPage: true });
await browser.close();
server.kill("SIGTERM");
files.close();
console.log(`wrote ${out}`);
