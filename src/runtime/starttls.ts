/**
 * STARTTLS for every runtime that implements node:tls (Node, Deno and Bun): wraps an accept so
 * each connection's channel can be upgraded in place. Until the upgrade the runtime's own
 * channel carries the clear NBD bytes; after it, that channel carries TLS records, which a
 * node:tls server socket turns back into the clear stream the session reads and writes.
 */

import { messageOf } from "../api/errors.ts";
import { createPrivateKey, randomBytes, X509Certificate } from "node:crypto";
import { Duplex } from "node:stream";
import { createSecureContext, createServer, type TlsOptions, type TLSSocket } from "node:tls";
import type {
  Accept,
  Channel,
  PeerAddress,
  Receiver,
  TlsCredentials,
  X509Credentials,
} from "../io.ts";
import { feed, socketChannel } from "./node-socket.ts";
import { PSK_CIPHERS } from "./psk-ciphers.ts";

/** Received TLS records buffered before the runtime's channel is paused. */
const RECORDS_HIGH_WATER = 256 * 1024;

/** Why a handshake failed when the client's side ended before it was done. */
const CLOSED_IN_HANDSHAKE = "the client closed the connection during the handshake";

/** GnuTLS's default handshake timeout, which nbdkit uses. */
const HANDSHAKE_TIMEOUT_MS = 40_000;

/**
 * Checks `credentials`, as a runtime's TlsSupport.prepare does (tls-support.ts): a PEM that
 * does not load throws, as does a ca-crl.pem this runtime's TLS would not check
 * (`crlUnavailable` says why). Answers what wraps an accept for STARTTLS with them.
 */
export function startTlsWith(
  credentials: TlsCredentials,
  crlUnavailable?: string,
): (accept: Accept) => Accept {
  // A PEM that does not load fails now, at start-up, as it does for nbdkit.
  if (credentials.kind === "x509") checkX509(credentials);
  // Better not to start than to let in clients whose certificates were revoked.
  const checksRevocation = credentials.kind === "x509" && credentials.verifyPeer &&
    credentials.crl !== undefined;
  if (checksRevocation && crlUnavailable) throw new Error(crlUnavailable);
  return (accept: Accept) => (plain: Channel) => {
    const channel = new UpgradableChannel(plain, credentials);
    channel.session = accept(channel);
    return channel.incoming;
  };
}

/** One connection: the runtime's channel in clear, a node:tls socket after STARTTLS. */
class UpgradableChannel implements Channel {
  readonly peer: string;
  /** Where the client is, as the runtime told it: preconnect (the ip filter) judges by it. */
  readonly address: PeerAddress | undefined;
  readonly confirmsWrites: boolean | undefined;
  /** Where decrypted (or, before STARTTLS, clear) bytes go: the session. */
  session!: Receiver;
  /** What the runtime delivers received bytes to. */
  readonly incoming: Receiver = {
    data: (chunk) => this.records ? this.records.receive(chunk) : this.session.data(chunk),
    // In clear, a large write payload may still be read straight into place.
    readBuffer: () => this.records ? undefined : this.session.readBuffer?.(),
    end: (error) => {
      if (!this.records) return this.session.end(error);
      // node:tls would wait out an end of its stream mid-handshake: make that end an error.
      this.records.end(error ?? (this.secure ? undefined : new Error(CLOSED_IN_HANDSHAKE)));
    },
  };
  private readonly plain: Channel;
  private readonly credentials: TlsCredentials;
  /** Set once STARTTLS begins: the TLS records travelling over `plain`. */
  private records: RecordStream | undefined;
  /** Set once the handshake is done. */
  private secure: Channel | undefined;
  private paused = false;

  constructor(plain: Channel, credentials: TlsCredentials) {
    this.plain = plain;
    this.peer = plain.peer;
    this.address = plain.address;
    // After STARTTLS, a node:tls socket's channel confirms every write (node-socket.ts).
    this.confirmsWrites = plain.confirmsWrites;
    this.credentials = credentials;
  }

  write(parts: Uint8Array[], written?: () => void): Promise<void> | undefined {
    if (this.secure) return this.secure.write(parts, written);
    // The session writes nothing while the handshake runs: clear bytes there would break it.
    if (!this.records) return this.plain.write(parts, written);
    written?.();
    return undefined;
  }

  pause(): void {
    this.paused = true;
    if (this.secure) this.secure.pause();
    else if (!this.records) this.plain.pause(); // the handshake reads whatever the session says
  }

  resume(): void {
    this.paused = false;
    if (this.secure) this.secure.resume();
    else if (!this.records) this.plain.resume();
  }

  close(): void {
    if (this.secure) return this.secure.close();
    this.records?.stream.destroy(); // a handshake under way fails
    this.plain.close();
  }

