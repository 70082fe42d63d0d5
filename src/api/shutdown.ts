/**
 * shutdown(): a plugin or filter asks the server to stop, nbdkit_shutdown's counterpart (the
 * exitlast and exitwhen filters call it). It returns at once; the server then stops as a
 * SIGTERM would stop it: no new connections, running requests finish, the plugin is cleaned
 * up and unloaded, and the program exits 0 (under --run the command runs on, and its status is
 * still the server's). The route lives on globalThis under a registry symbol, so a plugin that
 * bundles its own copy of this module (as Node's esbuild step does for a .ts plugin) still
 * reaches the server; a server built for embedding routes it to Server.shutdown(), and an
 * embedding program may route it anywhere with routeShutdown.
 */

/** What shutdown() calls: set by the server. */
type Route = () => void;

const ROUTE: unique symbol = Symbol.for("nbdts.shutdown");

interface Routed {
  [ROUTE]?: Route;
}

/** Asks the server running this plugin to stop, as SIGTERM would; returns at once. */
export function shutdown(): void {
  (globalThis as Routed)[ROUTE]?.();
}

/** Sends every later shutdown() call to `route`; undefined makes them do nothing. */
export function routeShutdown(route: Route | undefined): void {
  (globalThis as Routed)[ROUTE] = route;
}
