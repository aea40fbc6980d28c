/**
 * Rules may be async: an answer waits for them, a filter from an async rule applies as a
 * synchronous one's does, and a rule that throws, at once or later, is a 500 that the logger
 * gets. Synchronous rules are decided without a turn of the event loop; these must behave alike.
 * Through fetch, Express and Hono, on every database.
 */
import { expect, test } from "vitest";
import { z } from "zod";
import { collection, createBackend, field, type DatabaseAdapter, type Principal } from "cimiento";
import { describeEachServer } from "./support.js";

const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 1));

const notes = collection("notes", {
  fields: { text: field.text(), owner: field.text() },
  access: {
    list: async ({ user }) => (user === null ? false : later({ owner: user.id })),
    get: ({ user }) => (user === null ? false : { owner: user.id }),
    create: async () => true,
    update: ({ user }) => {
      if (user?.id === "crash-now") throw new Error("a rule failed at once");
      return true;
    },
    delete: async ({ user }) => {
      await later(null);
      if (user?.id === "crash-later") throw new Error("a rule failed later");
      return true;
    },
  },
});

const logged: unknown[] = [];

function rulesBackend(database: DatabaseAdapter<"sqlite" | "postgres">) {
  return createBackend({
    database,
    collections: { notes },
    logger: { error: (_message, details) => logged.push(details?.["error"]) },
    auth: {
      async resolve(request): Promise<Principal | null> {
        const header = request.headers.get("authorization");
        return header === null ? null : { id: header.replace(/^Bearer /, ""), role: "member" };
      },
    },
  });
}

describeEachServer("HTTP async rules", rulesBackend, (served) => {
  const as = (id: string) => ({ authorization: `Bearer ${id}` });

  test("an async filter and a synchronous one select the same records", async () => {
    const created = await served.json("POST", "/collections/notes/records", { text: "ada's", owner: "ada" }, as("ada"));
    expect(created.status).toBe(201);
    await served.json("POST", "/collections/notes/records", { text: "bob's", owner: "bob" }, as("bob"));
    const { id } = (await created.json()) as { id: string };
    const listed = (await (await served.request("/collections/notes/records", { headers: as("ada") })).json()) as { items: { text: string }[] };
    expect(listed.items.map((item) => item.text)).toEqual(["ada's"]);
    expect((await served.request(`/collections/notes/records/${id}`, { headers: as("ada") })).status).toBe(200);
    expect((await served.request(`/collections/notes/records/${id}`, { headers: as("bob") })).status).toBe(404);
    expect((await served.request("/collections/notes/records")).status).toBe(401);
  });

  test("a rule that throws at once, or after an await, is a 500 the logger gets", async () => {
    const created = (await (await served.json("POST", "/collections/notes/records", { text: "x", owner: "crash-now" }, as("crash-now"))).json()) as {
      id: string;
    };
    logged.length = 0;
    const now = await served.json("PATCH", `/collections/notes/records/${created.id}`, { text: "y" }, as("crash-now"));
    expect(now.status).toBe(500);
    const later = await served.request(`/collections/notes/records/${created.id}`, { method: "DELETE", headers: as("crash-later") });
    expect(later.status).toBe(500);
    expect(logged.map((error) => (error as Error).message)).toEqual(["a rule failed at once", "a rule failed later"]);
  });
});
