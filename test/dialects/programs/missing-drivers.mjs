/**
 * Run with both drivers absent: imports every database entry, then prints (as JSON) what opening
 * each database throws. argv[2]: the URL of the built package's folder.
 */
const dist = process.argv[2];
const { createBackend } = await import(`${dist}/index.js`);
const { sqlite } = await import(`${dist}/sqlite.js`);
const { postgres } = await import(`${dist}/postgres.js`);

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
