/**
 * debug(message): a plugin's or filter's own debug line, nbdkit_debug's counterpart. It prints
 * only when the server runs with -v, as "nbdts: PLUGIN: debug: message", through the log of the
 * server running the plugin (the one started last, when a program embeds several). The route
 * lives on globalThis under a registry symbol, so a plugin that bundles its own copy of this
 * module (as Node's esbuild step does for a .ts plugin) still reaches the server's log. Without
 * -v no route is set, and a call costs one property read.
 */

/** Where debug() lines go: set by the server, absent without -v. */
type Route = (message: string) => void;

const ROUTE: unique symbol = Symbol.for("nbdts.debug");

interface Routed {
  [ROUTE]?: Route;
}

/** Prints `message` as a debug line of the server running this plugin, when it runs with -v. */
export function debug(message: string): void {
  (globalThis as Routed)[ROUTE]?.(String(message));
}

/** Sends every later debug() call to `route`; undefined silences them. For the server alone. */
export function routeDebug(route: Route | undefined): void {
  (globalThis as Routed)[ROUTE] = route;
}
