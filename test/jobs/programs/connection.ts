/** How a test and its child processes open the same database. */
import type { DatabaseAdapter } from "cimiento";
import { postgres } from "cimiento/postgres";
import { sqlite } from "cimiento/sqlite";

/** A database several processes can open: a SQLite file or a PostgreSQL schema. */
export type Connection =
  | { readonly dialect: "sqlite"; readonly file: string }
  | { readonly dialect: "postgres"; readonly url: string; readonly schema: string };

/** Opens `connection` (in a test or in a child process). */
export function open(connection: Connection): DatabaseAdapter<"sqlite" | "postgres"> {
  return connection.dialect === "sqlite"
    ? sqlite({ file: connection.file, busyTimeout: 30_000 })
    : postgres({ connectionString: connection.url, schema: connection.schema, max: 4 });
}
