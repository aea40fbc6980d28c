/**
 * @internal Accounts: the `users` records auth creates and reads, in the system's transaction,
 * and the fields a sign-up may give them.
 * @module
 */
import type { Kysely } from "kysely";
import { fieldAccess } from "../access/caller-access.js";
import { writeIssues } from "../access/field-writes.js";
import type { Principal } from "../define/principal.js";
import { apiError, type FieldIssue } from "../errors/api-error.js";
import { issuesOf, validationError } from "../errors/validation.js";
import type { CollectionModel } from "../model/model.js";
import type { AuthDB, AuthStore } from "./store.js";

type Row = Record<string, unknown>;

/** What accounts need from the backend's data layer. */
export interface AccountsDeps {
  readonly users: CollectionModel;
  /**
   * Runs `fn` in a system transaction: its Kysely, and user creation through the data layer
   * (validation, defaults, hooks) in the same transaction.
   */
  transaction<T>(fn: (tx: { db: Kysely<unknown>; createUser(data: Row): Promise<Row> }) => Promise<T>): Promise<T>;
  /** Reads a user record as the system (every field), or null. */
  readUser(id: string): Promise<Row | null>;
}

/** A transaction of auth: its statements, and user creation through the data layer. */
export interface AuthTransaction {
  readonly db: Kysely<AuthDB>;
  createUser(data: Row): Promise<Row>;
}

/** The `users` records of auth. */
export class Accounts {
  readonly #store: AuthStore;
  readonly #deps: AccountsDeps;

  constructor(store: AuthStore, deps: AccountsDeps) {
    this.#store = store;
    this.#deps = deps;
  }

  /** Runs `fn` in a system transaction. */
  transaction<T>(fn: (tx: AuthTransaction) => Promise<T>): Promise<T> {
    return this.#deps.transaction(({ db, createUser }) => fn({ db: db as Kysely<AuthDB>, createUser }));
  }

  /** The principal of a user record: the record itself (it has `id` and `role`); `null` when there is none. */
  async principalOf(userId: string): Promise<Principal | null> {
    const record = await this.#deps.readUser(userId);
    return record === null ? null : (record as unknown as Principal);
  }

  /** The id of the account of an (already normalised) address, if any. */
  async idOf(email: string): Promise<string | undefined> {
    const row = await this.#store.db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst();
    return row?.id;
  }

  /** Throws `404 NOT_FOUND` unless a user has this id, reading with `db` (a transaction, say). */
  async requireUser(db: Kysely<AuthDB>, userId: string): Promise<void> {
    const found = await db.selectFrom("users").select("id").where("id", "=", userId).executeTakeFirst();
    if (found === undefined) throw apiError("NOT_FOUND", `No users record with id "${userId}".`);
  }

  /** Marks a user's address verified, with `db`; returns whether a row changed. */
  async markVerified(db: Kysely<AuthDB>, userId: string, email?: string): Promise<boolean> {
    let query = db.updateTable("users").set({ emailVerified: this.#store.boolean(true) }).where("id", "=", userId);
    // A token proves the address it was sent to, not whatever the account's address is now.
    if (email !== undefined) query = query.where("email", "=", email);
    const updated = await query.executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  }

  /**
   * Checks a sign-up's own fields (everything but e-mail and password) as an anonymous create
   * checks them, with the data layer's field rules: `read_only`, `write_denied`, and unknown for
   * a field the anonymous caller may not read; then the schema. `issues` are reported with them.
   */
  checkProfile(email: string, profile: Row, issues: FieldIssue[] = []): Row {
    const users = this.#deps.users;
    const fields: Row = Object.create(null);
    for (const [name, value] of Object.entries(profile)) {
      // The id and the timestamps are the system's: a sign-up chooses none of them.
      if (users.columnsByName.get(name)?.field === undefined) {
        issues.push({ path: [name], code: "unrecognized_keys", message: `Unknown field "${name}"` });
      } else {
        fields[name] = value;
      }
    }
    const { issues: denied, data } = writeIssues(fieldAccess(null), users, fields);
    issues.push(...denied);
    const parsed = users.createSchema.safeParse({ ...(data as Row), email });
    if (!parsed.success) issues.push(...issuesOf(parsed.error, []));
    if (issues.length > 0) throw validationError("Invalid sign-up", issues);
    const { email: _email, ...checked } = parsed.data!;
    return checked;
  }
}
