/**
 * --filter=ip (man nbdkit-ip-filter): a client the rules refuse sees its connection closed
 * before a single byte is sent, while allowed clients, over Unix sockets, TCP on 127.0.0.1 and
 * TCP on ::1, are served; the allow list is checked before the deny list whatever their order
 * on the command line, and a refused client leaves other connections alone.
 *
 * nbdkit 1.32.5 (the oracle) cannot parse an address rule at all: filters/ip/ip.c guards its
 * inet_pton calls with `#ifdef INET_PTON`, which configure never defines (it defines
 * HAVE_INET_PTON), so `allow=127.0.0.1` fails with "don't know how to parse rule". The tests
 * that prove the family keywords run on every server; the address and CIDR tests assert that
 * nbdkit refuses them and that nbdts follows the manual. Unix peer credentials (pid:, uid:,
 * gid:) are nbdkit's alone: no JavaScript runtime exposes SO_PEERCRED, so nbdts refuses them.
 */

import { describe, expect, test } from "vitest";
import { type BackgroundServer, startServer } from "../helpers/background.ts";
import { captive, expectSuccess, run } from "../helpers/captive.ts";
import { RawConnection, REP } from "../helpers/raw-nbd.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

type Family = "unix" | "ipv4" | "ipv6";

/** The address a client of each family connects from (and to): loopback. */
const LOOPBACK = { ipv4: "127.0.0.1", ipv6: "::1" } as const;

/** A memory disk behind the ip filter, listening for `family` (all TCP addresses: both). */
function serve(server: Server, rules: readonly string[], family?: Family) {
  const plugin = ["--filter=ip", "memory", "1M", ...rules];
  if (family === "unix") return startServer(server, plugin);
  const host = family === undefined ? undefined : LOOPBACK[family];
  return startServer(server, plugin, { tcp: { host } });
}

/** Connects as a client of `family` over loopback. */
function connect(background: BackgroundServer, family: Family): Promise<RawConnection> {
  if (family === "unix") return RawConnection.open(background.socket);
  const port = background.ports?.[family];
  if (port === undefined) throw new Error(`The server does not listen for ${family} clients`);
  return RawConnection.open({ host: LOOPBACK[family], port });
}

/** Whether a client of `family` is greeted and served a read, or refused before any byte. */
async function outcome(background: BackgroundServer, family: Family): Promise<string> {
  const client = await connect(background, family);
  try {
    if (await client.closedBeforeAnyByte()) return "closed before any byte";
    await client.greet();
    if ((await client.go()).type !== REP.ACK) return "greeted, GO failed";
    return (await client.readWorks()) ? "served" : "greeted, read failed";
  } finally {
    client.close();
  }
}

/** The result of starting `server` with `rules` only to see it refuse them (or run). */
function startup(server: Server, rules: readonly string[]) {
  return captive(server, ["--filter=ip", "memory", "1M", ...rules], "true");
}

/** nbdkit 1.32.5 refuses every address rule (see the file comment). */
const parsesAddresses = (server: Server) => server.name !== "nbdkit";

