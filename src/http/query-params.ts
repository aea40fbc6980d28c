/**
 * @internal Query strings of the collection routes, turned into the options of the data API.
 * @module
 */
import { invalidQuery as invalid } from "../errors/api-error.js";
import { PROTOTYPE_KEYS } from "../define/object-keys.js";
import { parseJson, PROTOTYPE_KEY_REFUSED } from "./parse-json.js";

function json(name: string, value: string): unknown {
  try {
    return parseJson(value);
  } catch (error) {
    return invalid(name, error instanceof SyntaxError && error.message === PROTOTYPE_KEY_REFUSED ? PROTOTYPE_KEY_REFUSED : "is not valid JSON");
  }
}

/** Refuses a name that is a property of every object: it is never a field, a relation nor a parameter. */
export function checkKey(parameter: string, name: string): string {
  if (PROTOTYPE_KEYS.has(name)) invalid(parameter, `"${name}" is refused: it names a property of every object, not a field`);
  return name;
}

function list(parameter: string, value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
    .map((item) => checkKey(parameter, item));
}

function wholeNumber(name: string, value: string): number {
  if (!/^\d+$/.test(value)) invalid(name, "expected a whole number from 0");
  return Number(value);
}

/** `-createdAt,title` → `[{ createdAt: "desc" }, { title: "asc" }]`. */
function orderBy(value: string): Record<string, "asc" | "desc">[] {
  const terms = list("orderBy", value);
  if (terms.length === 0) invalid("orderBy", "expected field names, e.g. -createdAt,title");
  return terms.map((term) => {
    const desc = term.startsWith("-");
    const sort = Object.create(null) as Record<string, "asc" | "desc">;
    sort[checkKey("orderBy", desc ? term.slice(1) : term.replace(/^\+/, ""))] = desc ? "desc" : "asc";
    return sort;
  });
}

/** An object built from input: no prototype, so no key of it reaches one. */
function record(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
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
  const root = record();
  for (const path of value.split(",").map((item) => item.trim()).filter((item) => item.length > 0)) {
    let level = root;
    const names = path.split(".");
    names.forEach((name, i) => {
      if (name === "") invalid("include", `"${path}" has an empty relation name`);
      checkKey("include", name);
      const last = i === names.length - 1;
      const current = level[name];
      if (last) {
        if (current === undefined) level[name] = true;
        return;
      }
      const options = typeof current === "object" && current !== null ? (current as Record<string, unknown>) : record();
      level[name] = options;
      options["include"] ??= record();
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

/** The page sizes of list routes. */
export interface PageLimits {
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
  if (select !== undefined) options["select"] = list("select", select);
  const includes = values.get("include");
  if (includes !== undefined) options["include"] = include(includes);
  return options;
}

const SUBSCRIBE = ["where", "after", ...READ];

/** The options of a subscription from a query string (`where`, `select`, `include`, `after`). */
export function subscribeOptions(params: URLSearchParams): Record<string, unknown> {
  const values = single(params, SUBSCRIBE);
  const options: Record<string, unknown> = {};
  for (const [name, value] of values) {
    if (name === "where") options["where"] = json("where", value);
    else if (name === "select") options["select"] = list("select", value);
    else if (name === "include") options["include"] = include(value);
    else if (value !== "") options["after"] = value;
  }
  return options;
}

/** The options of `list` from a query string; unknown parameters are errors. */
export function listOptions(params: URLSearchParams, limits: PageLimits): Record<string, unknown> {
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
        options["select"] = list("select", value);
        break;
      case "include":
        options["include"] = include(value);
        break;
    }
  }
  options["limit"] ??= limits.defaultLimit;
  return options;
}
