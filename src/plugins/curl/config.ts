/**
 * The curl plugin's parameters (man nbdkit-curl-plugin) as parsed values. Only what a runtime's
 * fetch can do is accepted; libcurl's TLS, proxy and cookie-engine knobs are refused by name with
 * the reason, never silently ignored.
 */

import { ConfigError } from "../../api/errors.ts";
import { parseUnsigned } from "../../api/parse-integer.ts";
import { parseBool } from "../../api/parse.ts";
import type { PluginHost } from "../../io.ts";
import { parseConnections } from "../lib/limiter.ts";
import { readPassword } from "../lib/read-password.ts";

export interface CurlConfig {
  url?: string;
  /** header=: in order; an empty value with `remove` drops a header fetch would send. */
  headers: { name: string; value: string; remove: boolean }[];
  cookie?: string;
  user?: string;
  password?: string;
  userAgent?: string;
  /** timeout= in seconds; 0 leaves requests without a deadline. */
  timeout: number;
  /** connections=: requests to the web server at once, shared by every NBD client. */
  connections: number;
  followLocation: boolean;
  /** protocols=: the URL schemes allowed; undefined allows any fetch reaches. */
  protocols?: Set<string>;
  headerScript?: string;
  headerScriptRenew: number;
  cookieScript?: string;
  cookieScriptRenew: number;
}

/** libcurl's protocol names, which protocols= takes (nbdkit 1.32.5's list). */
const CURL_PROTOCOLS = new Set(
  ("http https ftp ftps scp sftp telnet ldap ldaps dict file tftp imap imaps pop3 pop3s smtp " +
    "smtps rtsp rtmp rtmpt rtmpe rtmpte rtmps rtmpts gopher smb smbs mqtt").split(" "),
);

/** Parameters libcurl has and fetch does not, with why each cannot be honoured. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  cainfo: "fetch trusts the runtime's certificate store only",
  capath: "fetch trusts the runtime's certificate store only",
  cookiefile: "fetch keeps no cookie engine; give cookie= or cookie-script=",
  cookiejar: "fetch keeps no cookie engine; give cookie= or cookie-script=",
  proxy: "fetch takes its proxy from the runtime (HTTP_PROXY, HTTPS_PROXY)",
  "proxy-user": "fetch takes its proxy from the runtime (HTTP_PROXY, HTTPS_PROXY)",
  "proxy-password": "fetch takes its proxy from the runtime (HTTP_PROXY, HTTPS_PROXY)",
  "ssl-version": "fetch negotiates the TLS version itself",
  "ssl-cipher-list": "fetch chooses the TLS ciphers itself",
  "tls13-ciphers": "fetch chooses the TLS ciphers itself",
  "unix-socket-path": "fetch connects over TCP only",
  unix_socket_path: "fetch connects over TCP only",
};

export function defaultConfig(): CurlConfig {
  return {
    headers: [],
    timeout: 0,
    connections: 4,
    followLocation: true,
    headerScriptRenew: 0,
    cookieScriptRenew: 0,
  };
}

/** `Name: value`, `Name:` (remove) or `Name;` (an empty value), as CURLOPT_HTTPHEADER reads them. */
function parseHeader(text: string): CurlConfig["headers"][number] {
  const colon = text.indexOf(":");
  const semicolon = text.indexOf(";");
  if (colon < 0 && semicolon > 0 && text.slice(semicolon + 1).trim() === "") {
    return { name: text.slice(0, semicolon).trim(), value: "", remove: false };
  }
  if (colon <= 0) throw new ConfigError(`header: expected 'Name: value', got '${text}'`);
  const value = text.slice(colon + 1).trim();
  return { name: text.slice(0, colon).trim(), value, remove: value === "" };
}

function parseProtocols(value: string): Set<string> {
  const names = value.split(",").filter((name) => name !== "");
  for (const name of names) {
    if (!CURL_PROTOCOLS.has(name)) {
      throw new ConfigError(`protocols: protocol name not found: ${name}`);
    }
  }
  if (names.length === 0) {
    throw new ConfigError("protocols: empty list of protocols is not allowed");
  }
  return new Set(names);
}

/** Takes one key=value into `config`, refusing what nbdkit refuses and what fetch cannot do. */
export async function configure(
  config: CurlConfig,
  key: string,
  value: string,
  host: PluginHost | undefined,
): Promise<void> {
  switch (key) {
    case "url":
      config.url = value;
      return;
    case "header":
      config.headers.push(parseHeader(value));
      return;
    case "cookie":
      config.cookie = await readPassword("cookie", value, host);
      return;
    case "user":
      config.user = value;
      return;
    case "password":
      config.password = await readPassword("password", value, host);
      return;
    case "user-agent":
      config.userAgent = value;
      return;
    case "timeout":
      config.timeout = parseUnsigned("timeout", value);
      return;
    case "connections":
      config.connections = parseConnections(value);
      return;
    case "followlocation":
      config.followLocation = parseBool(value);
      return;
    case "protocols":
      config.protocols = parseProtocols(value);
      return;
    case "header-script":
      config.headerScript = value;
      return;
    case "header-script-renew":
      config.headerScriptRenew = parseUnsigned("header-script-renew", value);
      return;
    case "cookie-script":
      config.cookieScript = value;
      return;
    case "cookie-script-renew":
      config.cookieScriptRenew = parseUnsigned("cookie-script-renew", value);
      return;
    case "sslverify":
      if (!parseBool(value)) {
        throw new ConfigError("sslverify=false: fetch always verifies the server's certificate");
      }
      return;
    case "tcp-keepalive":
    case "tcp-nodelay":
      parseBool(value); // hints for libcurl's socket; fetch's connections keep their own
      return;
  }
  const reason = UNSUPPORTED[key];
  if (reason) throw new ConfigError(`${key}: not supported: ${reason}`);
  throw new ConfigError(`unknown parameter '${key}'`);
}

/** Checks the parameters fit together, in nbdkit's words where nbdkit checks the same. */
export function checkConfig(config: CurlConfig): string {
  const url = config.url;
  if (url === undefined) {
    throw new ConfigError(
      "you must supply the url=<URL> parameter after the plugin name on the command line",
    );
  }
  if (config.headers.length > 0 && config.headerScript !== undefined) {
    throw new ConfigError("header and header-script cannot be used at the same time");
  }
  if (config.headerScript === undefined && config.headerScriptRenew) {
    throw new ConfigError("header-script-renew cannot be used without header-script");
  }
  if (config.cookie !== undefined && config.cookieScript !== undefined) {
    throw new ConfigError("cookie and cookie-script cannot be used at the same time");
  }
  if (config.cookieScript === undefined && config.cookieScriptRenew) {
    throw new ConfigError("cookie-script-renew cannot be used without cookie-script");
  }
  let scheme: string;
  try {
    scheme = new URL(url).protocol.slice(0, -1);
  } catch {
    throw new ConfigError(`url: cannot parse '${url}' as a URL`);
  }
  if (config.protocols && !config.protocols.has(scheme)) {
    throw new ConfigError(`url: protocol '${scheme}' is not in protocols=`);
  }
  if (scheme !== "http" && scheme !== "https") {
    throw new ConfigError(`url: fetch reaches http:// and https:// URLs only, not ${scheme}://`);
  }
  return url;
}
