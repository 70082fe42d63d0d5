/**
 * The TLS suites a pre-shared key is offered and taken with, on both sides of STARTTLS
 * (starttls.ts serving, node-connect.ts connecting). A constant only: no state.
 */

/**
 * With pre-shared keys: TLS 1.3 (OpenSSL takes an external PSK only with a SHA-256 suite) and
 * the TLS 1.2 PSK suites nbdkit's GnuTLS priority adds (+ECDHE-PSK:+DHE-PSK:+PSK).
 */
export const PSK_CIPHERS = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_CHACHA20_POLY1305_SHA256",
  "ECDHE-PSK-CHACHA20-POLY1305",
  "ECDHE-PSK-AES256-CBC-SHA384",
  "ECDHE-PSK-AES128-CBC-SHA256",
  "DHE-PSK-AES256-GCM-SHA384",
  "DHE-PSK-AES128-GCM-SHA256",
  "DHE-PSK-CHACHA20-POLY1305",
  "PSK-AES256-GCM-SHA384",
  "PSK-AES128-GCM-SHA256",
  "PSK-CHACHA20-POLY1305",
].join(":");
