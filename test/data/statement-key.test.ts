/**
 * Statement keys: the kinds of statement never share keys, every choice a plan records changes
 * its key, and values never do. (The compiled-query cache's verifying mode, on for the whole
 * suite, checks that the keys the data layer builds hold every choice of its SQL.)
 */
import { describe, expect, test } from "vitest";
import { Plan, statementKey, statementKinds, type StatementKey } from "../../src/data/statement-key.js";

describe("statement keys", () => {
  test("every kind is a word of letters, declared once", () => {
    expect(statementKinds.length).toBeGreaterThan(10);
    expect(new Set(statementKinds).size).toBe(statementKinds.length);
    for (const kind of statementKinds) expect(kind).toMatch(/^[a-z][A-Za-z]*$/);
  });

  test("no key of one kind equals or begins with a key of another, for the same choices", () => {
    const keys = (kind: (typeof statementKinds)[number]): StatementKey[] => {
      const plan = new Plan("notes");
      plan.openFilter();
      plan.field("title");
      plan.operator("eq");
      plan.closeFilter();
      return [new Plan("notes").key(kind), plan.key(kind), plan.key(kind, "title"), statementKey(kind), statementKey(kind, "notes")];
    };
    for (const a of statementKinds) {
      for (const b of statementKinds) {
        if (a === b) continue;
        for (const x of keys(a)) for (const y of keys(b)) expect(x.startsWith(y), `${x} begins with ${y}`).toBe(false);
      }
    }
  });

  test("the same choices with other values make the same key", () => {
    const planned = (value: string) => {
      const plan = new Plan("notes");
      plan.openFilter();
      plan.field("title");
      plan.param(value);
      plan.operator("eq");
      plan.closeFilter();
      return plan.key("list");
    };
    expect(planned("a")).toBe(planned("b"));
  });

  /** Plans that differ in one choice each, by what differs. */
  const differing: Record<string, [(plan: Plan) => void, (plan: Plan) => void]> = {
    "the field": [(p) => p.field("title"), (p) => p.field("owner")],
    "the operator": [(p) => p.operator("gt"), (p) => p.operator("gte")],
    "is null or is not null": [(p) => p.nullTest(true), (p) => p.nullTest(false)],
    "a value or null": [(p) => p.operator("eq"), (p) => p.nullTest(true)],
    "a rule that allows or denies": [(p) => p.rule(true), (p) => p.rule(false)],
    "a rule that allows or filters": [(p) => p.rule(true), (p) => (p.rule("filter"), p.openFilter(), p.closeFilter())],
    "the quantifier": [(p) => p.quantifier("some"), (p) => p.quantifier("every")],
    "the nesting": [
      (p) => (p.openFilter(), p.field("a"), p.openFilter(), p.closeFilter(), p.field("b"), p.closeFilter()),
      (p) => (p.openFilter(), p.field("a"), p.openFilter(), p.field("b"), p.closeFilter(), p.closeFilter()),
    ],
    "the direction of an order": [
      (p) => p.order([{ column: { name: "title" }, desc: false }]),
      (p) => p.order([{ column: { name: "title" }, desc: true }]),
    ],
    "the keys of an order": [
      (p) => p.order([{ column: { name: "title" }, desc: false }, { column: { name: "id" }, desc: false }]),
      (p) => p.order([{ column: { name: "id" }, desc: false }, { column: { name: "title" }, desc: false }]),
    ],
    "which cursor values are null": [(p) => p.after(["a", null]), (p) => p.after(["a", "b"])],
    "a limit": [() => {}, (p) => p.limit()],
    "an offset": [() => {}, (p) => p.offset()],
    "a limit or an offset": [(p) => p.limit(), (p) => p.offset()],
    "a computed field that counts nothing": [(p) => p.computed("likes"), (p) => (p.computed("likes"), p.countsNothing())],
    "the computed field": [(p) => p.computed("likes"), (p) => p.computed("liked")],
    "the update rule after the change": [(p) => p.rule(true), (p) => (p.afterChange(), p.rule(true))],
  };

  for (const [what, [one, other]] of Object.entries(differing)) {
    test(`${what} changes the key`, () => {
      const a = new Plan("notes");
      one(a);
      const b = new Plan("notes");
      other(b);
      expect(a.key("list")).not.toBe(b.key("list"));
    });
  }

  test("what a statement is about, and its own parts, change the key", () => {
    expect(new Plan("notes").key("get")).not.toBe(new Plan("posts").key("get"));
    expect(new Plan("notes", "one", "author").key("include")).not.toBe(new Plan("notes", "many", "author").key("include"));
    expect(new Plan("notes").key("update", "title")).not.toBe(new Plan("notes").key("update", "title", "owner"));
    expect(new Plan("notes").key("update", "title", "owner")).not.toBe(new Plan("notes", "title").key("update", "owner"));
    expect(statementKey("insert", "notes")).not.toBe(statementKey("insert", "notes", "slug"));
    expect(statementKey("insertMany", "notes", 2)).not.toBe(statementKey("insertMany", "notes", 20));
  });
});
