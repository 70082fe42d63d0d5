/**
 * examples/browser/serve.html in headless Chromium serves a Blob the user picked by dialing out
 * to an nbdts whose nbd plugin waits for it (websocket-listen=), on each runtime; qemu-img
 * convert copies the disk out through nbdts's Unix socket with the Blob's own sha256, and a page
 * from an origin not allowed is refused. nbdkit's nbd plugin cannot listen: nbdts alone.
 */

import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { CHROMIUM, openPage, staticServer } from "../helpers/browser.ts";
import { expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { freePort } from "../helpers/free-port.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));

/** Waits until something listens on 127.0.0.1:port. */
async function listening(port: number): Promise<void> {
  for (let waited = 0; waited < 15_000; waited += 50) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

if (ours.length === 0) test.skip("browser: no nbdts server is selected", () => {});

describe.each(ours)("examples/browser/serve.html to $name", (server) => {
  test("serves a picked Blob that qemu-img convert copies out with the same sha256", async (context) => {
    requireClients(context, CHROMIUM, "qemu-img");
    const origin = await staticServer();
    const port = await freePort();
    const front = await startServer(server, [
      "nbd",
      `websocket-listen=127.0.0.1:${port}`,
      `websocket-origin=${origin}`,
    ]);
    await listening(port);
    const blob = randomBytes(3 * 1024 * 1024 + 512);
    const { page, errors } = await openPage();
    await page.goto(`${origin}/examples/browser/serve.html`);
    await page.setInputFiles("#file", {
      name: "disk.img",
      mimeType: "application/octet-stream",
      buffer: blob,
    });
    await page.fill("#upstream", `ws://127.0.0.1:${port}/`);
    await page.click("#start");
    await page.locator("#status", { hasText: "serving disk.img" }).waitFor({ timeout: 10_000 });
    const copy = join(scratchDir(), "copy.raw");
    expectSuccess(await run(["qemu-img", "convert", "-f", "raw", "-O", "raw", front.uri, copy]));
    expect(sha256(readFileSync(copy))).toBe(sha256(blob));
    expect(errors).toEqual([]);
  });

  test("a page from an origin not allowed is refused before any NBD byte", async (context) => {
    requireClients(context, CHROMIUM);
    const origin = await staticServer();
    const port = await freePort();
    const front = await startServer(server, [
      "nbd",
      `websocket-listen=127.0.0.1:${port}`,
      "websocket-origin=https://app.example",
    ]);
    await listening(port);
    const { page } = await openPage();
    await page.goto(`${origin}/examples/browser/serve.html`);
    await page.check("input[value=ram]");
    await page.fill("#upstream", `ws://127.0.0.1:${port}/`);
    await page.click("#start");
    await page.locator("#status", { hasText: "error: cannot connect" }).waitFor({
      timeout: 10_000,
    });
    expect(front.stderr()).toMatch(/Origin "http:\/\/127\.0\.0\.1:\d+" is not allowed/);
  });
});
