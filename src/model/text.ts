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
 * The first problem of a JSON value, walked without recursion (so no value is too deep for the
 * walk itself): `"deep"` when it nests deeper than `maxDepth`, `"nul"` when `text` is checked
 * and a string (value or key) holds NUL; `undefined` when it has neither.
 */
export function jsonProblem(value: unknown, maxDepth: number, text: boolean): "deep" | "nul" | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item === "string") {
      if (text && item.includes(NUL)) return "nul";
      continue;
    }
    if (typeof item !== "object" || item === null) continue;
    if (depth > maxDepth) return "deep";
    if (Array.isArray(item)) {
      for (const element of item) stack.push([element, depth + 1]);
      continue;
    }
    for (const key of Object.keys(item)) {
      if (text && key.includes(NUL)) return "nul";
      stack.push([(item as Record<string, unknown>)[key], depth + 1]);
    }
  }
  return undefined;
}

/** Why a JSON value about to be stored is refused (a field issue's message), or `undefined`. */
export function jsonValueProblem(value: unknown, maxDepth: number): string | undefined {
  const problem = jsonProblem(value, maxDepth, true);
  if (problem === "nul") return NUL_REFUSED_ISSUE;
  return problem === "deep" ? `JSON may nest at most ${maxDepth} levels deep` : undefined;
}
