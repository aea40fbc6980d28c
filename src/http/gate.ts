/**
 * @internal The requests a backend is answering, so that `backend.close()` can stop taking new
 * ones and wait for those it took.
 * @module
 */

/** Counts the requests in flight; once closing, refuses new ones and says when none is left. */
export class RequestGate {
  #inFlight = 0;
  #closing = false;
  #idle: (() => void)[] = [];

  /** Whether `close` was called: new requests are refused. */
  get closing(): boolean {
    return this.#closing;
  }

  /** How many requests are being answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** A request starts. */
  enter(): void {
    this.#inFlight++;
  }

  /** A request is answered (or failed). */
  leave(): void {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#idle.length > 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /**
   * Refuses new requests from now on, and waits until those in flight are answered or `timeout`
   * milliseconds have passed; `true` when they all were.
   */
  async close(timeout: number): Promise<boolean> {
    this.#closing = true;
    if (this.#inFlight === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = new Promise<true>((resolve) => this.#idle.push(() => resolve(true)));
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeout)));
    try {
      return await Promise.race([drained, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
