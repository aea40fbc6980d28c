/**
 * @internal Query strings of the collection routes, turned into the options of the data API.
 * @module
 */
import { invalidQuery as invalid } from "../errors/api-error.js";


function json(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return invalid(name, "is not valid JSON");
  }
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function wholeNumber(name: string, value: string): number {
  if (!/^\d+$/.test(value)) invalid(name, "expected a whole number from 0");
  return Number(value);
}

/** `-createdAt,title` → `[{ createdAt: "desc" }, { title: "asc" }]`. */
function orderBy(value: string): Record<string, "asc" | "desc">[] {
  const terms = list(value);
  if (terms.length === 0) invalid("orderBy", "expected field names, e.g. -createdAt,title");
  return terms.map((term) => (term.startsWith("-") ? { [term.slice(1)]: "desc" } : { [term.replace(/^\+/, "")]: "asc" }));
}

/**
 * `author,comments.author` → `{ author: true, comments: { include: { author: true } } }`; a
 * value starting with `{` is the include object as JSON.
 */
function include(value: string): Record<string, unknown> {
  if (value.trimStart().startsWith("{")) {
    const parsed = json("include", value);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) invalid("include", "expected an object");
    return parsed as Record<string, unknown>;
  }
  const root: Record<string, unknown> = {};
  for (const path of list(value)) {
    let level = root;
    const names = path.split(".");
    names.forEach((name, i) => {
      if (name === "") invalid("include", `"${path}" has an empty relation name`);
      const last = i === names.length - 1;
      const current = level[name];
      if (last) {
        if (current === undefined) level[name] = true;
        return;
      }
      const options = typeof current === "object" && current !== null ? (current as Record<string, unknown>) : {};
      level[name] = options;
      options["include"] ??= {};
      level = options["include"] as Record<string, unknown>;
    });
  }
  return root;
}

function bool(name: string, value: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  return invalid(name, "expected true or false");
}

/** The limits of list routes. */
export interface Limits {
  readonly defaultLimit: number;
  readonly maxLimit: number;
}

const READ = ["select", "include"];
const LIST = ["where", "orderBy", "limit", "offset", "cursor", "count", ...READ];

function single(params: URLSearchParams, allowed: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const [name, value] of params) {
    if (!allowed.includes(name)) invalid(name, `unknown query parameter (this route takes ${allowed.join(", ")})`);
    if (values.has(name)) invalid(name, "given more than once");
    values.set(name, value);
  }
  return values;
}

/** The `select`/`include` options of a route that returns one record. */
export function readOptions(params: URLSearchParams): Record<string, unknown> {
  const values = single(params, READ);
  const options: Record<string, unknown> = {};
  const select = values.get("select");
  if (select !== undefined) options["select"] = list(select);
  const includes = values.get("include");
  if (includes !== undefined) options["include"] = include(includes);
  return options;
}

/** The options of `list` from a query string; unknown parameters are errors. */
export function listOptions(params: URLSearchParams, limits: Limits): Record<string, unknown> {
  const values = single(params, LIST);
  const options: Record<string, unknown> = {};
  for (const [name, value] of values) {
    switch (name) {
      case "where":
        options["where"] = json("where", value);
        break;
      case "orderBy":
        options["orderBy"] = orderBy(value);
        break;
      case "limit":
        options["limit"] = wholeNumber("limit", value);
        if ((options["limit"] as number) > limits.maxLimit) invalid("limit", `at most ${limits.maxLimit}`);
        break;
      case "offset":
        options["offset"] = wholeNumber("offset", value);
        break;
      case "cursor":
        if (value !== "") options["cursor"] = value;
        break;
      case "count":
        options["count"] = bool("count", value);
        break;
      case "select":
        options["select"] = list(value);
        break;
      case "include":
        options["include"] = include(value);
        break;
    }
  }
  options["limit"] ??= limits.defaultLimit;
  return options;
}
