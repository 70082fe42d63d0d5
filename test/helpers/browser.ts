/**
 * A real browser for the example pages: Debian's headless Chromium driven by playwright-core
 * (nothing is downloaded), and a static HTTP server of the checkout's examples/ and build/ on
 * 127.0.0.1, whose origin the NBD servers under test allow. Both stop when the test finishes.
 */

import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { onTestFinished } from "vitest";
import { REPO_ROOT } from "./servers.ts";

/** Where Chromium is: $CHROMIUM, else Debian's. */
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".png": "image/png",
};

/** Serves examples/ and build/ of the checkout; resolves to the origin, "http://127.0.0.1:PORT". */
export async function staticServer(): Promise<string> {
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url!, "http://x").pathname));
    if (path === "/favicon.ico") return void response.writeHead(204).end(); // asked by every page
    if (!/^\/(examples|build)\//.test(path)) return void response.writeHead(404).end();
    try {
      const body = await readFile(join(REPO_ROOT, path));
      response.writeHead(200, { "content-type": TYPES[extname(path)] ?? "text/plain" });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => void server.close());
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

/** A fresh page in headless Chromium; its console errors are collected in `errors`. */
export async function openPage(): Promise<{ page: Page; errors: string[]; browser: Browser }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  onTestFinished(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 820, height: 640 } });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  return { page, errors, browser };
}
