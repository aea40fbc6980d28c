/**
 * @internal The options of a read as the collection routes' query string: `where` and `include`
 * as JSON, `orderBy` as `-createdAt,title`, `select` as `title,rank`.
 * @module
 */

type Options = Readonly<Record<string, unknown>> | undefined;

/** `[{ createdAt: "desc" }, { title: "asc" }]` (or one object) → `-createdAt,title`. */
function orderBy(value: unknown): string {
  const terms: string[] = [];
  for (const sort of Array.isArray(value) ? value : [value]) {
    for (const [name, direction] of Object.entries(sort as Record<string, unknown>)) terms.push(direction === "desc" ? `-${name}` : name);
  }
  return terms.join(",");
}

/** The query string (with its `?`, or empty) of a read's options. */
export function queryString(options: Options): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(options ?? {})) {
    if (value === undefined || (name === "cursor" && value === null)) continue;
    params.set(
      name,
      name === "orderBy" ? orderBy(value) : name === "select" ? (value as string[]).join(",") : typeof value === "object" ? JSON.stringify(value) : String(value),
    );
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}
