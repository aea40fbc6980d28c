/**
 * @internal Versioned migrations, run by Kysely's own `Migrator`.
 * @module
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from "kysely";
import type { DialectRuntime } from "../dialects/dialect.js";

/** @internal The table that records which versioned migrations ran. */
export const MIGRATION_TABLE = "cimiento_migration";
/** @internal Kysely's lock table beside it. */
export const MIGRATION_LOCK_TABLE = "cimiento_migration_lock";

/** @internal What `migrations` accepts: migrations by name, or a provider of them. */
export type Migrations = Record<string, Migration> | MigrationProvider;

function toProvider(migrations: Migrations): MigrationProvider {
  if (typeof (migrations as Partial<MigrationProvider>).getMigrations === "function") return migrations as MigrationProvider;
  const record = migrations as Record<string, Migration>;
  return { getMigrations: async () => record };
}

async function migrator(db: Kysely<any>, runtime: DialectRuntime, migrations: Migrations, disableTransactions: boolean): Promise<Migrator> {
  // Kysely looks for its table in every schema unless told one, and would take another
  // schema's (another app's, another test's) for ours.
  const schema = await runtime.currentSchema(db);
  return new Migrator({
    db,
    provider: toProvider(migrations),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
    disableTransactions,
  });
}

function applied(resultSet: MigrationResultSet): string[] {
  if (resultSet.error !== undefined) {
    const cause = resultSet.error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    const failed = resultSet.results?.find((result) => result.status === "Error");
    throw new Error(
      failed === undefined
        ? `Versioned migrations could not run, and none was applied: ${reason}`
        : `Versioned migration "${failed.migrationName}" failed, so none of the pending migrations was applied: ${reason}`,
      { cause },
    );
  }
  return (resultSet.results ?? []).filter((result) => result.status === "Success").map((result) => result.migrationName);
}

/**
 * @internal Runs the pending migrations in name order, all in one transaction, and returns
 * their names. A failure rolls them all back and throws an error naming the failed one.
 * @example
 * ```ts
 * await runVersionedMigrations(runtime, { "2024_06_01_rename": { up: async (db) => { ... } } }); // ["2024_06_01_rename"]
 * ```
 */
export async function runVersionedMigrations(runtime: DialectRuntime, migrations: Migrations): Promise<string[]> {
  if (runtime.migratorTransactions) {
    return applied(await (await migrator(runtime.kysely, runtime, migrations, false)).migrateToLatest());
  }
  // Kysely runs these migrations outside any transaction (a failure would leave half of one
  // applied); one transaction of our own around the whole run makes it all-or-nothing.
  return runtime.kysely.connection().execute(async (connection) => {
    await sql.raw(runtime.begin).execute(connection);
    let resultSet: MigrationResultSet;
    try {
      resultSet = await (await migrator(connection, runtime, migrations, true)).migrateToLatest();
    } catch (error) {
      await sql`rollback`.execute(connection);
      throw error;
    }
    await sql.raw(resultSet.error === undefined ? "commit" : "rollback").execute(connection);
    return applied(resultSet);
  });
}

/**
 * @internal The names of the migrations that have not run yet, in the order they would.
 * @example
 * ```ts
 * await pendingVersionedMigrations(runtime, migrations); // ["2024_06_02_summary"]
 * ```
 */
export async function pendingVersionedMigrations(runtime: DialectRuntime, migrations: Migrations): Promise<string[]> {
  const all = await (await migrator(runtime.kysely, runtime, migrations, false)).getMigrations();
  return all.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name);
}
