/**
 * The three TLS modes a server runs in (--tls): the negotiation obeys them, the command line
 * parses them, start-up settles them against the credentials that load.
 */

/** "on" lets a client choose STARTTLS; "require" refuses everything else before it. */
export const TLS_MODE = { OFF: "off", ON: "on", REQUIRE: "require" } as const;
export type TlsMode = (typeof TLS_MODE)[keyof typeof TLS_MODE];
