/**
 * NBD URIs (NetworkBlockDevice/nbd doc/uri.md) parsed into where to connect: `nbd://host:port/
 * export`, `nbds://…` (TLS), `nbd+unix:///export?socket=PATH`, `nbds+unix://…`, and the WebSocket
 * schemes this project defines, `nbd+ws://host:port/export` and `nbds+wss://…` (README, "The
 * nbd+ws URI"). The export name is the path without its first '/', percent-decoded.
 */

/**
 * The TLS settings a URI's query may carry (libnbd's names: tls-certificates, tls-verify-peer,
 * tls-psk-file, tls-username; the username may also be the authority's userinfo). Files are
 * named, not read: reading them is the runtime's business.
 */
export interface UriTls {
  readonly certificates?: string;
  readonly verifyPeer?: boolean;
  readonly pskFile?: string;
  readonly username?: string;
}

/** What a URI says: the transport, the export name and whether TLS is required. */
export type NbdTarget =
  & { readonly exportName: string; readonly tls: boolean; readonly tlsQuery?: UriTls }
  & (
    | { readonly kind: "tcp"; readonly host: string; readonly port: number }
    | { readonly kind: "unix"; readonly path: string }
    /** The ws:// or wss:// URL the WebSocket opens: the same host, port and path. */
    | { readonly kind: "websocket"; readonly url: string }
  );

/** The scheme's transport, and whether it means TLS. */
const SCHEMES: Record<string, { kind: NbdTarget["kind"]; tls: boolean }> = {
  "nbd:": { kind: "tcp", tls: false },
  "nbds:": { kind: "tcp", tls: true },
  "nbd+tcp:": { kind: "tcp", tls: false },
  "nbds+tcp:": { kind: "tcp", tls: true },
  "nbd+unix:": { kind: "unix", tls: false },
  "nbds+unix:": { kind: "unix", tls: true },
  "nbd+ws:": { kind: "websocket", tls: false },
  "nbds+wss:": { kind: "websocket", tls: true },
};

/** The default NBD port (the spec's IANA registration). */
const NBD_PORT = 10809;

/** Parses an NBD URI; throws a SyntaxError naming what is wrong with it. */
export function parseNbdUri(text: string): NbdTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SyntaxError(`Cannot parse NBD URI "${text}": not a URI`);
  }
  const scheme = SCHEMES[url.protocol];
  if (scheme === undefined) {
    const known = Object.keys(SCHEMES).map((name) => name.slice(0, -1)).join(", ");
    throw new SyntaxError(`Cannot parse NBD URI "${text}": unknown scheme; use one of ${known}`);
  }
  // URL leaves the path of a scheme it does not know as written: decode it ourselves.
  const path = url.pathname.startsWith("/") ? url.pathname.slice(1) : url.pathname;
  let exportName: string;
  try {
    exportName = decodeURIComponent(path);
  } catch {
    throw new SyntaxError(`Cannot parse NBD URI "${text}": the export name is badly encoded`);
  }
  const socket = url.searchParams.get("socket");
  const tls = scheme.tls;
  const tlsQuery = tlsOf(url);
  switch (scheme.kind) {
    case "unix":
      if (socket === null) {
        throw new SyntaxError(`Cannot parse NBD URI "${text}": nbd+unix needs ?socket=PATH`);
      }
      return { kind: "unix", path: socket, exportName, tls, tlsQuery };
    case "tcp": {
      if (url.hostname === "") throw new SyntaxError(`Cannot parse NBD URI "${text}": no host`);
      const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
      const port = url.port === "" ? NBD_PORT : Number(url.port);
      return { kind: "tcp", host, port, exportName, tls, tlsQuery };
    }
    case "websocket": {
      if (url.hostname === "") throw new SyntaxError(`Cannot parse NBD URI "${text}": no host`);
      if (socket !== null) {
        throw new SyntaxError(`Cannot parse NBD URI "${text}": ${url.protocol} takes no socket=`);
      }
      const wsScheme = tls ? "wss" : "ws";
      // The port defaults as the WebSocket scheme's (80, 443): a WebSocket server is an HTTP one.
      const port = url.port === "" ? "" : `:${url.port}`;
      const wsUrl = `${wsScheme}://${url.hostname}${port}${url.pathname || "/"}${url.search}`;
      return { kind: "websocket", url: wsUrl, exportName, tls: false };
    }
  }
}

/** The TLS query parameters, if any; a verify-peer that is not a boolean is a SyntaxError. */
function tlsOf(url: URL): UriTls | undefined {
  const query = url.searchParams;
  const verify = query.get("tls-verify-peer");
  if (verify !== null && !/^(true|false|on|off|yes|no|1|0)$/i.test(verify)) {
    throw new SyntaxError(`Cannot parse NBD URI: tls-verify-peer=${verify} is not a boolean`);
  }
  const found: UriTls = {
    certificates: query.get("tls-certificates") ?? undefined,
    verifyPeer: verify === null ? undefined : /^(true|on|yes|1)$/i.test(verify),
    pskFile: query.get("tls-psk-file") ?? undefined,
    username: query.get("tls-username") ??
      (url.username ? decodeURIComponent(url.username) : undefined),
  };
  return Object.values(found).some((value) => value !== undefined) ? found : undefined;
}
