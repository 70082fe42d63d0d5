/**
 * A readers–writer lock for one event loop, the pthread_rwlock nbdkit's blocksize filter holds
 * across a read-modify-write: any number of readers at once, or one writer alone. Taking the
 * read side while it is free is a plain count, with no promise made, so a request that only
 * needs shared access costs nothing when nobody writes. Waiters are served in arrival order
 * (a reader arriving behind a waiting writer waits too), so a stream of readers cannot starve
 * a writer.
 */

/** One waiter: whether it wants the write side, and how to let it in. */
interface Waiter {
  readonly write: boolean;
  readonly grant: () => void;
}

export class RwLock {
  private readers = 0;
  private writing = false;
  private readonly waiting: Waiter[] = [];

  /** Takes the read side at once when it is free and nobody waits: true if taken. */
  tryRead(): boolean {
    if (this.writing || this.waiting.length > 0) return false;
    this.readers++;
    return true;
  }

  /** Takes the read side, waiting for writers ahead. */
  read(): Promise<void> {
    if (this.tryRead()) return Promise.resolve();
    return new Promise((grant) => this.waiting.push({ write: false, grant }));
  }

  /** Takes the write side, waiting until no reader or writer holds the lock. */
  write(): Promise<void> {
    if (!this.writing && this.readers === 0 && this.waiting.length === 0) {
      this.writing = true;
      return Promise.resolve();
    }
    return new Promise((grant) => this.waiting.push({ write: true, grant }));
  }

  releaseRead(): void {
    this.readers--;
    this.admit();
  }

  releaseWrite(): void {
    this.writing = false;
    this.admit();
  }

  /** Lets in the next writer, or every reader up to the next writer, if the lock allows. */
  private admit(): void {
    while (this.waiting.length > 0 && !this.writing) {
      const first = this.waiting[0];
      if (first.write) {
        if (this.readers > 0) return;
        this.writing = true;
      } else {
        this.readers++;
      }
      this.waiting.shift();
      first.grant();
    }
  }
}
