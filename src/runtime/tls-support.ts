/**
 * A runtime's TlsSupport for every runtime that implements node:tls: the STARTTLS side
 * (starttls.ts, over node:tls and node:crypto) is imported only when a server prepares TLS, so
 * one that settles on --tls=off never loads either. `pskUnavailable` says why --tls-psk cannot
 * work there, and `crlUnavailable` why its TLS would not check ca-crl.pem, if so.
 */

import type { TlsSupport } from "../io.ts";

export function tlsSupport(pskUnavailable?: string, crlUnavailable?: string): TlsSupport {
  return {
    pskUnavailable,
    async prepare(credentials) {
      const { startTlsWith } = await import("./starttls.ts");
      return startTlsWith(credentials, crlUnavailable);
    },
  };
}
