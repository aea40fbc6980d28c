/**
 * Run with both drivers and nodemailer absent: imports every entry, then prints (as JSON) what
 * opening each database throws. argv[2]: the URL of the built package's folder.
 */
const dist = process.argv[2];
const { createBackend } = await import(`${dist}/index.js`);
const { sqlite } = await import(`${dist}/sqlite.js`);
const { postgres } = await import(`${dist}/postgres.js`);
await import(`${dist}/node.js`);
await import(`${dist}/hono.js`);
await import(`${dist}/testing.js`);

const databases = {
  default: undefined,
  sqlite: sqlite({ file: ":memory:" }),
  postgres: postgres({ connectionString: "postgres://localhost/unused" }),
};
const report = {};
for (const [name, database] of Object.entries(databases)) {
  try {
    await createBackend({ ...(database === undefined ? {} : { database }), collections: {} }).close();
    report[name] = null;
  } catch (error) {
    report[name] = error.message;
  }
}
process.stdout.write(JSON.stringify(report));
