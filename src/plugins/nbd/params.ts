/**
 * The nbd plugin's --help text and the TLS parameters it knows, as nbdkit's nbd plugin lists
 * them (its TLS needs a TLS client, which this one does not have yet).
 */

/** Any of these alone turns tls on, as in nbdkit (tls=on unless tls= says otherwise). */
export const TLS_KEYS: readonly string[] = [
  "tls-certificates",
  "tls-verify",
  "tls-username",
  "tls-psk",
];

export const NBD_CONFIG_HELP = [
  "[uri=]<URI>            URI of an NBD server to connect to (nbd://, nbd+unix://, nbd+ws://).",
  "socket=<SOCKNAME>      The Unix socket to connect to.",
  "hostname=<HOST>        The hostname for the TCP socket to connect to.",
  "port=<PORT>            TCP port to use (default 10809).",
  "command=<COMMAND>      Command to run (given a socket by socket activation).",
  "arg=<ARG>              Parameters for command.",
  "websocket-listen=[HOST:]PORT  Wait for a server to dial in over a WebSocket (a web page).",
  "websocket-origin=<ORIGIN>     A web page's origin allowed to dial in (repeatable).",
  'export=<NAME>          Export name to connect to (default "").',
  "dynamic-export=<BOOL>  True to enable export name pass-through.",
  "retry=<N>              Retry connection up to N seconds (default 0).",
  "shared=<BOOL>          True to share one server connection among all clients,",
  "                       rather than a connection per client (default false).",
  "tls=<MODE>             How to use TLS: only 'off' for now.",
].join("\n");
