/**
 * Which WebSocket upgrade requests may become NBD connections. A browser names the page that
 * opened a WebSocket in its Origin header, and any page the user visits can open one to
 * ws://localhost, so a request with an Origin is served only when that origin is allowed
 * (exactly as the browser spells it, or "*" spelled out). Requests without Origin come from
 * programs, not pages, and are served. An Origin check also defeats DNS rebinding (the page's
 * origin stays the attacker's name); a Host list adds that protection to a server that allows
 * "*", by refusing requests addressed to names the operator did not list.
 */

/** What an operator or embedder allows; nothing given means no page may connect. */
export interface UpgradePolicy {
  /** Origins whose pages may connect ("https://app.example", "null"); "*" allows every page. */
  readonly allowOrigins?: readonly string[];
  /** When given, the Host header's name must be one of these ("localhost", "[::1]"). */
  readonly allowHosts?: readonly string[];
}

/** The headers of an upgrade request that the policy reads; absent headers are undefined. */
export interface UpgradeHeaders {
  readonly origin: string | undefined;
  readonly host: string | undefined;
}

/** Why `request` must be refused under `policy`, or undefined when it may be served. */
export function upgradeRefusal(request: UpgradeHeaders, policy: UpgradePolicy): string | undefined {
  const { origin, host } = request;
  const origins = policy.allowOrigins ?? [];
  if (origin !== undefined && !origins.includes("*") && !origins.includes(origin)) {
    return `Origin "${origin}" is not allowed`;
  }
  const hosts = policy.allowHosts;
  if (hosts !== undefined && hosts.length > 0) {
    const name = host === undefined ? undefined : hostName(host);
    if (name === undefined || !hosts.some((allowed) => hostName(allowed) === name)) {
      return host === undefined ? "no Host header" : `Host "${host}" is not allowed`;
    }
  }
  return undefined;
}

/** The name part of a Host header, lower case: "LocalHost:10809" → "localhost", "[::1]:80" → "[::1]". */
function hostName(host: string): string {
  const text = host.trim().toLowerCase();
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    return close === -1 ? text : text.slice(0, close + 1);
  }
  if (text.includes(":") && text.indexOf(":") !== text.lastIndexOf(":")) return `[${text}]`;
  const colon = text.indexOf(":");
  return colon === -1 ? text : text.slice(0, colon);
}

/** The headers `upgradeRefusal` reads, from a fetch-style Request (or anything with headers). */
export function upgradeHeaders(request: { headers: { get(name: string): string | null } }) {
  return {
    origin: request.headers.get("origin") ?? undefined,
    host: request.headers.get("host") ?? undefined,
  };
}

/**
 * For fetch handlers that upgrade requests themselves (a runtime's serve, Workers): a 403 Response to
 * return instead of upgrading when `policy` refuses the request, or undefined to go on.
 */
export function refuseUpgrade(
  request: { headers: { get(name: string): string | null } },
  policy: UpgradePolicy = {},
): Response | undefined {
  const reason = upgradeRefusal(upgradeHeaders(request), policy);
  if (reason === undefined) return undefined;
  return new Response(`Forbidden: ${reason}\n`, {
    status: 403,
    headers: { "content-type": "text/plain" },
  });
}
