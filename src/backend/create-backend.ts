/**
 * `createBackend()`: a schema and a database become a typed backend.
 * @module
 */
import { rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Kysely } from "kysely";
import type { Principal } from "../define/principal.js";
import type { Action } from "../define/action.js";
import type { AnyAction } from "../define/handles.js";
import type { BackupProgress, DatabaseAdapter } from "../dialects/dialect.js";
import { sqlite } from "../dialects/sqlite/index.js";
import { CompiledQueryCache } from "../data/compiled-query-cache.js";
import { createDataApi } from "../data/collection-api.js";
import { rootContext, type DataContext, type Shared } from "../data/context.js";
import type { ActionServices } from "../actions/run-action.js";
import type { HookContext } from "../define/hooks.js";
import { hasSequences, sequenceTables } from "../data/generated.js";
import { resolveLimits, type Limits } from "../data/limits.js";
import { consoleLogger, type Logger } from "../define/logger.js";
import { SchemaError } from "../errors/schema-error.js";
import { migrate, type MigrateOptions, type MigrationResult } from "../migrate/migrate.js";
import { buildModel } from "../model/model.js";
import type { DB, DialectName, Schema } from "../define/types.js";
import type { AnyCollection } from "../define/types.js";
import { createApp } from "../http/create-app.js";
import { fetchHandler } from "../http/fetch-transport.js";
import type { HttpOptions } from "../http/options.js";
import { RequestGate } from "../http/gate.js";
import type { OpenApiDocument, OpenApiOptions } from "../openapi/document.js";
import { Auth } from "../auth/auth.js";
import type { AuthApi } from "../define/auth-api.js";
import type { AuthOptions, BuiltInAuthOptions, HostAuthOptions } from "../auth/options.js";
import { AuthHttp } from "../auth/caller.js";
import { authTables } from "../auth/tables.js";
import { isUsersCollection, usersCollection, type DefaultUsers } from "../define/users.js";
import type { AppAuth } from "../http/create-app.js";
import { systemClock, type Clock } from "../define/clock.js";
import type { AnyJob } from "../define/handles.js";
import type { JobsApi } from "../jobs/jobs-api.js";
import { JobsService, type JobsSystemScope } from "../jobs/jobs-service.js";
import type { Schedule } from "../define/schedule.js";
import { jobTables } from "../jobs/tables.js";
import { createNotifier } from "../dialects/notifier.js";
import type { Bus } from "../dialects/bus.js";
import { writeTracked } from "../data/raw-changes.js";
import { RealtimeService, realtimeSettings, type RealtimeOptions } from "../realtime/realtime-service.js";
import { realtimeTables } from "../realtime/event-log.js";
import { registerParts } from "./backend-parts.js";
import { createScope } from "./scope.js";
import type { Scope } from "../define/scope.js";

/** Options of `backend.close()`. */
export interface CloseOptions {
  /**
   * The most milliseconds to wait for the requests in flight before the database closes under
   * them.
   * @default 10000
   */
  timeout?: number;
}

/** What `createBackend` takes. */
export interface BackendOptions<
  S extends Schema,
  D extends DialectName,
  A extends Record<string, AnyAction>,
  Au extends AuthOptions | undefined = AuthOptions | undefined,
  J extends Record<string, AnyJob> = {},
