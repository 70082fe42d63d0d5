/**
 * logError(message): a plugin's or filter's own error line, nbdkit_error's counterpart for what
 * is not the failure of a request (those throw NbdError): a filter warning that it will do
 * nothing, say. It prints, always, as "nbdts: PLUGIN: error: message" through the log of the
 * server running the plugin (the one built last, when a program embeds several). The route
 * lives on globalThis under a registry symbol, so a plugin that bundles its own copy of this
 * module (as Node's esbuild step does for a .ts plugin) still reaches the server's log.
 */

/** Where logError() lines go: set by the server. */
type Route = (message: string) => void;

const ROUTE: unique symbol = Symbol.for("nbdts.error");

interface Routed {
  [ROUTE]?: Route;
}

/** Prints `message` as an error line of the server running this plugin. */
export function logError(message: string): void {
  (globalThis as Routed)[ROUTE]?.(String(message));
}

/** Sends every later logError() call to `route`. For the server alone. */
export function routeErrors(route: Route): void {
  (globalThis as Routed)[ROUTE] = route;
}
