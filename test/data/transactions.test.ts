import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { collection, createBackend, field } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { describeEachDatabase } from "../setup/dialects.js";
import { openBlog, type Blog } from "./fixtures.js";

type Tx = Parameters<Parameters<Blog["system"]["transaction"]>[0]>[0];

function bump(tx: Tx, id: string) {
  return tx.db
    .updateTable("posts")
    .set((eb) => ({ rank: eb("rank", "+", 1) }))
    .where("id", "=", id)
    .execute();
}

describeEachDatabase("transactions", (db) => {
  let backend: Blog;
  let close: () => Promise<void>;
  let author: string;

  beforeAll(async () => {
    ({ backend, close } = await openBlog(db));
  });
  afterAll(() => close());
  beforeEach(async () => {
    await backend.system.data.posts.deleteMany({ where: {} });
    await backend.system.data.users.deleteMany({ where: {} });
    author = (await backend.system.data.users.create({ name: "Ann", email: "ann@example.com" })).id;
  });

  test("commits every write of the function together and returns its result", async () => {
    const result = await backend.system.transaction(async (tx) => {
      const post = await tx.data.posts.create({ title: "in tx", author });
      await tx.db.updateTable("users").set({ name: "Ann (writer)" }).where("id", "=", author).execute();
      return post.id;
    });
    expect((await backend.system.data.posts.get(result))!.title).toBe("in tx");
    expect((await backend.system.data.users.get(author))!.name).toBe("Ann (writer)");
  });

  test("a throw rolls back writes through data and db, and is rethrown", async () => {
    const failure = new Error("changed my mind");
    const outcome = backend.system.transaction(async (tx) => {
      await tx.data.posts.create({ title: "doomed", author });
      await tx.db.updateTable("users").set({ name: "renamed" }).where("id", "=", author).execute();
      await tx.data.users.update(author, { age: 99 });
      throw failure;
    });
    await expect(outcome).rejects.toBe(failure);
    expect(await backend.system.data.posts.count()).toBe(0);
    expect(await backend.system.data.users.get(author)).toMatchObject({ name: "Ann", age: null });
  });

  test("a failed write rolls back the writes before it", async () => {
    const outcome = backend.system.transaction(async (tx) => {
      await tx.data.posts.create({ title: "first", author });
      await tx.data.users.create({ name: "dup", email: "ann@example.com" });
    });
    await expect(outcome).rejects.toMatchObject({ code: "UNIQUE_VIOLATION" });
    expect(await backend.system.data.posts.count()).toBe(0);
  });

  test("a transaction inside a transaction joins it", async () => {
    const outcome = backend.system.transaction(async (tx) => {
      await tx.transaction(async (inner) => {
        await inner.data.posts.create({ title: "inner", author });
      });
      expect(await tx.data.posts.count()).toBe(1);
      throw new Error("outer fails");
    });
    await expect(outcome).rejects.toThrow("outer fails");
    expect(await backend.system.data.posts.count()).toBe(0);
  });

  test("data and db kept from a transaction refuse statements once it has ended", async () => {
    let committed!: Tx;
    await backend.system.transaction(async (tx) => {
      committed = tx;
      expect(() => tx.db.transaction()).toThrow("calling the transaction method for a Transaction is not supported");
      await tx.data.posts.create({ title: "kept", author });
    });
    await expect(committed.data.posts.count()).rejects.toThrow("Transaction is already committed");
    await expect(committed.db.selectFrom("posts").selectAll().execute()).rejects.toThrow("Transaction is already committed");
    // Its Kysely instance first read after the commit refuses too.
    let unread!: Tx;
    await backend.system.transaction(async (tx) => {
      unread = tx;
      await tx.data.posts.count();
    });
    await expect(unread.db.selectFrom("posts").selectAll().execute()).rejects.toThrow("Transaction is already committed");
    let rolledBack!: Tx;
    const outcome = backend.system.transaction(async (tx) => {
      rolledBack = tx;
      throw new Error("roll back");
    });
    await expect(outcome).rejects.toThrow("roll back");
    await expect(rolledBack.data.posts.create({ title: "late", author })).rejects.toThrow("Transaction is already rolled back");
    await expect(bump(rolledBack, "none")).rejects.toThrow("Transaction is already rolled back");
    expect((await backend.system.data.posts.list()).items.map((post) => post.title)).toEqual(["kept"]);
  });

  test("a write outside the transaction is not part of it", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inside = backend.system.transaction(async (tx) => {
      await tx.data.posts.create({ title: "inside", author });
      await gate;
      throw new Error("roll back");
    });
    const outside = backend.system.data.posts.create({ title: "outside", author });
    setTimeout(release, 20);
    await expect(inside).rejects.toThrow("roll back");
    await outside;
    const titles = (await backend.system.data.posts.list()).items.map((post) => post.title);
    expect(titles).toEqual(["outside"]);
  });

  if (db.dialect === "postgres") {
    test("a transaction that deadlocks is retried until it commits", async () => {
      const a = await backend.system.data.posts.create({ title: "a", author, rank: 0 });
      const b = await backend.system.data.posts.create({ title: "b", author, rank: 0 });
      let attempts = 0;
      let firstLocked!: () => void;
      const firstHasA = new Promise<void>((resolve) => (firstLocked = resolve));
      let secondLocked!: () => void;
      const secondHasB = new Promise<void>((resolve) => (secondLocked = resolve));
      const first = backend.system.transaction(async (tx) => {
        attempts++;
        await bump(tx, a.id);
        firstLocked();
        await secondHasB;
        await bump(tx, b.id);
      });
      const second = backend.system.transaction(async (tx) => {
        attempts++;
        await bump(tx, b.id);
        secondLocked();
        await firstHasA;
        await bump(tx, a.id);
      });
      await Promise.all([first, second]);
      // One of the two was retried. Its retry may deadlock once more on a busy machine: the other
      // transaction, woken when the first attempt rolled back, may take its next lock only after
      // the retry took it.
      expect(attempts).toBeGreaterThanOrEqual(3);
      expect((await backend.system.data.posts.get(a.id))!.rank).toBe(2);
      expect((await backend.system.data.posts.get(b.id))!.rank).toBe(2);
    });
  }
});

