/**
 * --filter=limit (man nbdkit-limit-filter): at most limit=N clients (default 1, 0 for no limit)
 * at once. A client over the limit is closed before any byte is sent; connections count from
 * the moment they open an export until they close it, so a client that only asks NBD_OPT_INFO
 * holds no slot, and one that slipped in during another's handshake is refused its export.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { type BackgroundServer, startServer } from "../helpers/background.ts";
import { captive, scratchDir } from "../helpers/captive.ts";
import { goData, OPT, optionRequest, RawConnection, REP } from "../helpers/raw-nbd.ts";
import { type Server, servers } from "../helpers/servers.ts";

function serve(server: Server, params: readonly string[] = []): Promise<BackgroundServer> {
  return startServer(server, ["--filter=limit", "memory", "1M", ...params]);
}

/** A client that has opened the default export and can send requests. */
async function connected(background: BackgroundServer): Promise<RawConnection> {
  const client = await RawConnection.open(background.socket);
  await client.greet();
  expect((await client.go()).type).toBe(REP.ACK);
  return client;
}

/** True when a new client is closed before the greeting. */
async function refused(background: BackgroundServer): Promise<boolean> {
  const client = await RawConnection.open(background.socket);
  try {
    return await client.closedBeforeAnyByte();
  } finally {
    client.close();
  }
}

/** A slot is freed when the server sees the close, a moment after the client's: try again. */
async function eventuallyConnectedTo(
  background: BackgroundServer,
  exportName = "",
): Promise<RawConnection> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const client = await RawConnection.open(background.socket);
    if (!(await client.closedBeforeAnyByte())) {
      await client.greet();
      if ((await client.go(exportName)).type === REP.ACK) return client;
    }
    client.close();
    if (Date.now() > deadline) throw new Error("No client was let in after the others left");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const eventuallyConnected = (background: BackgroundServer) => eventuallyConnectedTo(background);

describe.each(servers)("limit filter ($name)", (server) => {
  test("by default a second client is closed before the greeting while the first is served", async () => {
    const background = await serve(server);
    const first = await connected(background);
    expect(await refused(background)).toBe(true);
    expect(await refused(background)).toBe(true);
    expect(await first.readWorks()).toBe(true);
    first.close();
    const next = await eventuallyConnected(background);
    expect(await next.readWorks()).toBe(true);
    next.close();
  });

  test("limit=2 serves two clients at once and refuses the third", async () => {
    const background = await serve(server, ["limit=2"]);
    const first = await connected(background);
    const second = await connected(background);
    expect(await refused(background)).toBe(true);
    expect(await first.readWorks()).toBe(true);
    expect(await second.readWorks()).toBe(true);
    first.close();
    second.close();
  });

  test("limit=0 lifts the limit", async () => {
    const background = await serve(server, ["limit=0"]);
    const clients = [];
    for (let i = 0; i < 4; i++) clients.push(await connected(background));
    for (const client of clients) expect(await client.readWorks()).toBe(true);
    clients.forEach((client) => client.close());
  });

  test("a client let in during another's handshake is refused its export at GO", async () => {
    const background = await serve(server);
    const early = await RawConnection.open(background.socket);
    await early.greet(); // greeted, holding no slot: nothing is open yet
    const other = await connected(background); // takes the one slot
    expect((await early.go()).type).toBe(REP.ERR_UNKNOWN);
    expect(await other.readWorks()).toBe(true);
    early.close();
    other.close();
  });

  test("NBD_OPT_INFO opens and closes the export: it holds no slot", async () => {
    const background = await serve(server);
    const asker = await RawConnection.open(background.socket);
    await asker.greet();
    expect((await asker.exchange(OPT.INFO, goData())).at(-1)?.type).toBe(REP.ACK);
    const client = await connected(background);
    expect(await client.readWorks()).toBe(true);
    asker.close();
    client.close();
  });

  test("a failed open, and clients leaving mid-handshake or mid-GO, hold no slot", async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, "disk"), new Uint8Array(4096));
    const background = await startServer(server, ["--filter=limit", "file", `dir=${dir}`]);
    const failing = await RawConnection.open(background.socket);
    await failing.greet();
    expect((await failing.go("missing")).type).toBe(REP.ERR_UNKNOWN); // open failed
    expect((await failing.go("disk")).type).toBe(REP.ACK); // so the slot is still free
    failing.close();
    const leaving = await eventuallyConnectedTo(background, "disk");
    leaving.close();
    for (let i = 0; i < 10; i++) {
      const client = await RawConnection.open(background.socket);
      if (await client.closedBeforeAnyByte()) continue; // the last one's close not seen yet
      await client.greet();
      if (i % 2 === 0) client.write(optionRequest(OPT.GO, goData("disk"))); // leaves during open
      client.close();
    }
    const last = await eventuallyConnectedTo(background, "disk");
    expect(await last.readWorks()).toBe(true);
    last.close();
  });

  test("limit=-1 is refused at start-up with nbdkit's message", async () => {
    const result = await captive(server, ["--filter=limit", "memory", "1M", "limit=-1"], "true");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("limit: negative numbers are not allowed");
  });

  test("two filters each take their own parameters, in any order, and pass the rest on", async () => {
    // The bare 1M comes after filter keys, yet still reaches the plugin's magic key (size).
    const stack = ["--filter=ip", "--filter=limit", "memory", "limit=1", "1M", "deny=all"];
    const background = await startServer(server, [...stack, "allow=anyunix"]);
    const first = await connected(background);
    expect(await refused(background)).toBe(true);
    first.close();
    const next = await eventuallyConnected(background);
    expect(await next.readWorks()).toBe(true);
    next.close();
  });
});
