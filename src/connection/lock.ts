/**
 * A first-come first-served async mutex: how the serialized thread models are honoured on one
 * event loop. `run` queues the task behind every task already queued on this lock.
 */

export class Lock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => {});
    return result;
  }
}