> {
  /**
   * The database.
   * @default sqlite({ file: "./data/cimiento.db" })
   */
  database?: DatabaseAdapter<D>;
  /**
   * The collections, each under its own name: `{ posts, users }`. A backend that only runs jobs
   * needs none.
   * @default {}
   */
  collections?: S;
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
  /**
   * Who calls over HTTP: built-in auth (`{ password: {}, sessions: {...} }`: accounts in the
   * `users` collection, sessions, API keys, e-mail flows), or the host's own
   * (`{ resolve(request) }`). Absent: every request is anonymous.
   */
  auth?: Au;
  /** The HTTP handler's page size, body limit, CORS and error format. */
  http?: HttpOptions;
  /**
   * What one operation of a caller may ask for: records per list and per include, include
   * depth, records per request, `where` size, query length. The system scope is not bounded.
   * @default { maxLimit: 100, includeDepth: 3, rowsPerRequest: 10000, whereDepth: 16, whereConditions: 256, queryLength: 16384, jsonDepth: 64 }
   */
  limits?: Limits;
  /**
   * The background jobs, by name: `{ sendWelcome }`. With jobs, `migrate()` also creates the
   * tables `cimiento_jobs` and `cimiento_job_attempts`.
   */
  jobs?: J;
  /** Jobs enqueued on cron ticks, made by `schedule()`; workers run them. */
  schedules?: readonly Schedule[];
  /**
   * The settings of realtime: how long the event log keeps events (how far back a subscriber can
   * resume), the limits on subscriptions, the session checks and heartbeats. Realtime itself is
   * turned on per collection (`collection("posts", { ..., realtime: true })`).
   * @default { retention: 3_600_000, maxPerCaller: 16, maxPerProcess: 1000, maxBuffered: 1000, sessionCheckInterval: 5000, pollInterval: 1000, heartbeat: 15000 }
   */
  realtime?: RealtimeOptions;
  /**
   * A message bus between the instances (Redis, with `redisBus`): job workers and realtime
   * subscribers in other processes are woken through it as well as through the database
   * (PostgreSQL's `NOTIFY`, SQLite's `data_version`). Best effort, never the truth.
   */
  bus?: Bus;
  /**
   * The clock of jobs and schedules (due times, leases, cron ticks) and of built-in auth
   * (session, token and API key expiry, rate-limit windows).
   * @default the system clock
   */
  clock?: Clock;
}

/**
 * A backend: typed data access through scopes, Kysely for everything else, migrations.
 */
export interface Backend<
  S extends Schema,
  D extends DialectName,
  A extends Record<string, AnyAction> = {},
  J extends Record<string, AnyJob> = {},