test("SQLite: a query that waits for a transaction holding the connection fails with a clear error", async () => {
  const notes = collection("notes", { fields: { text: field.text() } });
  const backend = createBackend({ database: sqlite({ file: ":memory:", busyTimeout: 100 }), collections: { notes } });
  await backend.migrate();
  const outcome = backend.system.transaction(async (tx) => {
    await tx.data.notes.create({ text: "inside" });
    // Wrong: the system scope is outside this transaction, and must wait for it to end.
    await backend.system.data.notes.create({ text: "outside" });
  });
  await expect(outcome).rejects.toThrow(
    "Waited 100 ms for the SQLite connection, held by a transaction all that time. Inside a transaction, use the data and db it gives you (tx.data, tx.db), not backend.system or backend.db.",
  );
  expect(await backend.system.data.notes.count()).toBe(0);
  await backend.close();
});

test("SQLite: with a log, a transaction's begin, statements and commit are logged", async () => {
  const notes = collection("notes", { fields: { text: field.text() } });
  const statements: string[] = [];
  const backend = createBackend({
    database: sqlite({ file: ":memory:", log: (event) => void statements.push(event.query.sql) }),
    collections: { notes },
  });
  await backend.migrate();
  statements.length = 0;
  await backend.system.transaction(async (tx) => {
    await tx.data.notes.create({ text: "logged" });
  });
  expect(statements[0]).toBe("begin immediate");
  expect(statements.at(-1)).toBe("commit");
  expect(statements.some((statement) => statement.startsWith('insert into "notes"'))).toBe(true);
  await backend.close();
});

test("SQLite: after close, a transaction is refused", async () => {
  const notes = collection("notes", { fields: { text: field.text() } });
  const backend = createBackend({ database: sqlite({ file: ":memory:" }), collections: { notes } });
  await backend.migrate();
  await backend.system.transaction(async (tx) => {
    await tx.data.notes.create({ text: "one" });
  });
  await backend.close();
  await expect(backend.system.transaction(async (tx) => tx.data.notes.count())).rejects.toThrow("driver has already been destroyed");
});
