/**
 * @internal What a caller's field rules say of a write's input, for the data layer and for
 * sign-up (which creates a `users` record outside it).
 * @module
 */
import type { FieldIssue } from "../errors/api-error.js";
import type { CollectionModel } from "../model/model.js";
import type { Access } from "./caller-access.js";

/**
 * Mass assignment never succeeds quietly: a field the caller may not write (read-only, or denied
 * by its `write` rule) is an issue, reported with the other problems of the input. A field it
 * may not even see (hidden, or denied by its `read` rule) is reported as unknown, and left out
 * of what is validated, so that nothing in the answer shows that it exists.
 */
export function writeIssues(
  access: Access | undefined,
  collection: CollectionModel,
  input: unknown,
): { issues: FieldIssue[]; data: unknown } {
  if (access === undefined || typeof input !== "object" || input === null || Array.isArray(input)) {
    return { issues: [], data: input };
  }
  const issues: FieldIssue[] = [];
  let data = input as Record<string, unknown>;
  for (const [name, value] of Object.entries(input)) {
    const column = collection.columnsByName.get(name);
    if (value === undefined || column?.field === undefined || access.writable(column)) continue;
    if (!access.readable(column)) {
      issues.push({ path: [name], code: "unrecognized_keys", message: `Unknown field "${name}"` });
      if (data === input) data = { ...data };
      delete data[name];
    } else {
      issues.push(
        column.field.readOnly
          ? { path: [name], code: "read_only", message: "This field is read-only" }
          : { path: [name], code: "write_denied", message: "You may not write this field" },
      );
    }
  }
  return { issues, data };
}
