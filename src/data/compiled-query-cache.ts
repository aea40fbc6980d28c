/**
 * @internal SQL compiled once per query shape, then reused with new parameter values.
 * @module
 */
import { CompiledQuery, type Compilable } from "kysely";

/**
 * A placeholder for the `index`-th parameter of a query plan. Queries are built with slots in
 * place of values; compiling shows where Kysely put each one, so later calls with the same
 * shape only need their values arranged in that order.
 */
export class Slot {
  constructor(readonly index: number) {}
}

interface Entry {
  readonly sql: string;
  /** For each SQL parameter: the index of its plan value, or a constant wrapped in an array. */
  readonly sources: readonly (number | readonly [unknown])[];
}

/** Compiled SQL per shape key (one cache per backend: the SQL depends on the dialect). */
export class CompiledQueryCache {
  readonly #entries = new Map<string, Entry>();
  readonly #size: number;

  constructor(size = 2000) {
    this.#size = size;
  }

  /**
   * The compiled query for `key` with `values` bound. `build` runs only the first time a key is
   * seen; it must build the same SQL for every call with that key, using `new Slot(i)` for
   * `values[i]`.
   */
  get(key: string, values: readonly unknown[], build: () => Compilable<unknown>): CompiledQuery {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const compiled = build().compile();
      entry = {
        sql: compiled.sql,
        sources: compiled.parameters.map((parameter) => (parameter instanceof Slot ? parameter.index : [parameter] as const)),
      };
      if (this.#entries.size >= this.#size) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(key, entry);
    }
    const sources = entry.sources;
    const parameters = new Array<unknown>(sources.length);
    for (let i = 0; i < sources.length; i++) {
      const source = sources[i]!;
      parameters[i] = typeof source === "number" ? values[source] : source[0];
    }
    return CompiledQuery.raw(entry.sql, parameters);
  }

  /** How many shapes are cached (for tests that guard against per-call compilation). */
  get size(): number {
    return this.#entries.size;
  }
}
