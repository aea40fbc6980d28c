/**
 * @internal SQL compiled once per query shape, then reused with new parameter values.
 * @module
 */
import { inspect, isDeepStrictEqual } from "node:util";
import { createQueryId, RawNode, type CompiledQuery, type Compilable } from "kysely";
import type { StatementKey } from "./statement-key.js";

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
  /** The operation node of the raw SQL, made once: the same for every execution. */
  readonly node: RawNode;
  /** For each SQL parameter: the index of its plan value, or a constant wrapped in an array. */
  readonly sources: readonly (number | readonly [unknown])[];
}

/**
 * The environment variable that turns on the verifying mode (`1`): every cache hit builds and
 * compiles its statement again and throws when it differs from the cached one. The test suite
 * runs under it, so that a key that forgets a choice of the SQL fails a test instead of serving
 * another shape's statement.
 */
export const VERIFY_STATEMENTS = "CIMIENTO_VERIFY_STATEMENTS";

function compile(build: () => Compilable<unknown>): Entry {
  const compiled = build().compile();
  return {
    sql: compiled.sql,
    node: RawNode.createWithSql(compiled.sql),
    sources: compiled.parameters.map((parameter) => (parameter instanceof Slot ? parameter.index : [parameter] as const)),
  };
}

function describeEntry(entry: Entry): string {
  const sources = entry.sources.map((source) => (typeof source === "number" ? `$${source}` : inspect(source[0])));
  return `${entry.sql}\n    parameters: [${sources.join(", ")}]`;
}

/** Compiled SQL per statement key (one cache per backend: the SQL depends on the dialect). */
export class CompiledQueryCache {
  readonly #entries = new Map<string, Entry>();
  readonly #size: number;
  readonly #verify: boolean;

  /**
   * @param verify Whether every hit compiles its statement again and compares (see
   * {@link VERIFY_STATEMENTS}); read from the environment by default.
   */
  constructor(size = 2000, verify = process.env[VERIFY_STATEMENTS] === "1") {
    this.#size = size;
    this.#verify = verify;
  }

  /**
   * The compiled query for `key` with `values` bound. `build` runs only the first time a key is
   * seen; it must build the same SQL for every call with that key, using `new Slot(i)` for
   * `values[i]`.
   */
  get(key: StatementKey, values: readonly unknown[], build: () => Compilable<unknown>): CompiledQuery {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = compile(build);
      if (this.#entries.size >= this.#size) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(key, entry);
    } else if (this.#verify) {
      verify(key, entry, compile(build));
    }
    const sources = entry.sources;
    const parameters = new Array<unknown>(sources.length);
    for (let i = 0; i < sources.length; i++) {
      const source = sources[i]!;
      parameters[i] = typeof source === "number" ? values[source] : source[0];
    }
    return compiledQuery(entry, parameters);
  }

  /** Whether every hit is built again and compared (see {@link VERIFY_STATEMENTS}). */
  get verifying(): boolean {
    return this.#verify;
  }

  /** How many shapes are cached (for tests that guard against per-call compilation). */
  get size(): number {
    return this.#entries.size;
  }
}

/**
 * What `CompiledQuery.raw` makes, without a new operation node and three frozen objects per
 * execution: the node of a cached statement is made once, and the parameters are this
 * execution's own array, which nothing changes.
 */
function compiledQuery(entry: Entry, parameters: unknown[]): CompiledQuery {
  return { sql: entry.sql, query: entry.node, parameters, queryId: createQueryId() };
}

/** Throws when a statement built again for a key is not the one cached under it. */
function verify(key: string, cached: Entry, built: Entry): void {
  if (cached.sql === built.sql && isDeepStrictEqual(cached.sources, built.sources)) return;
  throw new Error(
    `The statement key ${JSON.stringify(key)} names two different statements (a key misses a choice that changes the SQL).\n` +
      `  cached: ${describeEntry(cached)}\n  built:  ${describeEntry(built)}`,
  );
}
