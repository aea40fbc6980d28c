/**
 * A separate process writing to a shared SQLite file: argv = file, writer name, transactions.
 * Each transaction reads the counter, writes it back incremented and logs an entry, so a lost
 * update or a failed write shows in the totals.
 */
import { createBackend } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { counterCollections } from "./counter-schema.js";

const [file, writer, count] = process.argv.slice(2);
const backend = createBackend({ database: sqlite({ file: file!, busyTimeout: 30_000 }), collections: counterCollections });
for (let i = 0; i < Number(count); i++) {
  await backend.system.transaction(async (tx) => {
    const counter = (await tx.data.counters.get("shared"))!;
    await tx.data.counters.update("shared", { value: counter.value + 1 });
    await tx.data.entries.create({ writer: writer!, sequence: i });
  });
}
await backend.close();
