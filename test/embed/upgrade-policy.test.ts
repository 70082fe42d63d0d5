import { describe, expect, test } from "vitest";
import { refuseUpgrade, upgradeRefusal } from "../../src/embed/upgrade-policy.ts";

const page = (origin?: string, host = "localhost:10809") => ({ origin, host });

describe("upgradeRefusal: which WebSocket upgrades may reach the server", () => {
  test("a request without Origin (a program, not a web page) is served under any policy", () => {
    expect(upgradeRefusal(page(undefined), {})).toBeUndefined();
    expect(upgradeRefusal(page(undefined), { allowOrigins: ["https://app.example"] }))
      .toBeUndefined();
  });

  test("by default every web page is refused, naming its origin", () => {
    expect(upgradeRefusal(page("https://evil.example"), {})).toBe(
      'Origin "https://evil.example" is not allowed',
    );
    expect(upgradeRefusal(page("http://localhost:10809"), {})).toBeDefined();
    expect(upgradeRefusal(page("null"), {})).toBeDefined(); // sandboxed frames, file: pages
  });

  test("an allowed origin must match exactly: scheme, host and port", () => {
    const policy = { allowOrigins: ["https://app.example"] };
    expect(upgradeRefusal(page("https://app.example"), policy)).toBeUndefined();
    for (
      const other of ["http://app.example", "https://app.example:8443", "https://x.app.example"]
    ) {
      expect(upgradeRefusal(page(other), policy)).toBe(`Origin "${other}" is not allowed`);
    }
  });

  test('"*" spelled out allows every page', () => {
    expect(upgradeRefusal(page("https://evil.example"), { allowOrigins: ["*"] })).toBeUndefined();
  });

  test("with a Host list, only requests addressed to a listed name are served", () => {
    const policy = { allowOrigins: ["*"], allowHosts: ["localhost", "127.0.0.1", "::1"] };
    expect(upgradeRefusal(page("https://a.example", "LOCALHOST:10809"), policy)).toBeUndefined();
    expect(upgradeRefusal(page(undefined, "127.0.0.1:80"), policy)).toBeUndefined();
    expect(upgradeRefusal(page(undefined, "[::1]:10809"), policy)).toBeUndefined();
    // DNS rebinding: the attacker's name now points at 127.0.0.1, but the Host header keeps it.
    expect(upgradeRefusal(page("https://a.example", "rebind.example:10809"), policy)).toBe(
      'Host "rebind.example:10809" is not allowed',
    );
    expect(upgradeRefusal({ origin: undefined, host: undefined }, policy)).toBe("no Host header");
  });

  test("without a Host list any Host is served", () => {
    expect(upgradeRefusal(page(undefined, "anything.example"), {})).toBeUndefined();
  });
});

describe("refuseUpgrade: a 403 for fetch handlers that upgrade themselves", () => {
  test("a foreign page gets 403 with the reason; an allowed one gets nothing to send", async () => {
    const request = (origin: string) =>
      new Request("http://localhost/", { headers: { origin, upgrade: "websocket" } });
    const refused = refuseUpgrade(request("https://evil.example"));
    expect(refused?.status).toBe(403);
    expect(await refused?.text()).toContain('Origin "https://evil.example" is not allowed');
    expect(refuseUpgrade(request("https://app.example"), { allowOrigins: ["https://app.example"] }))
      .toBeUndefined();
    expect(refuseUpgrade(new Request("http://localhost/"))).toBeUndefined();
  });
});
