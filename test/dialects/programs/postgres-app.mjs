/**
 * An app on cimiento/postgres: migrates, writes and reads a record, and prints (as JSON) what it
 * read and which drivers were loaded. argv[2]: the URL of the built package's folder; argv[3]: a
 * connection string; argv[4]: the schema to work in.
 */
import { createRequire } from "node:module";
import { z } from "zod";

const require = createRequire(import.meta.url);
const [dist, connectionString, schema] = process.argv.slice(2);
const { collection, createBackend, field } = await import(`${dist}/index.js`);
const { postgres } = await import(`${dist}/postgres.js`);

const notes = collection("notes", { fields: { title: field.text(z.string().min(1)) } });
const backend = createBackend({ database: postgres({ connectionString, schema }), collections: { notes } });
await backend.migrate();
await backend.system.data.notes.create({ title: "written on PostgreSQL" });
const { items } = await backend.system.data.notes.list();
await backend.close();
const drivers = ["better-sqlite3", "pg", "nodemailer"].filter((name) =>
  Object.keys(require.cache).some((file) => file.includes(`/node_modules/${name}/`)),
);
process.stdout.write(JSON.stringify({ titles: items.map((note) => note.title), drivers }));
