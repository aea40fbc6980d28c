import { collection, field } from "cimiento";

export const counterCollections = {
  counters: collection("counters", { fields: { value: field.integer() } }),
  entries: collection("entries", { fields: { writer: field.text(), sequence: field.integer() } }),
};