describe.each(servers)("ip filter ($name)", (server) => {
  test("without rules every client is served", async () => {
    const background = await serve(server, []);
    expect(await outcome(background, "ipv4")).toBe("served");
    expect(await outcome(background, "ipv6")).toBe("served");
  });

  test("allow=anyunix deny=all serves Unix clients; deny=anyunix closes before the greeting", async () => {
    expect(await outcome(await serve(server, ["allow=anyunix", "deny=all"], "unix"), "unix"))
      .toBe("served");
    expect(await outcome(await serve(server, ["deny=anyunix"], "unix"), "unix"))
      .toBe("closed before any byte");
  });

  test("anyipv4 and anyipv6 tell TCP clients on 127.0.0.1 and ::1 apart", async () => {
    const onlyIpv4 = await serve(server, ["allow=anyipv4", "deny=all"]);
    expect(await outcome(onlyIpv4, "ipv4")).toBe("served");
    expect(await outcome(onlyIpv4, "ipv6")).toBe("closed before any byte");
    const onlyIpv6 = await serve(server, ["allow=anyipv6", "deny=all"]);
    expect(await outcome(onlyIpv6, "ipv4")).toBe("closed before any byte");
    expect(await outcome(onlyIpv6, "ipv6")).toBe("served");
  });

  test("a TCP client is not a Unix one: deny=anyunix leaves it alone", async () => {
    const background = await serve(server, ["deny=anyunix,anyipv6"], "ipv4");
    expect(await outcome(background, "ipv4")).toBe("served");
  });

  test("the allow list is checked first, whatever the order on the command line", async () => {
    const denyFirst = await serve(server, ["deny=all", "allow=anyipv4"]);
    expect(await outcome(denyFirst, "ipv4")).toBe("served");
    expect(await outcome(denyFirst, "ipv6")).toBe("closed before any byte");
    const both = await serve(server, ["allow=anyunix", "deny=anyunix"], "unix");
    expect(await outcome(both, "unix")).toBe("served");
  });

  test("allow= and deny= may be repeated, each adding rules to its list", async () => {
    const background = await serve(server, ["allow=anyunix", "allow=anyipv6,", "deny=all"]);
    expect(await outcome(background, "ipv4")).toBe("closed before any byte");
    expect(await outcome(background, "ipv6")).toBe("served");
  });

  test("keywords are case-insensitive and all/any, allipv4/anyipv4 are synonyms", async () => {
    const background = await serve(server, ["allow=AllIPv4", "deny=ANY"]);
    expect(await outcome(background, "ipv4")).toBe("served");
    expect(await outcome(background, "ipv6")).toBe("closed before any byte");
  });

  test("a refused client does not disturb a connected one, and the server goes on", async () => {
    const background = await serve(server, ["allow=anyipv6", "deny=all"]);
    const allowed = await connect(background, "ipv6");
    await allowed.greet();
    expect((await allowed.go()).type).toBe(REP.ACK);
    for (let i = 0; i < 3; i++) {
      const refused = await connect(background, "ipv4");
      expect(await refused.readUntilClosed()).toHaveLength(0);
      refused.close();
      expect(await allowed.readWorks()).toBe(true);
    }
    allowed.close();
    expect(await outcome(background, "ipv6")).toBe("served");
  });

  test("a client on stdin (-s) through a socketpair is a Unix client", async (context) => {
    requireClients(context, "nbdsh");
    const script = (rules: string) =>
      `h.connect_command(${
        JSON.stringify([...server.argv, "-s", "--filter=ip", "memory", "1M", rules])
      }); print(h.get_size())`;
    expect(expectSuccess(await run(["nbdsh", "-c", script("allow=anyunix")])).stdout.trim())
      .toBe("1048576");
    const refused = await run(["nbdsh", "-c", script("deny=anyunix")]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/server disconnected unexpectedly/);
  });

  test("stdin (-s) that is no socket has no address: even allow=all refuses it", async () => {
    // As for a pipe: nbdkit's getpeername fails, and nbdts cannot tell the peer either.
    const single = (...args: string[]) =>
      run(["sh", "-c", 'exec "$@" </dev/null', "sh", ...server.argv, "-s", ...args]);
    expect((await single("memory", "1M")).stdout).toMatch(/^NBDMAGICIHAVEOPT/); // no filter
    const refused = await single("--filter=ip", "memory", "1M", "allow=all");
    expect(refused.stdout).toBe(""); // fails closed
    expect(refused.stderr).toMatch(/error: /);
  });

  test("nbdinfo over TCP is served when allowed", async (context) => {
    requireClients(context, "nbdinfo");
    const background = await serve(server, ["allow=anyipv4", "deny=all"], "ipv4");
    expect(expectSuccess(await run(["nbdinfo", "--size", background.uri])).stdout.trim())
      .toBe("1048576");
  });

  test.each([
    ["allow=foo", "don't know how to parse rule: allow=foo"],
    ["deny=,", "deny: empty entry in rule list"],
    ["allow=all,,anyunix", "allow: empty entry in rule list"],
    ["deny=vsock-cid:-1", "vsock-cid: parameter out of range"],
  ])("%s is refused at start-up with nbdkit's message", async (rule, message) => {
    const result = await startup(server, [rule]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
  });

  test("an empty allow= is an empty list, and vsock rules never match a TCP client", async () => {
    expectSuccess(await startup(server, ["allow="]));
    const background = await serve(server, ["allow=anyvsock,vsock-port:1", "deny=all"], "ipv4");
    expect(await outcome(background, "ipv4")).toBe("closed before any byte");
  });
});

describe.each(servers)("ip filter address rules ($name)", (server) => {
  /** For nbdkit, checks that it refuses `rule` at start-up and skips the test; else false. */
  async function oracleRefuses(rule: string, context: { skip(note: string): never }) {
    if (parsesAddresses(server)) return false;
    const result = await startup(server, [rule]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`don't know how to parse rule: ${rule}`);
    return context.skip("nbdkit 1.32.5 cannot parse address rules (checked that it refuses)");
  }

  /** What a client of `family` meets under each set of rules (server listening on `listen`). */
  async function outcomes(family: "ipv4" | "ipv6", listen: Family | undefined, table: string[][]) {
    const seen = [];
    for (const rules of table) {
      seen.push([...rules, await outcome(await serve(server, rules, listen), family)]);
    }
    return seen;
  }

  // Listening on every address: nbdts's one dual-stack socket sees 127.0.0.1 as ::ffff:127.0.0.1.
  test("an IPv4 address or CIDR rule matches a client on 127.0.0.1", async (context) => {
    if (await oracleRefuses("allow=127.0.0.1", context)) return;
    const table = [
      ["allow=127.0.0.1", "deny=all"],
      ["allow=127.0.0.0/8", "deny=all"],
      ["allow=10.0.0.0/8,::1", "deny=all"],
      ["deny=127.0.0.0/31"],
      ["deny=127.0.0.2/31"],
      ["allow=0.0.0.0/0", "deny=all"],
      // As nbdkit sees it (it binds IPv4 and IPv6 apart), the client is IPv4, not ::ffff:…
      ["allow=::ffff:127.0.0.1", "deny=all"],
    ];
    expect(await outcomes("ipv4", undefined, table)).toEqual([
      ["allow=127.0.0.1", "deny=all", "served"],
      ["allow=127.0.0.0/8", "deny=all", "served"],
      ["allow=10.0.0.0/8,::1", "deny=all", "closed before any byte"],
      ["deny=127.0.0.0/31", "closed before any byte"],
      ["deny=127.0.0.2/31", "served"],
      ["allow=0.0.0.0/0", "deny=all", "served"],
      ["allow=::ffff:127.0.0.1", "deny=all", "closed before any byte"],
    ]);
  });

  test("an IPv6 address or CIDR rule matches a client on ::1", async (context) => {
    if (await oracleRefuses("deny=::1", context)) return;
    const table = [
      ["allow=::1", "deny=all"],
      ["allow=0:0:0:0:0:0:0:1/128", "deny=all"],
      ["allow=::/0", "deny=all"],
      ["deny=::/127"],
      ["deny=fe80::/10,127.0.0.1"],
    ];
    expect(await outcomes("ipv6", "ipv6", table)).toEqual([
      ["allow=::1", "deny=all", "served"],
      ["allow=0:0:0:0:0:0:0:1/128", "deny=all", "served"],
      ["allow=::/0", "deny=all", "served"],
      ["deny=::/127", "closed before any byte"],
      ["deny=fe80::/10,127.0.0.1", "served"],
    ]);
  });

  test("prefix lengths past the family's size are refused", async (context) => {
    if (!parsesAddresses(server)) return context.skip("nbdkit 1.32.5 cannot parse address rules");
    const result = await startup(server, ["allow=10.0.0.0/33"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("prefix is > 32 in allow=10.0.0.0/33");
    const six = await startup(server, ["deny=::/129"]);
    expect(six.stderr).toContain("prefix is > 128 in deny=::/129");
  });

  test("uid: rules need the Unix peer's credentials, which only nbdkit can get", async () => {
    const uid = String(process.getuid!());
    const rules = [`allow=uid:${uid}`, "deny=all"];
    const result = await captive(
      server,
      ["--filter=ip", "memory", "1M", ...rules],
      'nbdinfo --size "$uri"',
    );
    if (server.name === "nbdkit") {
      expect(expectSuccess(result).stdout.trim()).toBe("1048576");
    } else {
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`cannot use rule allow=uid:${uid}`);
    }
  });
});
