/**
 * A backend of the suites' own collections over a fresh database of the suite's dialect.
 */
import { createBackend } from "cimiento";
import type { FreshOptions, TestDatabase } from "./dialects.js";

type Collections = NonNullable<Parameters<typeof createBackend>[0]["collections"]>;

/** A migrated backend of `collections` over a fresh database, and how to close it and drop the database. */
export async function openBackend<const C extends Collections>(db: TestDatabase, collections: C, options?: FreshOptions) {
  const fresh = await db.fresh(options);
  const backend = createBackend({ database: fresh.database, collections });
  await backend.migrate();
  return {
    backend,
    close: async () => {
      await backend.close();
      await fresh.drop();
    },
  };
}
