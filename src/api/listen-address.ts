/**
 * "[HOST:]PORT", as nbdkit's -i and -p would say where to listen, for parameters naming an
 * address a plugin or filter listens on (the nbd plugin's websocket-listen=, the stats filter's
 * statslisten=). An IPv6 HOST is written in brackets, "[::1]:8080". Parses only.
 */

/** The host (brackets taken off) and port of `text`, or undefined when it is not "[HOST:]PORT". */
export function parseHostPort(text: string): { host?: string; port: number } | undefined {
  const match = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+)$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) return undefined;
  return { host: match[1]?.replace(/^\[(.*)\]$/, "$1"), port };
}
