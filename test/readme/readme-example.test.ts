import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect, test } from "vitest";

const root = join(import.meta.dirname, "..", "..");

test("the README example is examples/readme/index.ts, verbatim", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const block = /## A short example\n\n```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  const file = readFileSync(join(root, "examples", "readme", "index.ts"), "utf8");
  expect(file.slice(file.indexOf("\n") + 1)).toBe(block);
});

test("the README example runs and does what its comments say", async () => {
  const folder = mkdtempSync(join(tmpdir(), "cimiento-readme-"));
  const cwd = process.cwd();
  process.chdir(folder);
  try {
    // A path the compiler does not follow: the example declares its own Register, which must
    // not reach the project's program (the README's blocks are type-checked by test/docs).
    await import(join(root, "examples", "readme", "index.ts"));
  } finally {
    process.chdir(cwd);
  }
  const db = new Database(join(folder, "data", "app.db"), { readonly: true });
  const posts = db.prepare("select title, published, author from posts").all();
  const users = db.prepare("select id, name from users").all() as { id: string; name: string }[];
  db.close();
  rmSync(folder, { recursive: true, force: true });
  expect(users).toEqual([{ id: expect.any(String), name: "Ada" }]);
  expect(posts).toEqual([{ title: "SQLite is enough", published: 1, author: users[0]!.id }]);
});
