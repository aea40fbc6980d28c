/**
 * The data `beforeCreate` and `beforeUpdate` return is checked against their collection's
 * fields where the hooks are written: a key that is not a field fails at the hook (it used to
 * compile, and fail each write with VALIDATION_FAILED, for a field nobody sent).
 */
import { describe, expectTypeOf, test } from "vitest";
import { collection, field, type Collection } from "cimiento";

const fields = { title: field.text(), author: field.belongsTo("users"), edits: field.integer().default(0) };

describe("the data a hook returns", () => {
  test("may have the fields (and an id, at create), or be nothing, sync or async", () => {
    const posts = collection("posts", {
      fields,
      hooks: {
        beforeCreate: ({ data, user }) => ({ ...data, author: user?.id ?? data.author, id: "p1" }),
        beforeUpdate: async ({ data, previous }) => (data.title === undefined ? undefined : { ...data, edits: previous.edits + 1 }),
      },
    });
    expectTypeOf(posts).toEqualTypeOf<Collection<"posts", typeof fields, false, false>>();
    collection("posts", { fields, hooks: { beforeCreate: async ({ data }) => data, beforeUpdate: () => {} } });
  });

  test("a key that is not a field fails at the hook", () => {
    collection("posts", {
      fields,
      hooks: {
        // @ts-expect-error: "athor" is not a field
        beforeCreate: ({ data, user }) => ({ ...data, athor: user?.id ?? "" }),
      },
    });
    collection("posts", {
      fields,
      hooks: {
        // @ts-expect-error: in one branch, async
        beforeUpdate: async ({ data }) => (data.title ? { ...data, titel: data.title.trim() } : undefined),
      },
    });
    collection("posts", {
      fields,
      hooks: {
        // @ts-expect-error: an update does not change the id
        beforeUpdate: ({ data }) => ({ ...data, id: "p2" }),
      },
    });
  });

  test("values are checked as before", () => {
    collection("posts", {
      fields,
      hooks: {
        // @ts-expect-error: edits is a number
        beforeCreate: ({ data }) => ({ ...data, edits: "1" }),
      },
    });
  });
});
