/**
 * @internal Named prepared statements for the SQL that runs again and again.
 *
 * `pg` sends a statement without a name unless given one, and PostgreSQL then parses and plans
 * it on every execution. A statement with a name is parsed once per connection and then only
 * bound and run. cimiento compiles its SQL once per query shape, so the same texts come back
 * with new values: a text is given a name the second time it runs, and runs by that name from
 * then on, on every connection of the pool (each prepares it the first time it runs it there).
 *
 * Bounded: at most `size` texts are named, for the life of the pool (a prepared statement stays
 * on its connection until the connection closes); texts past that run without a name, as
 * before. Texts seen once are remembered in a bounded list of their own, so one-off statements
 * do not use up the names. Schema changes (`create`, `alter`, `drop`, ...) end every name given
 * so far, since PostgreSQL refuses to run a prepared statement whose result columns changed:
 * the same texts then get new names.
 * @module
 */
import type { PostgresCursor, PostgresPool, PostgresPoolClient } from "kysely";
import type pg from "pg";

/** Statements that change the schema, or that must not be named (transaction control). */
const UNNAMED = /^\s*(?:create|alter|drop|truncate|comment|grant|revoke|begin|start|commit|rollback|savepoint|release|set|reset|prepare|deallocate|discard|listen|notify|lock|vacuum|analyze)\b/i;
const SCHEMA_CHANGE = /^\s*(?:create|alter|drop|truncate|comment|grant|revoke|discard)\b/i;

const TRANSACTION_START = /^\s*(?:begin|start)\b/i;
const TRANSACTION_END = /^\s*(?:commit|rollback|end|abort)\b(?!\s+to\b)/i;

/** PostgreSQL's refusal to run a prepared statement whose result columns changed. */
function isStalePlan(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === "0A000" && typeof message === "string" && message.includes("cached plan must not change result type");
}

/** The names given to SQL texts, shared by every connection of one pool. */
export class StatementNames {
  readonly #size: number;
  readonly #named = new Map<string, string>();
  /** Texts seen once, oldest first. */
  readonly #seen = new Set<string>();
  #generation = 0;
  #counter = 0;

  constructor(size: number) {
    this.#size = size;
  }

  /** The name to run `text` by, or `undefined` to run it without one. */
  nameOf(text: string): string | undefined {
    const name = this.#named.get(text);
    if (name !== undefined) return name;
    if (this.#size <= 0) return undefined;
    if (UNNAMED.test(text)) {
      if (SCHEMA_CHANGE.test(text)) this.forget();
      return undefined;
    }
    if (!this.#seen.has(text)) {
      this.#seen.add(text);
      if (this.#seen.size > this.#size * 2) this.#seen.delete(this.#seen.values().next().value!);
      return undefined;
    }
    if (this.#named.size >= this.#size) return undefined;
    this.#seen.delete(text);
    const given = `cimiento_${this.#generation}_${this.#counter++}`;
    this.#named.set(text, given);
    return given;
  }

  /** Ends every name given so far (after a schema change): texts get new names. */
  forget(): void {
    this.#named.clear();
    this.#seen.clear();
    this.#generation++;
    this.#counter = 0;
  }

  /** How many texts have a name (for tests). */
  get size(): number {
    return this.#named.size;
  }
}

function ignore(): void {}

/**
 * Runs a statement on a client and resolves with its result, through `pg`'s callback. Without
 * a callback `pg` answers with a promise of its own, and the rows it holds then outlive their
 * request: on Node 20 they survived the next young-generation collection and were moved to the
 * old generation, about 17 KB per page of 20 records, where the callback leaves almost nothing.
 */
function queryOf(client: pg.PoolClient, config: pg.QueryConfig): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    client.query(config, (error: Error | undefined, result: pg.QueryResult) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * `pool` as Kysely's driver sees it, running every statement that has a name by that name.
 * Each client is wrapped once, so Kysely keeps its own state per connection as it would.
 */
export function namingPool(pool: pg.Pool, names: StatementNames): PostgresPool {
  const wrapped = new WeakMap<object, PostgresPoolClient>();
  // A connection lost while checked out fails its statement, which reports it; pg also emits
  // it as an 'error' of the client, which would end the process unheard. The pool drops such a
  // client when it is released.
  pool.on("connect", (client) => client.on("error", ignore));
  function wrap(client: pg.PoolClient): PostgresPoolClient {
    let wrapper = wrapped.get(client);
    if (wrapper === undefined) {
      let inTransaction = false;
      const run = async (text: string, values: unknown[]) => {
        if (TRANSACTION_START.test(text)) inTransaction = true;
        else if (TRANSACTION_END.test(text)) inTransaction = false;
        const name = names.nameOf(text);
        if (name === undefined) return queryOf(client, { text, values });
        try {
          return await queryOf(client, { name, text, values });
        } catch (error) {
          // The table changed under a prepared statement (by another connection or process):
          // PostgreSQL refuses it before running it. Outside a transaction it runs again, under a
          // new name; in one, the transaction has failed and the error stands.
          if (!isStalePlan(error)) throw error;
          names.forget();
          if (inTransaction) throw error;
          return queryOf(client, { text, values });
        }
      };
      wrapper = {
        query: ((textOrCursor: string | PostgresCursor<unknown>, parameters?: readonly unknown[]) =>
          typeof textOrCursor === "string"
            ? run(textOrCursor, parameters === undefined ? [] : [...parameters])
            : client.query(textOrCursor as unknown as pg.Submittable)) as unknown as PostgresPoolClient["query"],
        release: (destroy) => {
          out.delete(client);
          client.release(destroy);
        },
      };
      wrapped.set(client, wrapper);
    }
    return wrapper;
  }
  // The clients checked out, so that closing cuts those a statement still holds (past the
  // backend's shutdown timeout) rather than wait for them without end.
  const out = new Set<pg.PoolClient>();
  return {
    connect: async () => {
      const client = await pool.connect();
      out.add(client);
      return wrap(client);
    },
    end: async () => {
      const ended = pool.end();
      if (out.size === 0) return ended;
      // The pool ends once every client is back, which a statement stuck in a handler may never
      // give: its connection is cut, and its next statement fails.
      const cut = Promise.all([...out].map((client) => client.end().catch(ignore)));
      // Once cut, the pool's own end may settle later still, unawaited.
      ended.catch(ignore);
      await Promise.race([ended, cut]);
    },
  };
}
