/**
 * Prints (as JSON) which libraries of imported password hashes are loaded after each step: a
 * backend with built-in auth made and migrated, a user imported with a bcrypt hash, one with an
 * argon2id hash; where a library is absent, what that import throws instead.
 * argv[2]: the URL of the built package's folder.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const dist = process.argv[2];
const libraries = ["bcryptjs", "@node-rs/argon2"];
const loaded = () => libraries.filter((name) => Object.keys(require.cache).some((file) => file.includes(`/node_modules/${name}/`)));

const { createBackend, scryptHasher } = await import(`${dist}/index.js`);
const { sqlite } = await import(`${dist}/sqlite.js`);
const backend = createBackend({ database: sqlite({ file: ":memory:" }), collections: {}, auth: { password: { hasher: scryptHasher({ logN: 10 }) } } });
await backend.migrate();
const report = { migrated: loaded() };
const hashes = {
  bcrypt: "$2b$04$4UmjeBcoFDxgqw1J8KDT5O7kdEcfdBU4vhZdnbLMlQb7ZbcLAQIPK",
  argon2: "$argon2id$v=19$m=1024,t=1,p=1$gcR75aIuqtQCPZD5ygtG6A$RkjfkjCMVb5CQ25IETst6tC+kWMhMBlusmNx1818pT8",
};
for (const [name, passwordHash] of Object.entries(hashes)) {
  try {
    await backend.auth.createUser({ email: `${name}@example.com`, passwordHash, emailVerified: true });
    await backend.auth.signIn(`${name}@example.com`, "correct horse");
    report[name] = loaded();
  } catch (error) {
    report[name] = error.message;
  }
}
await backend.close();
process.stdout.write(JSON.stringify(report));
