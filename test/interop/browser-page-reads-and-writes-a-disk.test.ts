/**
 * examples/browser/disk.html in headless Chromium, on each nbdts runtime's --websocket listener:
 * it connects by the nbd+ws URI, shows size and flags, draws the map, reads what nbdsh wrote and
 * writes a sector that nbdsh then reads. nbdsh reaches the listener through the nbd plugin
 * (nbdts on Node). nbdkit has no WebSocket listener: nbdts alone.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { CHROMIUM, openPage, staticServer } from "../helpers/browser.ts";
import { KNOWN_SERVERS, requireClients, servers } from "../helpers/servers.ts";
import { startWebSocketServer } from "../helpers/websocket-server.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));
const NODE = KNOWN_SERVERS.find((server) => server.name === "nbdts-node")!;

/** Runs nbdsh code against the --websocket server at `uri`, through the nbd plugin. */
async function nbdsh(uri: string, code: string): Promise<string> {
  const result = await captive(NODE, ["nbd", `uri=${uri}`], `nbdsh -u "$uri" -c '${code}'`);
  return expectSuccess(result).stdout.trim();
}

if (ours.length === 0) test.skip("browser: no nbdts server is selected", () => {});

describe.each(ours)("examples/browser/disk.html on $name", (server) => {
  test("shows the export, maps it, reads nbdsh's bytes and writes bytes nbdsh reads", async (context) => {
    requireClients(context, CHROMIUM, "nbdsh");
    const origin = await staticServer();
    const edge = await startWebSocketServer(server.argv, [
      `--websocket-origin=${origin}`,
      "memory",
      "4M",
    ]);
    try {
      const uri = edge.printed.replace("localhost", "127.0.0.1");
      await nbdsh(uri, 'h.pwrite(b"written by nbdsh", 0)');
      const { page, errors } = await openPage();
      await page.goto(`${origin}/examples/browser/disk.html?uri=${encodeURIComponent(uri)}`);
      await page.click("#open");
      await page.locator("#status", { hasText: "connected" }).waitFor({ timeout: 10_000 });
      expect(await page.textContent("#size")).toBe("4194304 bytes");
      expect(await page.textContent("#flags")).toMatch(/canTrim.*blockStatus/);
      expect(await page.textContent("#hex")).toContain("written by nbdsh");
      await page.fill("#offset", "1048576");
      await page.fill("#text", "written by chromium");
      await page.click("#write");
      await page.locator("#status", { hasText: "wrote 512 bytes" }).waitFor({ timeout: 10_000 });
      // The hex dump shows 16 characters a row.
      expect(await page.textContent("#hex")).toContain("written by chrom");
      // Map columns: 0 holds nbdsh's data, 128 (1 MiB of 4) the page's, 300 is a hole.
      const pixels = await page.evaluate(() => {
        const context = (document.getElementById("map") as HTMLCanvasElement).getContext("2d")!;
        return [0, 128, 300].map((x) => [...context.getImageData(x, 0, 1, 1).data.slice(0, 3)]);
      });
      expect(pixels).toEqual([[31, 78, 156], [31, 78, 156], [238, 240, 244]]);
      expect(await nbdsh(uri, "print(h.pread(19, 1048576).decode())")).toBe(
        "written by chromium",
      );
      expect(errors).toEqual([]);
    } finally {
      edge.stop();
    }
  });
});