> {
  /** The dialect of the database. */
  readonly dialect: D;
  /**
   * The system scope: full access, no rules. The one explicit bypass.
   * @example
   * ```ts
   * const post = await backend.system.data.posts.get(id);
   * ```
   */
  readonly system: Scope<S, D, A, "system", J>;
  /**
   * The scope of a caller: `null` for anonymous, a principal with at least `id` and `role`, or
   * what holds one as `user` (the caller `backend.auth.session(request)` finds, the identity of
   * `backend.auth.verifyToken`). Every collection rule, field rule and action rule applies to it.
   * @example
   * ```ts
   * const page = await backend.as({ id: user.id, role: user.role }).data.posts.list();
   * await backend.as(null).actions.signUp({ email, password });
   * const mine = await backend.as(await backend.auth.session(req)).data.posts.list(); // a host's route
   * ```
   */
  as(caller: Principal | { readonly user: Principal } | null): Scope<S, D, A, "caller", J>;
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
  fetch(request: Request, env?: unknown): Promise<Response>;
  /**
   * Built-in authentication in-process: create accounts, open sessions (for tests, say), check
   * tokens, manage API keys. Throws when the backend has no built-in auth.
   * @example
   * ```ts
   * const ada = await backend.auth.createUser({ email: "ada@example.com", password: "correct horse battery" });
   * const { token } = await backend.auth.createSession(ada.id);
   * ```
   */
  readonly auth: AuthApi<UsersOf<S>>;
  /**
   * The background jobs: start a worker in this process, list, inspect, retry and cancel jobs,
   * and listen to their events.
   * @example
   * ```ts
   * backend.jobs.start({ concurrency: 10 });
   * const failed = await backend.jobs.list({ state: "failed" });
   * ```
   */
  readonly jobs: JobsApi<J>;
  /**
   * The OpenAPI 3.1 document of the backend's HTTP API, built from the same definitions: every
   * collection's routes (a record as callers read it, the bodies of create and update, the query
   * parameters of a list, a page), every action (its input and output schemas, its own route),
   * the auth routes its options turn on, `/health`, the problem document of every error with
   * every stable code, and the security schemes. Built anew on each call; the same definitions
   * give the same document. `GET /openapi.json` serves it (see `http.openapi`).
   * @example
   * ```ts
   * const document = backend.openapi({
   *   info: { title: "Blog API", version: "1.0.0" },
   *   servers: [{ url: "https://blog.example.com/api" }],
   * });
   * await writeFile("openapi.json", JSON.stringify(document, null, 2));
   * ```
   */
  openapi(options?: OpenApiOptions): OpenApiDocument;
  /**
   * Shuts the backend down: from now on every request is answered 503 `UNAVAILABLE` (with
   * `Retry-After` and `Connection: close`); the requests in flight are waited for, at most
   * `timeout` milliseconds (default 10,000); then the worker of this process stops (waiting for
   * its running jobs) and the database connections close. A request still running then fails
   * with 503. Calling it again returns the same promise. Stop the HTTP server first (see
   * `closeOnSignals` in `cimiento/node`), so that no new connection arrives.
   * @example
   * ```ts
   * process.once("SIGTERM", async () => {
   *   server.close();
   *   await backend.close({ timeout: 10_000 });
   *   process.exit(0);
   * });
   * ```
   */
  close(options?: CloseOptions): Promise<void>;
  /**
   * SQLite: copies the database into `file`, consistent as of the moment the copy ends, while
   * the backend goes on serving (SQLite's online backup: the copy goes a few megabytes at a
   * time between requests, and this backend's writes during it are copied too). The copy is
   * written beside `file` and renamed to it once whole, so `file` is never half a backup.
   * Writes from other processes restart the copy. On PostgreSQL it throws: use `pg_dump` or
   * continuous archiving (docs/deploy.md).
   * @example
   * ```ts
   * const { bytes } = await backend.backup(`./backups/app-${new Date().toISOString().slice(0, 10)}.db`, {
   *   onProgress: ({ totalPages, remainingPages }) => console.log(`${totalPages - remainingPages}/${totalPages}`),
   * });
   * ```
   */
  backup(file: string, options?: BackupOptions): Promise<BackupResult>;
  /**
   * Realtime: publish the changes of writes made outside the data API, and see how many
   * subscriptions this process holds. Subscribing is `data.<name>.subscribe()` and
   * `GET /collections/:name/subscribe`, on collections declared with `realtime: true`.
   * @example
   * ```ts
   * await backend.realtime.write("posts", [id], (db) => db.updateTable("posts").set({ title: "Renamed" }).where("id", "=", id).execute());
   * console.log(backend.realtime.subscriptions);
   * ```
   */
  readonly realtime: RealtimeApi<S, D>;
}

/** `backend.realtime`. */
export interface RealtimeApi<S extends Schema, D extends DialectName> {
  /**
   * Runs `write` (Kysely statements of your own) in a transaction, between two reads of the
   * records `ids` of the realtime collection `collection`, and publishes what it did to them:
   * each one it created, changed or deleted is heard by subscribers like a write of the data
   * API. Writes through `backend.db` are otherwise not published. At most 10,000 ids.
   * @example
   * ```ts
   * await backend.realtime.write("posts", ids, (db) =>
   *   db.updateTable("posts").set({ published: 1 }).where("id", "in", ids).execute(),
   * );
   * ```
   */
  write<T>(collection: keyof S & string, ids: readonly string[], write: (db: Kysely<DB<S, D>>) => Promise<T>): Promise<T>;
  /** How many subscriptions this process holds. */
  readonly subscriptions: number;
}

/** Options of `backend.backup()`. */
export interface BackupOptions {
  /** Told after each step of the copy. */
  onProgress?: (progress: BackupProgress) => void;
}

