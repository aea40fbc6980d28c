/**
 * What text every database stores alike: PostgreSQL refuses the NUL character in `text` and
 * `jsonb`, so it is refused on every database, in filters and in written values alike.
 * @module
 */

/** The NUL character (U+0000). */
export const NUL = "\u0000";

/** Why a text with NUL was refused (after a path). */
export const NUL_REFUSED = "text may not contain the NUL character (U+0000)";

/** Why a text with NUL was refused (a field issue's message). */
export const NUL_REFUSED_ISSUE = "Text may not contain the NUL character (U+0000)";

/** How deep a JSON value written to a field may nest: far beyond any document, far below the stack. */
export const JSON_FIELD_DEPTH = 256;

/**
 * The first problem of a JSON value about to be stored, or `undefined`: a string (value or key)
 * holding NUL, or nesting deeper than `maxDepth`. Walks without recursion, so no value is too
 * deep for the walk itself.
 */
export function jsonValueProblem(value: unknown, maxDepth: number): string | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item === "string") {
      if (item.includes(NUL)) return NUL_REFUSED_ISSUE;
      continue;
    }
    if (typeof item !== "object" || item === null) continue;
    if (depth > maxDepth) return `JSON may nest at most ${maxDepth} levels deep`;
    if (Array.isArray(item)) {
      for (const element of item) stack.push([element, depth + 1]);
      continue;
    }
    for (const key of Object.keys(item)) {
      if (key.includes(NUL)) return NUL_REFUSED_ISSUE;
      stack.push([(item as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return undefined;
}

/** How deep a JSON value nests (1 for a scalar), counted without recursion, up to `stopAt`. */
export function jsonDepth(value: unknown, stopAt: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (depth > deepest) deepest = depth;
    if (deepest > stopAt) return deepest;
    if (typeof item !== "object" || item === null) continue;
    for (const element of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof element === "object" && element !== null) stack.push([element, depth + 1]);
    }
  }
  return deepest;
}
