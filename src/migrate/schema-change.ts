/**
 * What a schema sync does, or refuses to do, to the database.
 * @module
 */

/**
 * One additive change that `backend.migrate()` applied (or, with `dryRun`, would apply).
 *
 * @example
 * ```ts
 * const { changes } = await backend.migrate({ dryRun: true });
 * for (const change of changes) console.log(change.description); // "add column posts.subtitle"
 * ```
 */
export interface SchemaChange {
  /** What kind of change it is. */
  readonly kind: "createTable" | "addColumn" | "createIndex" | "dropIndex" | "addForeignKey";
  /** The table it changes. */
  readonly table: string;
  /** The column, index or constraint it adds or drops; the table's own name for `createTable`. */
  readonly name: string;
  /** The change in words, e.g. `add column posts.subtitle`. */
  readonly description: string;
}

/**
 * A difference between the schema and the database that `backend.migrate()` will not resolve
 * by itself, because doing so could lose or rewrite data, or because the data does not allow it.
 * Listed in {@link MigrationError.refused}.
 *
 * @example
 * ```ts
 * // { kind: "dropColumn", table: "posts", column: "subtitle",
 * //   description: "drop column posts.subtitle: ..." }
 * ```
 */
export interface RefusedChange {
  /**
   * - `dropColumn`: the database has a column the schema does not (a field was removed or renamed).
   * - `changeType`: a column's SQL type differs from its field's.
   * - `changeNullability`: a field became optional or required.
   * - `addRequiredColumn`: a required field without a default is new, and the table holds rows.
   * - `addForeignKey`: a foreign key cannot be added where it is needed (SQLite: on an existing column).
   * - `changeForeignKey`: an existing foreign key points elsewhere or has another `onDelete`.
   * - `changeIndex`: an index has the name cimiento wants but another definition.
   * - `duplicateValues`: a new unique index over rows that hold the same value twice.
   * - `danglingReferences`: a new foreign key over rows that hold ids the target does not have.
   */
  readonly kind:
    | "dropColumn"
    | "changeType"
    | "changeNullability"
    | "addRequiredColumn"
    | "addForeignKey"
    | "changeForeignKey"
    | "changeIndex"
    | "duplicateValues"
    | "danglingReferences";
  /** The table concerned. */
  readonly table: string;
  /** The column concerned, when there is one. */
  readonly column?: string;
  /** The refused change and its reason, in words; it names `table.column`. */
  readonly description: string;
}