/** What `backend.backup()` made. */
export interface BackupResult {
  /** The backup's file. */
  readonly file: string;
  /** Its pages. */
  readonly pages: number;
  /** Its size in bytes. */
  readonly bytes: number;
}

/** The `users` collection of a schema (the default one when it has none). */
export type UsersOf<S extends Schema> = S extends { users: infer U extends AnyCollection } ? U : DefaultUsers;

/**
 * The collections of a backend: with built-in auth, a `users` collection is added when the
 * host declares none.
 */
export type WithAuthUsers<S extends Schema, Au> = [Au] extends [BuiltInAuthOptions]
  ? "users" extends keyof S
    ? S
    : { [K in keyof S | "users"]: K extends keyof S ? S[K] : DefaultUsers }
  : S;

/** @internal Whether auth options are built-in auth (not a host's own `resolve`). */
export function isBuiltIn(auth: AuthOptions | undefined): auth is BuiltInAuthOptions {
  return auth !== undefined && typeof (auth as { resolve?: unknown }).resolve !== "function";
}

const refuse = async (): Promise<never> => {
  throw new TypeError("backend.auth needs built-in auth: createBackend({ auth: { password: {} } }).");
};
/** `backend.auth` of a backend without built-in auth: every call says how to turn it on. */
const noAuth: AuthApi = {
  createUser: refuse,
  signIn: refuse,
  createSession: refuse,
  verifyToken: refuse,
  session: refuse,
  revokeSession: refuse,
  revokeSessions: refuse,
  setPassword: refuse,
  sendVerificationEmail: refuse,
  apiKeys: { create: refuse, list: refuse, revoke: refuse },
};

function isPrincipal(value: unknown): value is Principal {
  const candidate = value as { id?: unknown; role?: unknown } | null;
  return typeof candidate === "object" && candidate !== null && typeof candidate.id === "string" && typeof candidate.role === "string";
}

/** The principal `backend.as` is given: itself, or the `user` of a caller or an identity. */
function principalOf(caller: unknown): Principal | null {
  if (caller === null || isPrincipal(caller)) return caller;
  const user = (caller as { user?: unknown } | undefined)?.user;
  if (typeof caller === "object" && isPrincipal(user)) return user;
  throw new TypeError(
    "backend.as(user) takes null, a principal with a string id and a string role, or a caller that holds one as user (what backend.auth.session(request) returns).",
  );
}