  async startTls(early: Uint8Array): Promise<void> {
    this.records = new RecordStream(this.plain, early);
    const tlsSocket = await handshake(this.records.stream, this.credentials);
    this.secure = socketChannel(tlsSocket, this.peer, this.address);
    feed(tlsSocket, this.session);
    if (this.paused) tlsSocket.pause();
  }
}

/**
 * The runtime's channel as a node:stream Duplex of TLS records, for node:tls to read and
 * write. Bytes are copied each way: the runtime may reuse what it delivers, and node:tls may
 * reuse what it writes once told it was written.
 */
class RecordStream {
  readonly stream: Duplex;
  private readonly plain: Channel;

  constructor(plain: Channel, early: Uint8Array) {
    this.plain = plain;
    const send = (chunks: Uint8Array[], done: (error?: Error | null) => void) => {
      const wait = plain.write(chunks.map((chunk) => new Uint8Array(chunk)));
      if (wait) wait.then(() => done(), done);
      else done();
    };
    this.stream = new Duplex({
      readableHighWaterMark: RECORDS_HIGH_WATER,
      read: () => plain.resume(),
      write: (chunk, _encoding, done) => send([chunk], done),
      writev: (chunks, done) => send(chunks.map(({ chunk }) => chunk), done),
      final: (done) => {
        plain.close();
        done();
      },
      destroy: (error, done) => {
        plain.close();
        done(error);
      },
    });
    // A failure here reaches node:tls as the stream's end, and the session through it; the
    // listener keeps an error raised before node:tls listens from ending the process.
    this.stream.on("error", () => {});
    // What the client sent after STARTTLS, before our ACK reached it, starts the TLS stream.
    if (early.length > 0) this.receive(early);
  }

  receive(chunk: Uint8Array): void {
    if (!this.stream.push(new Uint8Array(chunk))) this.plain.pause(); // read() resumes it
  }

  end(error?: Error): void {
    if (error) this.stream.destroy(error);
    else this.stream.push(null);
  }
}

/** The server side of a TLS handshake on `stream`; rejects when the client fails it. */
async function handshake(stream: Duplex, credentials: TlsCredentials): Promise<TLSSocket> {
  // node:tls documents emitting "connection" on a tls.Server to serve any duplex stream.
  const server = createServer(await serverOptions(credentials));
  return new Promise((resolve, reject) => {
    server.once("secureConnection", resolve);
    server.once("tlsClientError", (error: Error, socket: TLSSocket) => {
      // A refused client certificate surfaces as a hang-up: say what was wrong with it.
      const refused = socket?.authorizationError;
      reject(refused ? new Error(`client certificate refused: ${refused}`) : error);
    });
    // The client's side ended or broke first (node:tls names refused certificates above).
    stream.once("error", reject);
    server.emit("connection", stream);
  });
}

async function serverOptions(credentials: TlsCredentials): Promise<TlsOptions> {
  const common = { handshakeTimeout: HANDSHAKE_TIMEOUT_MS };
  if (credentials.kind === "x509") return { ...x509Options(credentials), ...common };
  const keys = await credentials.keys(); // read at each handshake, as GnuTLS does
  return {
    ...common,
    ciphers: PSK_CIPHERS,
    // An unknown user gets a random key, as GnuTLS does, so the handshake fails the same way
    // whether or not the name exists.
    pskCallback: (_socket: TLSSocket, identity: string) => keys.get(identity) ?? randomBytes(32),
  };
}

/**
 * Loads each PEM as nbdkit's GnuTLS calls would, naming the file that fails. Deno's node:tls
 * parses lazily, so node:crypto does the parsing; Node's and Bun's secure context then
 * checks the whole set (a CRL, for one).
 */
function checkX509(credentials: X509Credentials): void {
  const options = x509Options(credentials);
  const load = <T>(file: string, parse: () => T): T => {
    try {
      return parse();
    } catch (error) {
      throw new Error(`${file}: ${messageOf(error)}`);
    }
  };
  load("ca-cert.pem", () => new X509Certificate(options.ca as string));
  const cert = load("server-cert.pem", () => new X509Certificate(options.cert as string));
  const key = load("server-key.pem", () => createPrivateKey(options.key as string));
  if (!cert.checkPrivateKey(key)) {
    throw new Error("server-key.pem is not the private key of server-cert.pem");
  }
  load("the certificate directory", () => createSecureContext(options));
}

const decoder = new TextDecoder();

/** Certificates and key as OpenSSL wants them; --tls-verify-peer asks for a client's. */
function x509Options(credentials: X509Credentials): TlsOptions {
  return {
    ca: decoder.decode(credentials.ca),
    cert: decoder.decode(credentials.cert),
    key: decoder.decode(credentials.key),
    ...(credentials.crl ? { crl: decoder.decode(credentials.crl) } : {}),
    requestCert: credentials.verifyPeer,
    rejectUnauthorized: credentials.verifyPeer,
  };
}
