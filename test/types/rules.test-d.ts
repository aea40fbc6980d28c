/**
 * A rule's filter is checked against its collection's fields where the rule is written: a key
 * that is neither a field nor an operator fails at the rule (it used to compile, and fail at
 * the first request).
 */
import { describe, expectTypeOf, test } from "vitest";
import { collection, field, type Collection, type Rule, type RuleContext } from "cimiento";

const fields = {
  body: field.text(),
  views: field.integer().default(0),
  publishedAt: field.datetime().optional(),
  author: field.belongsTo("users"),
  comments: field.hasMany("comments", { on: "post" }),
};

describe("a rule's filter", () => {
  test("may name the fields, the operators of their kinds, and relations", () => {
    const posts = collection("posts", {
      fields,
      access: {
        list: ({ user }) =>
          user === null
            ? { publishedAt: { isNull: false } }
            : { or: [{ author: user.id }, { views: { gte: 10 }, body: { contains: "x" } }], not: { publishedAt: new Date() } },
        get: async ({ user }) => (user ? { and: [{ id: { in: ["a", "b"] } }, { createdAt: { lt: new Date() } }] } : false),
        // A belongsTo field takes a filter on the record it points to, which is not checked here.
        create: ({ user }) => (user ? { author: { name: { startsWith: "A" } } } : false),
        // A to-many relation derived from another collection's belongsTo is not known here: any
        // key whose value is a relation filter.
        update: ({ user }) => (user ? { comments: { some: { approved: true } }, likes: { none: { user: user.id } } } : false),
        delete: () => true,
      },
    });
    expectTypeOf(posts).toEqualTypeOf<Collection<"posts", typeof fields, false, false>>();
  });

  test("rules written apart are checked where they are used; a Rule<F> passes as it is", () => {
    const mine = ({ user }: RuleContext) => (user === null ? false : { author: user.id });
    const typed: Rule<typeof fields> = ({ user }) => (user ? { author: user.id } : false);
    const misspelt = ({ user }: RuleContext) => (user === null ? false : { athor: user.id });
    collection("posts", {
      fields,
      access: {
        list: mine,
        get: typed,
        // @ts-expect-error: "athor" is not a field of posts
        update: misspelt,
      },
    });
  });

  test("a key that is neither a field nor an operator fails at the rule", () => {
    // One mistake per collection: TypeScript reports the rules of one call in two rounds (those
    // without parameters, then the others), and stops after a round with an error.
    collection("posts", {
      fields,
      access: {
        // @ts-expect-error: "bdy" is not a field
        list: () => ({ bdy: "x" }),
      },
    });
    collection("posts", {
      fields,
      // @ts-expect-error: beside a field that is
      access: { get: ({ user }) => ({ body: "x", bdy: user?.id ?? "" }) },
    });
    collection("posts", {
      fields,
      // @ts-expect-error: in one branch
      access: { create: ({ user }) => (user ? { author: user.id } : { bdy: "x" }) },
    });
    collection("posts", {
      fields,
      // @ts-expect-error: inside or
      access: { update: ({ user }) => ({ or: [{ author: user?.id ?? "" }, { bdy: "x" }] }) },
    });
    collection("posts", {
      fields,
      // @ts-expect-error: in an async rule, inside not
      access: { delete: async () => ({ not: { bdy: "x" } }) },
    });
    collection("posts", {
      fields,
      // @ts-expect-error: "contans" is not an operator of text
      access: { list: () => ({ body: { eq: "x", contans: "y" } }) },
    });
    collection("posts", {
      fields,
      // @ts-expect-error: "eq" is not a relation quantifier
      access: { get: () => ({ comments: { some: {}, eq: "x" } }) },
    });
    collection("posts", {
      fields,
      // @ts-expect-error: a key that is not a field is not a relation filter either
      access: { create: ({ user }) => (user ? { likes: { user: user.id } } : false) },
    });
  });

  test("values are checked as before", () => {
    // @ts-expect-error: views is a number
    collection("posts", { fields, access: { list: () => ({ views: "10" }) } });
    // @ts-expect-error: gte of a number
    collection("posts", { fields, access: { get: ({ user }) => ({ views: { gte: user ? "10" : 1 } }) } });
  });

  test("a collection whose fields are not known at the type level is not checked", () => {
    const loose = {} as Record<string, ReturnType<typeof field.text>>;
    collection("notes", { fields: loose, access: { list: () => ({ anything: "goes" }) } });
  });
});
