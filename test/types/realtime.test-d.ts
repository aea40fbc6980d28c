/**
 * `collection()` and `usersCollection()` keep `realtime` in the collection's type, as they keep
 * `clientIds`: `true` when declared so, `false` when left out, `boolean` when not known; so that
 * typed clients offer `subscribe` on realtime collections only.
 */
import { describe, expectTypeOf, test } from "vitest";
import { collection, field, usersCollection, type Collection } from "cimiento";
import type { AnyCollection, Fields } from "cimiento/types";

const fields = { title: field.text() };

describe("realtime in a collection's type", () => {
  test("true when declared, false when left out or declared false", () => {
    const live = collection("posts", { fields, realtime: true });
    const still = collection("posts", { fields });
    const off = collection("posts", { fields, realtime: false });
    expectTypeOf(live).toEqualTypeOf<Collection<"posts", typeof fields, false, true>>();
    expectTypeOf(live.realtime).toEqualTypeOf<true>();
    expectTypeOf(still.realtime).toEqualTypeOf<false>();
    expectTypeOf(off.realtime).toEqualTypeOf<false>();
  });

  test("boolean when the value is not known where it is declared; every collection is still an AnyCollection", () => {
    const flag: boolean = Math.random() > 0.5;
    const maybe = collection("posts", { fields, realtime: flag });
    expectTypeOf(maybe.realtime).toEqualTypeOf<boolean>();
    expectTypeOf(collection("posts", { fields, realtime: true })).toExtend<AnyCollection>();
    expectTypeOf<Collection>().toEqualTypeOf<Collection<string, Fields, boolean, boolean>>();
  });

  test("usersCollection keeps it too", () => {
    expectTypeOf(usersCollection({ fields: { name: field.text() }, realtime: true }).realtime).toEqualTypeOf<true>();
    expectTypeOf(usersCollection().realtime).toEqualTypeOf<false>();
  });

  test("realtime takes a boolean only", () => {
    // @ts-expect-error: not a boolean
    collection("posts", { fields, realtime: "yes" });
  });
});
