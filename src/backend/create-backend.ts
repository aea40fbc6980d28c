/**
 * `createBackend()`: a schema and a database become a typed backend.
 * @module
 */
import type { Kysely } from "kysely";
import type { Principal } from "../access/principal.js";
import type { AnyAction } from "../actions/action.js";
import type { DatabaseAdapter } from "../dialects/dialect.js";
import { sqlite } from "../dialects/sqlite/index.js";
import { CompiledQueryCache } from "../data/compiled-query-cache.js";
import { rootContext, type Shared } from "../data/context.js";
import { consoleLogger, type Logger } from "../errors/logger.js";
import { SchemaError } from "../errors/schema-error.js";
import { migrate, type MigrateOptions, type MigrationResult } from "../migrate/migrate.js";
import { buildModel } from "../schema/model.js";
import type { DB, DialectName, Schema } from "../schema/types.js";
import { createApp } from "../http/create-app.js";
import type { AuthOptions, HttpOptions } from "../http/options.js";
import { registerApp } from "../http/registry.js";
import { createScope, type Scope } from "./scope.js";

/** What `createBackend` takes. */
export interface BackendOptions<S extends Schema, D extends DialectName, A extends Record<string, AnyAction>> {
  /**
   * The database.
   * @default sqlite({ file: "./data/cimiento.db" })
   */
  database?: DatabaseAdapter<D>;
  /** The collections, each under its own name: `{ posts, users }`. */
  collections: S;
  /**
   * Versioned migrations (Kysely's Migrator format) that `migrate()` runs before it syncs the
   * schema; the way to make changes it refuses to make on its own (drops, renames, type changes).
   */
  migrations?: MigrateOptions["migrations"];
  /** The actions, by name: `{ publish }`. */
  actions?: A;
  /**
   * Where failures without a caller to throw to are reported (a failed `afterCommit` handler, an
   * unexpected error while serving a request).
   * @default console
   */
  logger?: Logger;
  /** Who calls over HTTP; absent: every request is anonymous. */
  auth?: AuthOptions;
  /** The HTTP handler's limits, CORS and error format. */
  http?: HttpOptions;
}

/**
 * A backend: typed data access through scopes, Kysely for everything else, migrations.
 */
export interface Backend<S extends Schema, D extends DialectName, A extends Record<string, AnyAction> = {}> {
  /** The dialect of the database. */
  readonly dialect: D;
  /**
   * The system scope: full access, no rules. The one explicit bypass.
   * @example
   * ```ts
   * const post = await backend.system.data.posts.get(id);
   * ```
   */
  readonly system: Scope<S, D, A, "system">;
  /**
   * The scope of a caller: `null` for anonymous, or a principal with at least `id` and `role`.
   * Every collection rule, field rule and action rule applies to it.
   * @example
   * ```ts
   * const page = await backend.as({ id: user.id, role: user.role }).data.posts.list();
   * await backend.as(null).actions.signUp({ email, password });
   * ```
   */
  as(user: Principal | null): Scope<S, D, A, "caller">;
  /**
   * Kysely over the backend's database, typed from the collections (with the column types the
   * driver returns: on SQLite booleans are `0`/`1`, datetimes ISO strings, JSON text).
   * @example
   * ```ts
   * const rows = await backend.db.selectFrom("posts").select(["id", "title"]).where("published", "=", 1).execute();
   * ```
   */
  readonly db: Kysely<DB<S, D>>;
  /**
   * Brings the database up to the schema: runs the versioned migrations not yet applied, then
   * applies additive changes (tables, columns, indexes, foreign keys). A destructive or ambiguous
   * change is refused with a `MigrationError` that names it. Idempotent.
   * @example
   * ```ts
   * const { changes } = await backend.migrate();
   * for (const change of changes) console.log(change.description);
   * ```
   */
  migrate(options?: MigrateOptions): Promise<MigrationResult>;
  /**
   * The HTTP API as one Fetch handler, relative to wherever it is mounted: collection routes,
   * actions, `GET /health`. Mount it in any server that speaks Fetch, or with `cimiento/node`
   * and `cimiento/hono`.
   * @example
   * ```ts
   * const response = await backend.fetch(new Request("http://localhost/collections/posts/records?limit=5"));
   * honoApp.mount("/api", backend.fetch);
   * ```
   */
  fetch(request: Request): Promise<Response>;
  /** Closes the database connections. */
  close(): Promise<void>;
}