/**
 * Creates a backend from collections and a database, opening the database (SQLite creates its
 * file); call `migrate()` to create or extend the tables.
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
  const S extends Schema = {},
  D extends DialectName = "sqlite",
  const A extends Record<string, AnyAction> = {},
  const Au extends AuthOptions | undefined = AuthOptions | undefined,
  const J extends Record<string, AnyJob> = {},
>(options: BackendOptions<S, D, A, Au, J>): Backend<WithAuthUsers<S, Au>, D, A, J> {
  const builtIn = isBuiltIn(options.auth) ? options.auth : undefined;
  let collections: Schema = options.collections ?? {};
  if (builtIn !== undefined) {
    const users = collections["users"];
    if (users === undefined) collections = { ...collections, users: usersCollection() };
    else if (!isUsersCollection(users)) {
      throw new SchemaError('With built-in auth, declare the "users" collection with usersCollection({ fields }), which adds email, role and emailVerified.');
    }
  }
  const model = buildModel(collections);
  const hasJobs = Object.keys(options.jobs ?? {}).length > 0;
  if (!hasJobs && (options.schedules?.length ?? 0) > 0) {
    throw new SchemaError("createBackend({ schedules }) needs the jobs they enqueue in createBackend({ jobs }).");
  }
  // cimiento's own tables (sessions, jobs, ...): migrated with the collections, never in the data
  // API nor the HTTP routes.
  const hasRealtime = [...model.collections.values()].some((collection) => collection.realtime);
  const systemCollections: Schema = {
    ...(builtIn === undefined ? {} : authTables),
    ...(hasJobs ? jobTables : {}),
    ...(hasSequences(model) ? sequenceTables : {}),
    ...(hasRealtime ? realtimeTables : {}),
  };
  const storage = Object.keys(systemCollections).length === 0 ? model : buildModel({ ...collections, ...systemCollections });
  // What action() made: an Action, whose definition the services read.
  const actions = (options.actions ?? {}) as Readonly<Record<string, Action<never, unknown>>>;
  for (const [name, value] of Object.entries(actions)) {
    if (typeof value !== "object" || value === null || !("definition" in value)) {
      throw new SchemaError(`The action "${name}" is not an action: define it with action({ input, handler }).`);
    }
  }
  const database = options.database ?? (sqlite() as unknown as DatabaseAdapter<D>);
  const logger = options.logger ?? consoleLogger;
  const runtime = database.open(logger);
  // The parts are made from the bottom up, each given what it needs once: the data layer (whose
  // hooks reach scopes and jobs through ports), auth (on the data layer alone), then the
  // services of actions and the scopes. Scopes and jobs reach each other through functions
  // called only once the backend is made.
  const clock = options.clock ?? systemClock;
  // One notifier wakes job workers and realtime subscribers, here and in other processes.
  const bus = options.bus;
  if (bus !== undefined && (typeof bus !== "object" || bus === null || typeof bus.publish !== "function" || typeof bus.subscribe !== "function")) {
    throw new TypeError("createBackend({ bus }) takes an object with publish(message) and subscribe(onMessage), such as redisBus(clients).");
  }
  const notifier = createNotifier(runtime, logger, bus);
  const jobs: JobsService = new JobsService({
    runtime,
    jobs: options.jobs ?? {},
    schedules: options.schedules ?? [],
    clock,
    logger,
    notifier,
    system: () => systemScope as unknown as JobsSystemScope,
  });
  const realtime = new RealtimeService({ runtime, notifier, logger, clock, settings: realtimeSettings(options.realtime) });
  const enqueue: ActionServices["enqueue"] = (ctx, name, input, enqueueOptions) => jobs.enqueue(ctx, name, input, enqueueOptions);
  const limits = resolveLimits(options.limits, options.http?.maxLimit);
  const shared: Shared = {
    runtime,
    model,
    cache: new CompiledQueryCache(),
    logger,
    limits,
    ports: {
      systemScope: (ctx) => createScope(ctx.as(null, true), services) as unknown as HookContext["system"],
      enqueue,
      logChanges: (ctx, changes) => realtime.logChanges(ctx, changes),
      subscribe: (ctx, collection, subscribeOptions, sink) => realtime.subscribe(ctx, collection, subscribeOptions, sink),
      iterate: (ctx, collection, subscribeOptions) => realtime.iterate(ctx, collection, subscribeOptions),
    },
  };
  const systemContext = rootContext(shared, null, true);
  const usersOf = (ctx: DataContext) => createDataApi(ctx, model)["users"]!;
  const auth =
    builtIn === undefined
      ? undefined
      : new Auth(
          {
            runtime,
            logger,
            clock,
            users: model.collections.get("users")!,
            transaction: (fn) =>
              systemContext.atomic((tx) =>
                fn({ db: tx.db as Kysely<unknown>, createUser: (data) => usersOf(tx).create(data as never) as Promise<Record<string, unknown>> }),
              ),
            readUser: async (id) => (await usersOf(systemContext).get(id)) as Record<string, unknown> | null,
          },
          builtIn,
        );
  const services: ActionServices = {
    actions,
    scopeOf: (ctx) => createScope(ctx, services),
    enqueue,
    enqueueMany: (ctx, name, inputs, enqueueOptions) => jobs.enqueueMany(ctx, name, inputs, enqueueOptions),
    auth,
  };
  const systemScope = createScope(systemContext, services);
  const system = systemScope as unknown as Scope<WithAuthUsers<S, Au>, D, A, "system", J>;
  const jobsApi = jobs.api() as unknown as JobsApi<J>;
  const appAuth: AppAuth =
    auth !== undefined ? { builtIn: new AuthHttp(auth) } : options.auth === undefined ? undefined : { host: options.auth as HostAuthOptions };
  // A scope holds no state of its own: the anonymous caller's are made once, not per request.
  const scopeOf = (ctx: DataContext) => ({ ctx, scope: createScope(ctx, services) });
  const anonymous = scopeOf(rootContext(shared, null, false));
  const anonymousAnswering = scopeOf(rootContext(shared, null, false, true));
  const callerOf = (user: Principal | null, textDates = false) => {
    if (user === null) return textDates ? anonymousAnswering : anonymous;
    return scopeOf(rootContext(shared, user, false, textDates));
  };
  const gate = new RequestGate();
  const { core, openapi } = createApp(
    {
      model,
      actionServices: services,
      logger,
      limits,
      caller: callerOf,
      gate,
      classify: (error) => runtime.classify(error),
      realtime,
    },
    options.http ?? {},
    appAuth,
  );
  const backend: Backend<WithAuthUsers<S, Au>, D, A, J> = {
    dialect: database.dialect,
    system,
    as: (caller) => callerOf(principalOf(caller)).scope as unknown as Scope<WithAuthUsers<S, Au>, D, A, "caller", J>,
    db: runtime.kysely as Kysely<DB<WithAuthUsers<S, Au>, D>>,
    migrate: (migrateOptions = {}) =>
      migrate(runtime, storage, { ...migrateOptions, migrations: migrateOptions.migrations ?? options.migrations }),
    fetch: fetchHandler(core),
    auth: (auth ?? noAuth) as unknown as AuthApi<UsersOf<WithAuthUsers<S, Au>>>,
    jobs: jobsApi,
    openapi,
    close: (closeOptions = {}) => {
      closing ??= (async () => {
        const timeout = closeOptions.timeout ?? 10_000;
        if (!(Number.isFinite(timeout) && timeout >= 0)) throw new TypeError(`close({ timeout }) takes milliseconds (0 or more), not ${timeout}.`);
        const drained = await gate.close(timeout);
        if (!drained) {
          logger.error(`backend.close(): ${gate.inFlight} request(s) still running after ${timeout} ms; closing the database under them.`);
        }
        await realtime.close();
        await jobsApi.stop();
        await jobs.close();
        await notifier.close();
        await runtime.close();
      })();
      return closing;
    },
    realtime: {
      write: (name, ids, write) => {
        const collection = model.collections.get(name);
        if (collection === undefined) throw new TypeError(`realtime.write(): there is no collection "${String(name)}".`);
        return writeTracked(systemContext, collection, ids, write as (db: Kysely<any>) => Promise<never>);
      },
      get subscriptions() {
        return realtime.size;
      },
    },
    backup: async (file, backupOptions = {}) => {
      if (runtime.backup === undefined) {
        throw new TypeError("backend.backup() copies a SQLite database; back PostgreSQL up with pg_dump or continuous archiving (docs/deploy.md).");
      }
      if (typeof file !== "string" || file.trim() === "" || file === ":memory:") throw new TypeError("backend.backup(file) takes the path of the file to write.");
      const partial = join(dirname(file), `.${basename(file)}.partial-${process.pid}`);
      try {
        const { totalPages } = await runtime.backup(partial, backupOptions.onProgress);
        await rename(partial, file);
        return { file, pages: totalPages, bytes: (await stat(file)).size };
      } finally {
        await rm(partial, { force: true });
      }
    },
  };
  let closing: Promise<void> | undefined;
  registerParts(backend, { core, logger, jobs, realtime });
  return backend;
}
