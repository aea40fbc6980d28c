/**
 * The compiled-query cache's verifying mode, which the whole suite runs under: a statement key
 * that names two different statements (a key that forgot a choice of the SQL) is an error at the
 * first cache hit, instead of another shape's SQL served silently.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, expect, test } from "vitest";
import { CompiledQueryCache, Slot, VERIFY_STATEMENTS } from "../../src/data/compiled-query-cache.js";
import { Plan, statementKey, type StatementKey } from "../../src/data/statement-key.js";
import type { DialectRuntime } from "../../src/dialects/dialect.js";
import { describeEachDatabase } from "../setup/dialects.js";

describeEachDatabase("compiled-query cache", (db) => {
  let runtime: DialectRuntime;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const fresh = await db.fresh();
    drop = fresh.drop;
    runtime = fresh.database.open();
  });
  afterAll(async () => {
    await runtime.close();
    await drop();
  });

  const byTitle = () => runtime.kysely.selectFrom("notes as t0").select("t0.id").where("t0.title", "=", new Slot(0) as never);
  const byOwner = () => runtime.kysely.selectFrom("notes as t0").select("t0.id").where("t0.owner", "=", new Slot(0) as never);
  /** The key of a filter on one field whose plan forgot to record which field. */
  const forgotTheField = (): StatementKey => {
    const plan = new Plan("notes");
    plan.openFilter();
    plan.operator("eq");
    plan.closeFilter();
    return plan.key("list");
  };
  const pair = (first: number, second: number) => () =>
    runtime.kysely
      .selectFrom("notes as t0")
      .select("t0.id")
      .where("t0.title", "=", new Slot(first) as never)
      .where("t0.owner", "=", new Slot(second) as never);

  test("the suite runs in the verifying mode: a cache made without options verifies", () => {
    expect(process.env[VERIFY_STATEMENTS]).toBe("1");
    const cache = new CompiledQueryCache();
    cache.get(forgotTheField(), ["a"], byTitle);
    expect(() => cache.get(forgotTheField(), ["a"], byOwner)).toThrow(/names two different statements/);
  });

  test("a key built again into the same statement is served from the cache, with the new values", () => {
    const cache = new CompiledQueryCache(2000, true);
    const first = cache.get(statementKey("list", "notes", "title"), ["a"], byTitle);
    const second = cache.get(statementKey("list", "notes", "title"), ["b"], byTitle);
    expect(second.sql).toBe(first.sql);
    expect(second.parameters).toEqual(["b"]);
    expect(cache.size).toBe(1);
  });

  test("two statements of different SQL under one key: a plain Error naming the key and both SQL texts", () => {
    const cache = new CompiledQueryCache(2000, true);
    const cached = cache.get(forgotTheField(), ["a"], byTitle).sql;
    const built = byOwner().compile().sql;
    let error: unknown;
    try {
      cache.get(forgotTheField(), ["a"], byOwner);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error!.constructor).toBe(Error);
    const message = (error as Error).message;
    expect(message).toContain(JSON.stringify(forgotTheField()));
    expect(message).toContain(`cached: ${cached}`);
    expect(message).toContain(`built:  ${built}`);
  });

  test("the same SQL with the values bound in another order under one key: an error naming both mappings", () => {
    const cache = new CompiledQueryCache(2000, true);
    const key = statementKey("list", "notes", "title", "owner");
    cache.get(key, ["a", "b"], pair(0, 1));
    expect(pair(0, 1)().compile().sql).toBe(pair(1, 0)().compile().sql);
    expect(() => cache.get(key, ["a", "b"], pair(1, 0))).toThrow(
      /parameters: \[\$0, \$1\][^]*parameters: \[\$1, \$0\]/,
    );
  });

  test("the same SQL with another constant bound under one key: an error", () => {
    const cache = new CompiledQueryCache(2000, true);
    const limited = (limit: number) => () => byTitle().limit(limit);
    const key = statementKey("list", "notes", "title");
    cache.get(key, ["a"], limited(10));
    expect(() => cache.get(key, ["a"], limited(20))).toThrow(/parameters: \[\$0, 10\][^]*parameters: \[\$0, 20\]/);
  });

  test("without the mode, a key that names two statements silently serves the first one's SQL (what the mode guards)", () => {
    const cache = new CompiledQueryCache(2000, false);
    const first = cache.get(forgotTheField(), ["a"], byTitle);
    const served = cache.get(forgotTheField(), ["a"], () => runtime.kysely.selectFrom("notes").select(sql<number>`1`.as("one")));
    expect(served.sql).toBe(first.sql);
  });
});
