/**
 * Accepts connections from any runtime's listener, runs the plugin's preconnect and the
 * SERIALIZE_CONNECTIONS lock before greeting, tracks live sessions, and shuts down by letting
 * each finish what it is running.
 */

import type { Log } from "../api/log.ts";
import type { ServerContext } from "./context.ts";
import { messageOf } from "../api/errors.ts";
import { endSleeps } from "../api/sleep.ts";
import type { Channel, Receiver } from "../io.ts";
import { THREAD_MODEL } from "../api/plugin.ts";
import { Session } from "./session.ts";

export class Server {
  private readonly ctx: ServerContext;
  private readonly sessions = new Set<Session>();
  private nextId = 1;
  private stopping = false;

  constructor(ctx: ServerContext) {
    this.ctx = ctx;
  }

  /** The server's log, for what its embedder refuses before a connection exists. */
  get log(): Log {
    return this.ctx.log;
  }

  /** A new connection: returns where its bytes go. Pass it to a runtime's listen(). */
  readonly accept = (channel: Channel): Receiver => {
    const session = new Session(this.ctx, channel, this.nextId++);
    if (this.stopping) {
      channel.close();
      return session;
    }
    this.sessions.add(session);
    void session.done.then(() => this.sessions.delete(session));
    void this.begin(session, channel);
    return session;
  };

  private async begin(session: Session, channel: Channel): Promise<void> {
    session.log.debug(`new connection from ${channel.peer}`);
    session.log.control("preconnect");
    try {
      await this.ctx.plugin.preconnect?.(this.ctx.readonly, channel.address);
    } catch (error) {
      session.log.error(`preconnect: ${messageOf(error)}`);
      channel.close();
      return void session.shutdown();
    }
    if (this.ctx.threadModel === THREAD_MODEL.SERIALIZE_CONNECTIONS) {
      void this.ctx.connectionLock.run(() => {
        session.start();
        return session.done;
      });
    } else {
      session.start();
    }
  }

  /** Live connections. */
  get connections(): number {
    return this.sessions.size;
  }

  /**
   * Stops taking connections and waits for each live one to finish and close; requests asleep
   * in sleep() (the delay filter) fail at once with ESHUTDOWN, as nbdkit_nanosleep does.
   */
  async shutdown(): Promise<void> {
    this.stopping = true;
    endSleeps();
    await Promise.all([...this.sessions].map((session) => session.shutdown()));
  }
}
