// The curl plugin's parameters (src/plugins/curl/config.ts): nbdkit's names and messages, and
// the libcurl knobs fetch cannot honour refused by name rather than ignored.

import { describe, expect, test } from "vitest";
import { ConfigError } from "../../src/api/errors.ts";
import { checkConfig, configure, defaultConfig } from "../../src/plugins/curl/config.ts";

async function configured(...pairs: [string, string][]) {
  const config = defaultConfig();
  for (const [key, value] of pairs) await configure(config, key, value, undefined);
  return config;
}

describe("curl configure", () => {
  test("header= reads 'Name: value', 'Name;' (empty) and 'Name:' (remove)", async () => {
    const config = await configured(
      ["header", "X-A: one two"],
      ["header", "X-Empty;"],
      ["header", "User-Agent:"],
    );
    expect(config.headers).toEqual([
      { name: "X-A", value: "one two", remove: false },
      { name: "X-Empty", value: "", remove: false },
      { name: "User-Agent", value: "", remove: true },
    ]);
  });

  test("connections= defaults to 4, as nbdkit's, and must be at least 1", async () => {
    expect(defaultConfig().connections).toBe(4);
    expect((await configured(["connections", "16"])).connections).toBe(16);
    await expect(configured(["connections", "0"])).rejects.toThrow("at least 1");
  });

  test.each([
    ["protocols", "http,gopherx", "protocols: protocol name not found: gopherx"],
    ["protocols", "", "protocols: empty list of protocols is not allowed"],
    ["timeout", "-1", "timeout: negative numbers are not allowed"],
    ["followlocation", "maybe", "could not decipher boolean (maybe)"],
    ["sslverify", "false", "sslverify=false: fetch always verifies the server's certificate"],
    [
      "cainfo",
      "/ca.pem",
      "cainfo: not supported: fetch trusts the runtime's certificate store only",
    ],
    ["unix-socket-path", "/s", "unix-socket-path: not supported: fetch connects over TCP only"],
    ["password", "-", "password=-: cannot ask for a password on the terminal"],
    ["password", "-1", "cannot use password -FD for stdin/stdout/stderr"],
    ["bogus", "1", "unknown parameter 'bogus'"],
  ])("%s=%j is refused: %s", async (key, value, message) => {
    const refused = configured([key, value]);
    await expect(refused).rejects.toThrow(ConfigError);
    await expect(refused).rejects.toThrow(message);
  });

  test("sslverify=true, tcp-nodelay= and tcp-keepalive= are accepted", async () => {
    await expect(
      configured(["sslverify", "true"], ["tcp-nodelay", "false"], ["tcp-keepalive", "on"]),
    ).resolves.toBeDefined();
  });
});

describe("curl checkConfig", () => {
  test("url= is required, in nbdkit's words", () => {
    expect(() => checkConfig(defaultConfig())).toThrow(
      "you must supply the url=<URL> parameter after the plugin name on the command line",
    );
  });

  test.each([
    [[["url", "ftp://host/disk"]], "url: fetch reaches http:// and https:// URLs only, not ftp://"],
    [[["url", "not a url"]], "url: cannot parse 'not a url' as a URL"],
    [[["url", "https://h/d"], ["protocols", "http"]], "url: protocol 'https' is not in protocols="],
    [
      [["url", "http://h/d"], ["header", "A: b"], ["header-script", "true"]],
      "header and header-script cannot be used at the same time",
    ],
    [
      [["url", "http://h/d"], ["cookie-script-renew", "5"]],
      "cookie-script-renew cannot be used without cookie-script",
    ],
  ] as [[string, string][], string][])("%j is refused: %s", async (pairs, message) => {
    const config = await configured(...pairs);
    expect(() => checkConfig(config)).toThrow(message);
  });

  test("an http or https URL within protocols= is taken", async () => {
    const config = await configured(["url", "https://h/d.img"], ["protocols", "http,https"]);
    expect(checkConfig(config)).toBe("https://h/d.img");
  });
});
