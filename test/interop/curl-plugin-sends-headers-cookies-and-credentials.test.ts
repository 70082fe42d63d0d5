/**
 * curl's request parameters reach the web server on every request: header= (several), cookie=
 * (also from +FILE), user= and password= as Basic credentials (also from the URL's user:pass@),
 * user-agent=, and the output of header-script= and cookie-script=, with $url set.
 */

import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { startHttpDisk } from "../helpers/http-disk-server.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString("base64")}`;

describe.each(servers)("curl plugin sends headers, cookies and credentials ($name)", (server) => {
  test("header=, cookie=+FILE, user=, password= and user-agent= are on every request", async (context) => {
    requireClients(context, "nbdcopy");
    const web = await startHttpDisk(randomBytes(128 * 1024));
    const cookieFile = join(scratchDir(), "cookie");
    writeFileSync(cookieFile, "session=abc; theme=dark\nignored second line\n");
    expectSuccess(
      await captive(
        server,
        [
          "-r",
          "curl",
          web.url,
          "header=X-First: one",
          "header=X-Second: two words",
          `cookie=+${cookieFile}`,
          "user=alice",
          "password=s3cret",
          "user-agent=nbd-test/1.0",
        ],
        `nbdcopy "$uri" null:`,
      ),
    );
    expect(web.requests.length).toBeGreaterThan(1);
    for (const request of web.requests) {
      expect(request.headers).toMatchObject({
        "x-first": "one",
        "x-second": "two words",
        cookie: "session=abc; theme=dark",
        authorization: basic("alice:s3cret"),
        "user-agent": "nbd-test/1.0",
      });
    }
  });

  test("credentials in the URL become Basic authorization", async (context) => {
    requireClients(context, "nbdinfo");
    const web = await startHttpDisk(randomBytes(4096), {
      require: { name: "authorization", value: basic("bob:pa ss") },
    });
    const url = web.url.replace("http://", "http://bob:pa%20ss@");
    const { stdout } = expectSuccess(
      await captive(server, ["-r", "curl", url], `nbdinfo --size "$uri"`),
    );
    expect(stdout.trim()).toBe("4096");
  });

  test("header-script= and cookie-script= outputs are sent, with $url in the script", async (context) => {
    requireClients(context, "nbdinfo");
    const web = await startHttpDisk(randomBytes(4096), {
      require: { name: "x-token", value: "tok-0" },
    });
    const { stdout } = expectSuccess(
      await captive(
        server,
        [
          "-r",
          "curl",
          web.url,
          'header-script=echo "X-Token: tok-$iteration"; echo "X-Url: $url"',
          "cookie-script=echo 'flavour=oat'",
        ],
        `nbdinfo --size "$uri"`,
      ),
    );
    expect(stdout.trim()).toBe("4096");
    expect(web.requests.at(-1)?.headers).toMatchObject({
      "x-token": "tok-0",
      "x-url": web.url,
      cookie: "flavour=oat",
    });
  });
});
