/**
 * Prints which database drivers (and nodemailer, and the libraries of imported password hashes)
 * are loaded (as JSON) after each step: importing the main entry,
 * importing the dialect entries and making their databases, opening a SQLite database.
 * argv[2]: the URL of the built package's folder.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const dist = process.argv[2];
const drivers = ["better-sqlite3", "pg", "nodemailer", "bcryptjs", "@node-rs/argon2"];
const loaded = () => drivers.filter((name) => Object.keys(require.cache).some((file) => file.includes(`/node_modules/${name}/`)));

const report = {};
const { createBackend } = await import(`${dist}/index.js`);
report.main = loaded();
const { sqlite } = await import(`${dist}/sqlite.js`);
const { postgres } = await import(`${dist}/postgres.js`);
sqlite({ file: ":memory:" });
postgres({ connectionString: "postgres://localhost/unused" });
report.entries = loaded();
const backend = createBackend({ database: sqlite({ file: ":memory:" }), collections: {} });
report.sqlite = loaded();
await backend.close();
process.stdout.write(JSON.stringify(report));
