/**
 * @internal A FIFO lock on SQLite's single connection, with a bounded wait.
 * @module
 */

/**
 * Hands the one connection to one holder at a time, in arrival order. A waiter that is not
 * served within `timeoutMs` is refused with an error that says what usually causes it.
 */
export class ConnectionMutex {
  #locked = false;
  readonly #waiters: (() => void)[] = [];
  readonly #timeoutMs: number;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Whether a holder has the connection now. */
  get locked(): boolean {
    return this.#locked;
  }

  /** Takes the connection when it is free, at once; `false` when someone holds it. */
  tryLock(): boolean {
    if (this.#locked) return false;
    this.#locked = true;
    return true;
  }

  lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(
          new Error(
            `Waited ${this.#timeoutMs} ms for the SQLite connection, held by a transaction all that time. ` +
              "Inside a transaction, use the data and db it gives you (tx.data, tx.db), not backend.system or backend.db.",
          ),
        );
      }, this.#timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  unlock(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#locked = false;
  }
}
