/**
 * Binding a TCP port on every address when none is named, as nbdkit does, for the adapters whose
 * runtime will not pick the addresses itself (Deno, Bun).
 */

/** Binds with `bind` on `host`, or on every address when `host` is undefined. */
export type BindTcp = <T>(host: string | undefined, bind: (hostname: string) => T) => T;

/**
 * An adapter's bindTcp: "::" takes IPv4 too, and "0.0.0.0" is the fallback where IPv6 is
 * missing. An error that `final` recognizes (a port in use or forbidden) fails at once.
 */
export function tcpBinder(final: (error: unknown) => boolean): BindTcp {
  return (host, bind) => {
    if (host !== undefined) return bind(host);
    try {
      return bind("::");
    } catch (error) {
      if (final(error)) throw error;
      return bind("0.0.0.0");
    }
  };
}