function checkPrincipal(user: unknown): void {
  if (user === null) return;
  const candidate = user as { id?: unknown; role?: unknown } | undefined;
  if (typeof candidate !== "object" || typeof candidate.id !== "string" || typeof candidate.role !== "string") {
    throw new TypeError("backend.as(user) takes null or a principal with a string id and a string role.");
  }
}

/**
 * Creates a backend from collections and a database. Nothing touches the database until the
 * first query; call `migrate()` to create or extend the tables.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { collection, createBackend, field } from "cimiento";
 * import { sqlite } from "cimiento/sqlite";
 *
 * const users = collection("users", { fields: { name: field.text() } });
 * const posts = collection("posts", {
 *   fields: { title: field.text(z.string().min(1)), author: field.belongsTo("users") },
 * });
 *
 * export const backend = createBackend({
 *   database: sqlite({ file: "./data/app.db" }),
 *   collections: { users, posts },
 * });
 * await backend.migrate();
 * ```
 */
export function createBackend<
  const S extends Schema,
  D extends DialectName = "sqlite",
  const A extends Record<string, AnyAction> = {},
>(options: BackendOptions<S, D, A>): Backend<S, D, A> {
  const model = buildModel(options.collections);
  // cimiento's own tables (sessions, jobs, ...): migrated with the collections, never in the data
  // API nor the HTTP routes.
  const systemCollections: Schema = {};
  const storage = Object.keys(systemCollections).length === 0 ? model : buildModel({ ...options.collections, ...systemCollections });
  const actions: Readonly<Record<string, AnyAction>> = options.actions ?? {};
  for (const [name, value] of Object.entries(actions)) {
    if (typeof value !== "object" || value === null || !("definition" in value)) {
      throw new SchemaError(`The action "${name}" is not an action: define it with action({ input, handler }).`);
    }
  }
  const database = options.database ?? (sqlite() as unknown as DatabaseAdapter<D>);
  const runtime = database.open();
  const shared: Shared = {
    runtime,
    model,
    cache: new CompiledQueryCache(),
    logger: options.logger ?? consoleLogger,
    actions,
    scopeOf: (ctx) => createScope(ctx, actions),
  };
  const system = createScope(rootContext(shared, null, true), actions) as unknown as Scope<S, D, A, "system">;
  // A scope holds no state of its own: the anonymous caller's is made once, not per request.
  const anonymousContext = rootContext(shared, null, false);
  const anonymous = { ctx: anonymousContext, scope: createScope(anonymousContext, actions) };
  const callerOf = (user: Principal | null) => {
    if (user === null) return anonymous;
    const ctx = rootContext(shared, user, false);
    return { ctx, scope: createScope(ctx, actions) };
  };
  const app = createApp(
    {
      model,
      actions,
      logger: shared.logger,
      caller: callerOf,
    },
    options.http ?? {},
    options.auth,
  );
  const backend: Backend<S, D, A> = {
    dialect: database.dialect,
    system,
    as: (user) => {
      checkPrincipal(user);
      return callerOf(user).scope as unknown as Scope<S, D, A, "caller">;
    },
    db: runtime.kysely as Kysely<DB<S, D>>,
    migrate: (migrateOptions = {}) =>
      migrate(runtime, storage, { ...migrateOptions, migrations: migrateOptions.migrations ?? options.migrations }),
    fetch: async (request) => app.fetch(request),
    close: () => runtime.close(),
  };
  registerApp(backend, app);
  return backend;
}
